"""count_working_days: the pure count behind the computed 天数 of a leave — working days on the calendar,
法定节假日 off and 调休 make-up days on, half days at either end, Monday–Friday past the known calendar."""

from __future__ import annotations

from datetime import date

import pytest

from engine.time.office_hours import OfficeHours, WorkCalendar
from engine.time.working_days import count_working_days

# A small calendar: 2026-10-01..07 国庆 off, Saturday 2026-10-10 a 调休 working day; the rest unknown.
NATIONAL_DAY = {date(2026, 10, d): False for d in range(1, 8)} | {date(2026, 10, 10): True}
CAL = WorkCalendar(NATIONAL_DAY, OfficeHours())


def count(start, end, **halves) -> float:
    return count_working_days(CAL, date.fromisoformat(start), date.fromisoformat(end), **halves)


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        ("2026-11-23", "2026-11-23", 1),  # a Monday
        ("2026-11-23", "2026-11-27", 5),
        ("2026-11-23", "2026-11-29", 5),  # the weekend is not counted
        ("2026-11-28", "2026-11-29", 0),
        ("2026-09-28", "2026-10-12", 7),  # 9-28..30, 10-08, 09, 10 (调休 Saturday), 12
        ("2026-10-01", "2026-10-07", 0),
        ("2026-10-10", "2026-10-10", 1),
        ("2026-11-24", "2026-11-23", 0),  # end before start: an empty range
    ],
)
def test_whole_days(start, end, days):
    assert count(start, end) == days


@pytest.mark.parametrize(
    ("start", "end", "halves", "days"),
    [
        ("2026-11-23", "2026-11-23", {"end_morning": True}, 0.5),
        ("2026-11-23", "2026-11-23", {"start_afternoon": True}, 0.5),
        ("2026-11-23", "2026-11-23", {"start_afternoon": True, "end_morning": True}, 0),  # empty
        ("2026-11-23", "2026-11-25", {"start_afternoon": True, "end_morning": True}, 2),
        ("2026-11-23", "2026-11-25", {"end_morning": True}, 2.5),
        # half a day off on a day that is off anyway counts nothing
        ("2026-11-21", "2026-11-24", {"start_afternoon": True}, 2),
        ("2026-11-23", "2026-11-29", {"end_morning": True}, 5),
        ("2026-09-30", "2026-10-08", {"start_afternoon": True, "end_morning": True}, 1),
    ],
)
def test_half_days(start, end, halves, days):
    assert count(start, end, **halves) == days


def test_the_count_follows_what_the_calendar_says_not_the_weekday():
    # An administrator marks Tuesday 2026-11-24 off (e.g. a local holiday): one day fewer.
    edited = WorkCalendar({date(2026, 11, 24): False}, OfficeHours())
    assert count_working_days(edited, date(2026, 11, 23), date(2026, 11, 27)) == 4
