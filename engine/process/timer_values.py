"""BPMN timer expressions as designers write them.

SpiffWorkflow evaluates a timer's text as an expression, so it needs `"PT5M"` quoted; designers (and
Camunda Modeler) write bare ISO-8601 values: `PT5M`, `2026-12-01T09:00`, `R3/PT1H`. Bare values are
quoted once, in the copy of the file SpiffWorkflow parses (dialect.spiff_view); a naive date-time is
read in office time (Asia/Shanghai). Anything else is left as the expression it is.
"""

from __future__ import annotations

import re

OFFICE_OFFSET = "+08:00"
_NUM = r"\d+(\.\d+)?"
_DURATION = rf"P(?!$)({_NUM}Y)?({_NUM}M)?({_NUM}W)?({_NUM}D)?(T(?=\d)({_NUM}H)?({_NUM}M)?({_NUM}S)?)?"
_DATETIME = r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
_DURATION_RE = re.compile(rf"^{_DURATION}$", re.IGNORECASE)
_DATETIME_RE = re.compile(rf"^{_DATETIME}$")
_CYCLE_RE = re.compile(rf"^R\d*/(({_DATETIME})/)?({_DURATION}|{_DATETIME})(/({_DURATION}))?$", re.IGNORECASE)
_NAIVE_TIME = re.compile(r"T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def quote_bare(expression: str | None) -> str | None:
    """`PT5M` → `"PT5M"`; a quoted value or any other expression is returned unchanged."""
    if expression is None:
        return None
    text = expression.strip()
    if _DURATION_RE.match(text) or _CYCLE_RE.match(text):
        return f'"{text.upper()}"'
    if _DATETIME_RE.match(text):
        if _NAIVE_TIME.search(text):
            text += OFFICE_OFFSET
        elif "T" not in text:
            text += "T00:00:00" + OFFICE_OFFSET
        return f'"{text}"'
    return expression
