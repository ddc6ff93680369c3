"""What one command may do: the budgets that keep any definition from holding the write lock for long.

One rule, one place. Every command runs its engine work against a fresh `Budget`; a definition that would
exceed one of these numbers is refused at deploy where the value is literal (a timer period, a
loopCardinality, a script's length, an expression's nesting) and stopped at run time where it is computed,
with an error that names the BPMN element. Times are the command thread's CPU time, so a busy machine does
not make a sound process fail.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

# --- per command (run time) ---------------------------------------------------------------------------
ENGINE_STEPS = 5000  # SpiffWorkflow tasks run (gateways, events, scripts …)
TIMER_FIRINGS = 50  # timer events that fire (a non-interrupting cycle fires again and again)
WORK_ITEMS = 500  # work items one command may open (a 会签 of a large role, multi-instance children)
MESSAGE_STARTS = 100  # instances the messages thrown in one command may start (分发 to every unit)
ENGINE_SECONDS = 1.0  # CPU time spent moving the instance on (checked after each step)
SCRIPT_SECONDS = 0.5  # CPU time of one script (checked after each line), so a step ends soon after the above

# --- per value (run time) ------------------------------------------------------------------------------
VALUE_ITEMS = 100_000  # elements of one value, nested lists counted each time they are referenced
VALUE_CHARS = 1_000_000  # characters of one value, likewise

# --- per definition (deploy time; also enforced at run time where the value is computed) ---------------
LOOP_CARDINALITY = 200  # signers of one multi-instance node
SCRIPT_LINES = 200  # non-blank lines of one script
SCRIPT_CHARS = 20_000  # characters of one script
EXPRESSION_DEPTH = 40  # nesting of one expression
EXPRESSION_CHARS = 2000  # characters of one expression (one script line)
ROUND_DIGITS = 20  # round()'s precision either way (round(1, -10**9) would compute 10**(10**9))
INT_BITS = 4096  # a product's size (`a = a * a` line after line doubles the digits)
TIMER_CYCLE_SECONDS = 60  # the shortest period of a repeating timer


class BudgetExceeded(Exception):
    """One command would do more than its budget allows; `what` says which budget, in Chinese."""

    def __init__(self, what: str, element: str | None = None):
        super().__init__(what)
        self.what = what
        self.element = element


@dataclass
class Budget:
    """What one command has spent so far. Created with the command's case, charged by the engine steps,
    timer firings and work items it causes."""

    steps: int = 0
    timers: int = 0
    items: int = 0
    message_starts: int = 0
    started: float = field(default_factory=time.thread_time)

    def step(self, element: str | None = None) -> None:
        self.steps += 1
        if self.steps > ENGINE_STEPS:
            raise BudgetExceeded(f"一次操作最多执行 {ENGINE_STEPS} 个流程步骤，流程可能在循环", element)
        if time.thread_time() - self.started > ENGINE_SECONDS:
            raise BudgetExceeded(f"一次操作的流程计算超过 {ENGINE_SECONDS:g} 秒", element)

    def timer_fired(self, element: str | None = None) -> None:
        self.timers += 1
        if self.timers > TIMER_FIRINGS:
            raise BudgetExceeded(f"一次操作最多触发 {TIMER_FIRINGS} 次定时事件，定时周期可能过短", element)

    def message_started(self, element: str | None = None) -> None:
        self.message_starts += 1
        if self.message_starts > MESSAGE_STARTS:
            raise BudgetExceeded(f"一次操作发出的消息最多启动 {MESSAGE_STARTS} 个流程，消息可能在循环", element)

    def open_items(self, count: int, element: str | None = None) -> None:
        self.items += count
        if self.items > WORK_ITEMS:
            raise BudgetExceeded(f"一次操作最多创建 {WORK_ITEMS} 个待办（本次需要 {self.items} 个）", element)


def value_size(value, items: int = VALUE_ITEMS, chars: int = VALUE_CHARS) -> None:
    """Raise ValueError when `value` holds more than `items` elements or `chars` characters, counting a
    list each time it is referenced (as the stored JSON would), or what JSON cannot store (a dict key that
    is not text, a set). Stops as soon as a limit is passed."""
    stack = [value]
    count = length = 0
    while stack:
        current = stack.pop()
        count += 1
        if isinstance(current, (str, bytes)):
            length += len(current)
        elif isinstance(current, dict):
            key = next((k for k in current if not isinstance(k, str)), None)
            if key is not None:  # JSON has text keys only: the instance could not be saved
                raise ValueError(f"字典的键必须是文本，得到 {key!r}（可写成 {str(key)!r}）")
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, (set, frozenset)):
            raise ValueError("集合（set）无法保存，请改用列表")
        elif isinstance(current, (list, tuple)):
            stack.extend(current)
        if count + len(stack) > items:
            raise ValueError(f"值过大：超过 {items} 个元素")
        if length > chars:
            raise ValueError(f"值过大：超过 {chars} 个字符")
