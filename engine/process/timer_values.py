"""BPMN timer expressions as designers write them.

SpiffWorkflow evaluates a timer's text as an expression, so it needs `"PT5M"` quoted; designers (and
Camunda Modeler) write bare ISO-8601 values: `PT5M`, `2026-12-01T09:00`, `R3/PT1H`. Bare values are
quoted once, in the copy of the file SpiffWorkflow parses (dialect.spiff_view); a naive date-time is
read in office time (Asia/Shanghai). Anything else is left as the expression it is.
"""

from __future__ import annotations

import re

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.process import limits

OFFICE_OFFSET = "+08:00"
_NUM = r"\d+(\.\d+)?"
_DURATION = rf"P(?!$)({_NUM}Y)?({_NUM}M)?({_NUM}W)?({_NUM}D)?(T(?=\d)({_NUM}H)?({_NUM}M)?({_NUM}S)?)?"
_DATETIME = r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
_DURATION_RE = re.compile(rf"^{_DURATION}$", re.IGNORECASE)
_DATETIME_RE = re.compile(rf"^{_DATETIME}$")
_CYCLE_RE = re.compile(rf"^R\d*/(({_DATETIME})/)?({_DURATION}|{_DATETIME})(/({_DURATION}))?$", re.IGNORECASE)
_NAIVE_TIME = re.compile(r"T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def caught_events(event_definition) -> list:
    """The event definitions one waiting task catches: itself, or each event of a multiple one — an
    event-based gateway (SpiffWorkflow moves its catch events' definitions onto the gateway) or a
    multiple / parallel-multiple event."""
    if isinstance(event_definition, MultipleEventDefinition):
        return list(event_definition.event_definitions)
    return [event_definition] if event_definition is not None else []


def has_timer(event_definition) -> bool:
    """Whether a task waiting on `event_definition` waits (also) on a timer."""
    return any(isinstance(event, TimerEventDefinition) for event in caught_events(event_definition))


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


def period_problem(tag: str, value: str) -> str | None:
    """Why a literal timer value would not wait at all: a negative duration (the library would read
    `-PT5M` as five minutes ahead), or a repeating timer faster than limits.TIMER_CYCLE_SECONDS, which would
    fire again and again within one command. None when the value is fine (or not one we can read here)."""
    text = value.strip()
    if any(part.startswith("-") for part in text.split("/")):
        return "时间值不能为负"
    if tag != "timeCycle":
        return None
    try:
        _cycles, _start, period = TimerEventDefinition.parse_iso_recurring_interval(text)
    except Exception:  # the library raises bare Exception; the caller reports unreadable values itself
        return None
    if period.total_seconds() < limits.TIMER_CYCLE_SECONDS:
        seconds = f"{period.total_seconds():g}"
        return f"重复周期为 {seconds} 秒，至少为 {limits.TIMER_CYCLE_SECONDS} 秒（周期为 0 会不停触发）"
    return None
