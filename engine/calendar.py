"""Working days on the Chinese office calendar (法定节假日 + 调休) and deadlines counted on it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from .db import calendar_day

OFFICE_TZ = ZoneInfo("Asia/Shanghai")
OFFICE_END = time(17, 30)
PRIORITY_DAYS = {"紧急": 1, "重要": 2, "正常": 3}
PRIORITIES = tuple(PRIORITY_DAYS)


def seed_from_chinesecalendar(conn: Connection) -> int:
    """Fill calendar_day for every year the chinesecalendar package covers; keep days already there
    (an administrator may have edited them). Returns the number of rows added."""
    from chinese_calendar import constants, get_holiday_detail, is_workday

    first_year = min(constants.holidays).year
    last_year = max(max(constants.holidays), max(constants.workdays)).year
    existing = {row.day for row in conn.execute(select(calendar_day.c.day))}
    rows = []
    day = date(first_year, 1, 1)
    end = date(last_year, 12, 31)
    while day <= end:
        if day not in existing:
            workday = is_workday(day)
            holiday, name = get_holiday_detail(day)
            note = None
            if holiday and name:
                note = name
            elif workday and day.weekday() >= 5:
                note = "调休上班"
            rows.append({"day": day, "is_workday": workday, "note": note, "source": "chinesecalendar"})
        day += timedelta(days=1)
    for start in range(0, len(rows), 2000):
        conn.execute(insert(calendar_day), rows[start : start + 2000])
    return len(rows)


def known_range(conn: Connection) -> tuple[date | None, date | None]:
    row = conn.execute(select(func.min(calendar_day.c.day), func.max(calendar_day.c.day))).first()
    return (row[0], row[1]) if row else (None, None)


def is_workday(conn: Connection, day: date) -> bool:
    value = conn.execute(select(calendar_day.c.is_workday).where(calendar_day.c.day == day)).scalar()
    return day.weekday() < 5 if value is None else bool(value)


def add_working_days(conn: Connection, start: date, count: int) -> tuple[date, bool]:
    """The `count`-th working day strictly after `start`, and whether the calendar confirmed every day
    on the way (days past the known range fall back to Monday–Friday: 未确认)."""
    horizon = start + timedelta(days=max(30, count * 7 + 30))
    known = {
        row.day: bool(row.is_workday)
        for row in conn.execute(
            select(calendar_day.c.day, calendar_day.c.is_workday).where(
                calendar_day.c.day > start, calendar_day.c.day <= horizon
            )
        )
    }
    confirmed = True
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if day in known:
            workday = known[day]
        else:
            confirmed = False
            workday = day.weekday() < 5
        if workday:
            remaining -= 1
    return day, confirmed


def due_at(conn: Connection, created_utc: datetime, priority: str) -> datetime:
    """End of office hours on the Nth working day after creation, as naive UTC."""
    local_day = created_utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(OFFICE_TZ).date()
    day, _ = add_working_days(conn, local_day, PRIORITY_DAYS.get(priority, 3))
    local_end = datetime.combine(day, OFFICE_END, tzinfo=OFFICE_TZ)
    return local_end.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def deadline_for(conn: Connection, created_utc: datetime, priority: str, node=None) -> datetime:
    """The due time of a new work item: by the instance priority (a node may later set its own limit)."""
    return due_at(conn, created_utc, priority)


def to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=ZoneInfo("UTC")).astimezone(OFFICE_TZ)
