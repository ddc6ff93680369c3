"""Working days on the Chinese office calendar (法定节假日 + 调休) and deadlines counted on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from chinese_calendar import constants, get_holiday_detail, is_workday
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from engine.store.tables import calendar_day, utcnow
from engine.time.office_hours import WorkCalendar, bump_calendar_version, work_calendar

OFFICE_TZ = ZoneInfo("Asia/Shanghai")
PRIORITY_DAYS = {"紧急": 1, "重要": 2, "正常": 3}
PRIORITIES = tuple(PRIORITY_DAYS)
# chinesecalendar names its holidays in English; the calendar shows them as the State Council does.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def seed_from_chinesecalendar(conn: Connection) -> int:
    """Fill calendar_day for every year the chinesecalendar package covers; keep days already there
    (an administrator may have edited them). Returns the number of rows added."""
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
                note = HOLIDAY_NAMES.get(name, name)
            elif workday and day.weekday() >= 5:
                note = "调休上班"
            rows.append({"day": day, "is_workday": workday, "note": note, "source": "chinesecalendar"})
        day += timedelta(days=1)
    for start in range(0, len(rows), 2000):
        conn.execute(insert(calendar_day), rows[start : start + 2000])
    if rows:
        bump_calendar_version(conn)
    return len(rows)


def known_range(core) -> tuple[date | None, date | None]:
    """The first and last day the calendar knows (imported or seeded)."""
    with core.db.read() as conn:
        cal = work_calendar(conn)
    return cal.first, cal.last


def seed(core) -> tuple[int, date | None, date | None]:
    """Fill the calendar from the chinesecalendar package (see `seed_from_chinesecalendar`): the days
    added and the range the calendar covers now."""
    with core.db.write() as conn:
        added = seed_from_chinesecalendar(conn)
        cal = work_calendar(conn)
    return added, cal.first, cal.last


def count_working_days(
    cal: WorkCalendar, start: date, end: date, *, start_afternoon: bool = False, end_morning: bool = False
) -> float:
    """Working days from `start` to `end`, both included, on the calendar (法定节假日 off, 调休 make-up days
    on; past the known calendar Monday–Friday). Starting in the afternoon (下午) or ending at noon (上午)
    counts that day as half a day when it is a working day. 0 when the range is empty (end before start, or
    one day from the afternoon to the morning). Pure arithmetic: the caller bounds the range."""
    if end < start or (start == end and start_afternoon and end_morning):
        return 0.0
    total = 0.0
    day = start
    while day <= end:
        if cal.is_workday(day):
            total += 1.0
        day += timedelta(days=1)
    if start_afternoon and cal.is_workday(start):
        total -= 0.5
    if end_morning and cal.is_workday(end):
        total -= 0.5
    return total


@dataclass(frozen=True)
class Deadline:
    due_at: datetime  # naive UTC
    confirmed: bool  # False: counted past the known calendar on Monday–Friday (未确认)
    rule: str  # e.g. "3 个工作日（正常）", "4 个工作小时（节点时限）"


def deadline(
    cal: WorkCalendar, created_utc: datetime, priority: str, limit: tuple[str, float] | None = None, paused_minutes=0
) -> Deadline:
    """The due time of a work item created at `created_utc`: the end of office hours on the Nth working day
    after that day (N by priority: 紧急 1, 重要 2, 正常 3), unless the node sets its own `limit`
    (("days", n) or ("hours", n), from the node's due_days / due_hours). `paused_minutes` of suspension
    (挂起) move it out by as much office time."""
    if limit and limit[0] == "hours":
        due, confirmed = cal.add_working_minutes(created_utc, limit[1] * 60)
        rule = f"{limit[1]:g} 个工作小时（节点时限）"
    else:
        days = int(limit[1]) if limit else PRIORITY_DAYS.get(priority, 3)
        day, confirmed = cal.nth_working_day_after(cal.local(created_utc).date(), days)
        due = cal.end_of_day(day)
        rule = f"{days} 个工作日（{'节点时限' if limit else priority or '正常'}）"
    if paused_minutes:
        due, still = cal.add_working_minutes(due, paused_minutes)
        confirmed = confirmed and still
    return Deadline(due, confirmed, rule)


def is_confirmed(cal: WorkCalendar, due: datetime | None) -> bool:
    """Whether a due time falls inside the known calendar (else it is shown as 未确认)."""
    if due is None:
        return True
    return cal.last is not None and cal.local(due).date() <= cal.last


def to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=ZoneInfo("UTC")).astimezone(OFFICE_TZ)


def office_today() -> date:
    """Today's date in the office (after 16:00 UTC it is already tomorrow in Shanghai)."""
    return to_local(utcnow()).date()


def local_iso(value: datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 in office time, to the second; None stays None."""
    local = to_local(value)
    return local.isoformat(timespec="seconds") if local else None
