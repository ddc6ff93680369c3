"""FEEL as Camunda 8 (Zeebe) designers write simple conditions (`= approved`, `= amount > 1000 and kind = "年假"`,
`= not(urgent)`), turned into the Python-like syntax the safe evaluator reads — as juel.py does for JUEL.

Only the simple part of FEEL is translated: names, string and number literals, `true`/`false`/`null`,
comparisons (`=` is equality), `and`/`or`/`not(…)`. The result is a plain expression string: it is parsed
and whitelisted by expressions.compile_expression like any other, never evaluated here. Anything else FEEL
can do (ranges, `for`/`some`, functions, contexts) is left as written, so the whitelist refuses it with the
expression named.
"""

from __future__ import annotations

import re

# A FEEL expression in a BPMN attribute or element starts with `=` (a bare `==` is not FEEL).
_FEEL = re.compile(r"^\s*=(?!=)(.*)$", re.S)
# String literals are kept out of the rewriting; FEEL strings are double-quoted.
_STRINGS = re.compile(r"(\"(?:[^\"\\]|\\.)*\")")
_TOKENS = [
    (re.compile(r"(?<![<>!=])=(?!=)"), "=="),  # FEEL equality is a single `=`
    (re.compile(r"\bnot\s*\("), "not ("),
    (re.compile(r"\bnull\b"), "None"),
]


SUPPORTED = "oaflow 只翻译简单的 FEEL 条件：变量、数字与字符串、比较（= != < <= > >=）、and / or / not(…)"


def is_feel(expression: str) -> bool:
    return bool(_FEEL.match(expression or ""))


def normalize(expression: str) -> str:
    """The expression without its leading `=`, FEEL operators spelled the evaluator's way; other text alone."""
    match = _FEEL.match(expression or "")
    if not match:
        return expression
    parts = _STRINGS.split(match.group(1))
    for i in range(0, len(parts), 2):
        for pattern, repl in _TOKENS:
            parts[i] = pattern.sub(repl, parts[i])
    return "".join(parts).strip()
