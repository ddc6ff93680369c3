"""Working days on the Chinese office calendar (法定节假日 + 调休) and deadlines counted on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from engine.store.tables import calendar_day
from engine.time.office_hours import bump_calendar_version, work_calendar

OFFICE_TZ = ZoneInfo("Asia/Shanghai")
OFFICE_END = time(17, 30)
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


@dataclass(frozen=True)
class Deadline:
    due_at: datetime  # naive UTC
    confirmed: bool  # False: counted past the known calendar on Monday–Friday (未确认)
    rule: str  # e.g. "3 个工作日（正常）", "4 个工作小时（节点时限）"


def node_limit(node) -> tuple[str, float] | None:
    """A user task's own limit from its BPMN properties: ("hours", n) for `due_hours`, ("days", n) for
    `due_days`, or None (then the instance priority decides). Unreadable values are ignored."""
    props = getattr(node, "properties", None) or (node if isinstance(node, dict) else {})
    for kind, key in (("hours", "due_hours"), ("days", "due_days")):
        raw = str(props.get(key, "") or "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            continue
        if value > 0 and (kind == "hours" or value == int(value)):
            return kind, value
    return None


def deadline(conn: Connection, created_utc: datetime, priority: str, node=None, paused_minutes: float = 0) -> Deadline:
    """The due time of a work item created at `created_utc`: the end of office hours on the Nth working day
    after that day (N by priority: 紧急 1, 重要 2, 正常 3), unless the node sets its own limit in working
    days or working hours. `paused_minutes` of suspension (挂起) move it out by as much office time."""
    cal = work_calendar(conn)
    limit = node_limit(node) if node is not None else None
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


def deadline_for(conn: Connection, created_utc: datetime, priority: str, node=None) -> datetime:
    """The due time of a new work item (see `deadline`): the one place that decides it."""
    return deadline(conn, created_utc, priority, node).due_at


def is_confirmed(conn: Connection, due: datetime | None) -> bool:
    """Whether a due time falls inside the known calendar (else it is shown as 未确认)."""
    if due is None:
        return True
    cal = work_calendar(conn)
    return cal.last is not None and cal.local(due).date() <= cal.last


def to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=ZoneInfo("UTC")).astimezone(OFFICE_TZ)
