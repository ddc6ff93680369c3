"""Working-time arithmetic on a calendar built by hand (no database): working days across holidays and 调休,
office minutes across lunch and nights, deadlines by priority and node limit, suspension, 未确认."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.time.office_hours import OfficeHours, WorkCalendar
from engine.time.working_days import deadline, is_confirmed

SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")


def october_2025() -> WorkCalendar:
    """September 29 to October 31, 2025: 国庆 and 中秋 off 10-01…10-08, Saturday 10-11 a make-up day."""
    days = {}
    day = date(2025, 9, 29)
    while day <= date(2025, 10, 31):
        days[day] = day.weekday() < 5
        day += timedelta(days=1)
    for offset in range(8):
        days[date(2025, 10, 1) + timedelta(days=offset)] = False
    days[date(2025, 10, 11)] = True
    return WorkCalendar(days, OfficeHours())


def utc(*args) -> datetime:
    """Office time (Beijing) as the naive UTC the tables store."""
    return datetime(*args, tzinfo=SH).astimezone(UTC).replace(tzinfo=None)


def local(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC).astimezone(SH).replace(tzinfo=None)


CAL = october_2025()


@pytest.mark.parametrize(
    ("count", "expected"), [(1, date(2025, 10, 9)), (3, date(2025, 10, 11)), (4, date(2025, 10, 13))]
)
def test_working_days_skip_the_holiday_and_count_the_make_up_saturday(count, expected):
    assert CAL.nth_working_day_after(date(2025, 9, 30), count) == (expected, True)


def test_days_past_the_calendar_count_monday_to_friday_and_are_unconfirmed():
    day, confirmed = CAL.nth_working_day_after(date(2025, 10, 30), 3)
    assert day == date(2025, 11, 4) and confirmed is False


def test_office_minutes_skip_lunch_nights_and_days_off():
    start = utc(2025, 9, 30, 11, 0)
    assert CAL.working_minutes_between(start, utc(2025, 9, 30, 17, 30)) == 60 + 240
    assert local(CAL.add_working_minutes(start, 90)[0]) == datetime(2025, 9, 30, 14, 0)
    # 16:00 on the last day before the holiday, plus 3 working hours: 1.5 h that day, 1.5 h on 10-09
    assert local(CAL.add_working_minutes(utc(2025, 9, 30, 16, 0), 180)[0]) == datetime(2025, 10, 9, 10, 0)
    assert local(CAL.sub_working_minutes(utc(2025, 10, 9, 9, 30), 120)) == datetime(2025, 9, 30, 16, 30)
    assert CAL.working_minutes_between(utc(2025, 10, 2, 9, 0), utc(2025, 10, 5, 9, 0)) == 0


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        ("紧急", datetime(2025, 10, 9, 17, 30)),
        ("重要", datetime(2025, 10, 10, 17, 30)),
        ("正常", datetime(2025, 10, 11, 17, 30)),
    ],
)
def test_deadlines_by_priority(priority, expected):
    result = deadline(CAL, utc(2025, 9, 30, 10, 0), priority)
    assert local(result.due_at) == expected and result.confirmed
    assert result.rule.endswith(f"（{priority}）")


def test_a_node_limit_overrides_the_priority():
    created = utc(2025, 9, 30, 16, 0)
    assert local(deadline(CAL, created, "紧急", ("days", 5)).due_at) == datetime(2025, 10, 14, 17, 30)
    hours = deadline(CAL, created, "正常", ("hours", 4))
    assert local(hours.due_at) == datetime(2025, 10, 9, 11, 0)
    assert hours.rule == "4 个工作小时（节点时限）"


def test_suspended_time_moves_the_deadline_out_by_office_minutes():
    plain = deadline(CAL, utc(2025, 9, 30, 10, 0), "紧急")
    paused = deadline(CAL, utc(2025, 9, 30, 10, 0), "紧急", paused_minutes=60)
    assert local(plain.due_at) == datetime(2025, 10, 9, 17, 30)
    assert local(paused.due_at) == datetime(2025, 10, 10, 9, 30)  # the next office hour


def test_a_deadline_past_the_calendar_is_unconfirmed():
    result = deadline(CAL, utc(2025, 10, 30, 10, 0), "正常")
    assert local(result.due_at) == datetime(2025, 11, 4, 17, 30)
    assert result.confirmed is False
    assert is_confirmed(CAL, result.due_at) is False and is_confirmed(CAL, utc(2025, 10, 31, 17, 30)) is True
