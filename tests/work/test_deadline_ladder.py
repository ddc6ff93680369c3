"""The deadline ladder of one work item (escalation.plan), as arithmetic: which step is next and when, for the
default policy, without an early reminder, and when the node acts on its own at the due time."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.process.model import Node
from engine.process.policy import policy_of
from engine.time.office_hours import OfficeHours, WorkCalendar
from engine.work.escalation import plan

SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
# November 2025, Monday to Friday.
CAL = WorkCalendar(
    {date(2025, 11, 1) + timedelta(days=n): (date(2025, 11, 1) + timedelta(days=n)).weekday() < 5 for n in range(30)},
    OfficeHours(),
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC).replace(tzinfo=None)


def policy(**props):
    return policy_of(Node("n", "userTask", "n", None, properties=props))


DUE = utc(2025, 11, 7, 17, 30)  # Friday close of office


def test_the_default_ladder():
    now = utc(2025, 11, 6, 9, 0)
    assert plan(CAL, DUE, policy(), set(), now) == ("remind", utc(2025, 11, 7, 15, 30))  # 2 working hours before
    assert plan(CAL, DUE, policy(), {"remind"}, now) == ("overdue", DUE)
    # one working day after the due time: Monday 17:30 (the weekend does not count)
    assert plan(CAL, DUE, policy(), {"remind", "overdue"}, now) == ("escalate2", utc(2025, 11, 10, 17, 30))
    assert plan(CAL, DUE, policy(), {"remind", "overdue", "escalate2"}, now) == ("done", None)


def test_no_early_reminder_when_the_node_says_none_or_it_is_already_late():
    assert plan(CAL, DUE, policy(remind_hours="0"), set(), utc(2025, 11, 6, 9, 0)) == ("overdue", DUE)
    assert plan(CAL, DUE, policy(), set(), utc(2025, 11, 8, 9, 0)) == ("overdue", DUE)


def test_a_node_that_acts_on_expiry_is_not_escalated_after_it():
    assert plan(CAL, DUE, policy(on_expiry="approve"), {"remind", "overdue"}, DUE) == ("done", None)
    assert plan(CAL, DUE, policy(on_expiry="transfer", remind_hours="3"), set(), DUE - timedelta(hours=4)) == (
        "remind",
        utc(2025, 11, 7, 14, 30),
    )
