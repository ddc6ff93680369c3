"""The working-day calendar as administrators keep it: a year's view, one day changed, next year's schedule
(国务院办公厅 publishes it each November) read from a list or from text, the calendar's change history.

The commands that change it (and replan the open work items' due times) are in engine.work.working_time;
here is what they check and store.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from engine.errors import Actor, FieldError, InvalidData, require_admin
from engine.store.tables import calendar_day, event_log, user_account
from engine.time.office_hours import bump_calendar_version, load_office_hours, work_calendar
from engine.time.working_days import office_today

WEEKDAYS = "一二三四五六日"
_RANGE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})(?:\s*(?:~|～|至|到|--|—)\s*(\d{4}-\d{1,2}-\d{1,2}))?$")
OFF_WORDS = {"休", "放假", "休息", "假", "off"}
ON_WORDS = {"班", "上班", "调休上班", "补班", "work"}


def _date(value, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidData([FieldError(field, f"日期“{value}”无效，格式为 YYYY-MM-DD")]) from None


def year_view(conn: Connection, year: int) -> dict:
    """Every day of a year: working or not, its note, where it came from, and whether it is known."""
    if not 2000 <= year <= 2100:
        raise InvalidData([FieldError("year", "年份必须在 2000 到 2100 之间")])
    rows = {
        row.day: row
        for row in conn.execute(
            select(calendar_day).where(calendar_day.c.day >= date(year, 1, 1), calendar_day.c.day <= date(year, 12, 31))
        )
    }
    days = []
    day = date(year, 1, 1)
    while day.year == year:
        row = rows.get(day)
        days.append(
            {
                "date": day.isoformat(),
                "weekday": WEEKDAYS[day.weekday()],
                "is_workday": bool(row.is_workday) if row else day.weekday() < 5,
                "note": row.note if row else None,
                "source": row.source if row else None,
                "known": row is not None,
            }
        )
        day += timedelta(days=1)
    return {"year": year, "known": bool(rows), "days": days, "range": known_range(conn)}


def known_range(conn: Connection) -> dict:
    cal = work_calendar(conn)
    return {
        "first": cal.first.isoformat() if cal.first else None,
        "last": cal.last.isoformat() if cal.last else None,
    }


def warning(conn: Connection, today: date) -> str | None:
    """For administrators, from 1 October of the year before a year the calendar does not cover."""
    cal = work_calendar(conn)
    if cal.last is None:
        return "工作日历为空：所有期限暂按周一至周五计算并标记为“未确认”。请导入节假日安排。"
    if today > cal.last:
        return (
            f"工作日历只到 {cal.last:%Y-%m-%d}：此后的期限暂按周一至周五计算并标记为“未确认”。"
            f"请尽快导入 {today.year} 年的节假日安排。"
        )
    missing = cal.last.year + 1 if cal.last >= date(cal.last.year, 12, 31) else cal.last.year
    if today >= date(missing - 1, 10, 1):
        return (
            f"尚未导入 {missing} 年的节假日安排：{missing} 年的期限暂按周一至周五计算并标记为“未确认”。"
            f"国务院办公厅通常在每年 11 月发布次年安排，发布后请在“工作日历”中导入。"
        )
    return None


def parse_schedule(text: str) -> tuple[list[dict], list[dict]]:
    """The plain-text form of a year's schedule, one line each:

        2027-01-01 至 2027-01-03 休 元旦
        2027-02-07 班 春节调休

    Returns (holidays [{start, end, name}], workdays [{date, name}]); errors name the line."""
    holidays, workdays, errors = [], [], []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        # The range may be written with spaces around 至/~: join the first tokens back until they parse.
        for take in (3, 1):
            match = _RANGE.match(" ".join(parts[:take]))
            if match:
                rest = parts[take:]
                break
        else:
            errors.append(FieldError("text", f"第 {number} 行：开头应为日期或日期范围，例如 2027-01-01 至 2027-01-03"))
            continue
        if not rest or rest[0] not in OFF_WORDS | ON_WORDS:
            errors.append(FieldError("text", f"第 {number} 行：日期后应写“休”或“班”"))
            continue
        name = " ".join(rest[1:]) or None
        start, end = match.group(1), match.group(2) or match.group(1)
        if rest[0] in OFF_WORDS:
            holidays.append({"start": start, "end": end, "name": name})
        elif start != end:
            day = _date(start, "text")
            while day <= _date(end, "text"):
                workdays.append({"date": day.isoformat(), "name": name})
                day += timedelta(days=1)
        else:
            workdays.append({"date": start, "name": name})
    if errors:
        raise InvalidData(errors)
    return holidays, workdays


def year_days(year, holidays, workdays) -> tuple[dict[date, tuple[bool, str | None]], list[FieldError]]:
    errors: list[FieldError] = []
    days: dict[date, tuple[bool, str | None]] = {}
    day = date(year, 1, 1)
    while day.year == year:
        days[day] = (day.weekday() < 5, None)
        day += timedelta(days=1)
    if not isinstance(holidays, list) or not isinstance(workdays, list):
        return days, [FieldError("holidays", "holidays 和 workdays 必须是列表")]
    for index, entry in enumerate(holidays):
        field = f"holidays[{index}]"
        if not isinstance(entry, dict):
            errors.append(FieldError(field, "每一项必须是 {start, end, name}"))
            continue
        try:
            start = _date(entry.get("start"), f"{field}.start")
            end = _date(entry.get("end") or entry.get("start"), f"{field}.end")
        except InvalidData as exc:
            errors += exc.errors
            continue
        if end < start or (end - start).days > 31:
            errors.append(FieldError(field, "结束日期必须不早于开始日期，且假期不超过 31 天"))
            continue
        if start.year != year or end.year != year:
            errors.append(FieldError(field, f"日期必须在 {year} 年内"))
            continue
        day = start
        while day <= end:
            days[day] = (False, str(entry.get("name") or "放假")[:100])
            day += timedelta(days=1)
    for index, entry in enumerate(workdays):
        field = f"workdays[{index}]"
        if not isinstance(entry, dict):
            errors.append(FieldError(field, "每一项必须是 {date, name}"))
            continue
        try:
            day = _date(entry.get("date"), f"{field}.date")
        except InvalidData as exc:
            errors += exc.errors
            continue
        if day.year != year:
            errors.append(FieldError(field, f"日期必须在 {year} 年内"))
            continue
        if days[day][0] is False and days[day][1] and day.weekday() < 5:
            errors.append(FieldError(field, f"{day} 已列为放假，不能同时调休上班"))
            continue
        name = str(entry.get("name") or "").strip()
        days[day] = (True, (name if "上班" in name else f"{name}调休上班" if name else "调休上班")[:100])
    return days, errors


def history(conn: Connection, limit: int = 50) -> list[dict]:
    """The calendar's audit trail, newest first."""
    rows = conn.execute(
        select(event_log.c.type, event_log.c.message, event_log.c.created_at, user_account.c.display_name)
        .outerjoin(user_account, user_account.c.id == event_log.c.actor_id)
        .where(event_log.c.type.in_(("calendar_changed", "office_hours_changed")))
        .order_by(event_log.c.id.desc())
        .limit(limit)
    )
    cal = work_calendar(conn)
    return [
        {
            "type": row.type,
            "message": row.message,
            "actor_name": row.display_name,
            "at": cal.local(row.created_at).isoformat(timespec="seconds"),
        }
        for row in rows
    ]


def check_day(day, is_workday, note) -> tuple[date, str | None]:
    """What an administrator sent for one day: (the day, the note), or InvalidData naming the field."""
    errors = []
    if not isinstance(is_workday, bool):
        errors.append(FieldError("is_workday", "请选择类型：工作日（is_workday 为 true）或休息日（false）"))
    if note is not None and (not isinstance(note, str) or len(note) > 100):
        errors.append(FieldError("note", "备注必须是文字，最多 100 个字"))
    the_day = _date(day, "date")
    if errors:
        raise InvalidData(errors)
    return the_day, (note or "").strip() or None


def store_day(conn: Connection, the_day: date, is_workday: bool, note: str | None) -> str:
    """Change one day (source: manual); returns the audit line that says what changed."""
    old = conn.execute(select(calendar_day).where(calendar_day.c.day == the_day)).first()
    before = bool(old.is_workday) if old else the_day.weekday() < 5
    if old is None:
        conn.execute(insert(calendar_day).values(day=the_day, is_workday=is_workday, note=note, source="manual"))
    else:
        conn.execute(
            update(calendar_day)
            .where(calendar_day.c.day == the_day)
            .values(is_workday=is_workday, note=note, source="manual")
        )
    bump_calendar_version(conn)
    label = {True: "工作日", False: "休息日"}
    message = f"{the_day:%Y-%m-%d}（周{WEEKDAYS[the_day.weekday()]}）由{label[before]}改为{label[is_workday]}"
    return message + (f"，备注：{note}" if note else "")


def check_year(year, holidays=None, workdays=None, text: str | None = None) -> dict[date, tuple[bool, str | None]]:
    """A year's schedule as sent (lists, or the text form): every day of the year with (working, note), or
    InvalidData naming each entry at fault."""
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise InvalidData([FieldError("year", "年份必须是 2000 到 2100 之间的整数")])
    if text is not None:
        if not isinstance(text, str):
            raise InvalidData([FieldError("text", "text 必须是文字")])
        holidays, workdays = parse_schedule(text)
    days, errors = year_days(year, holidays if holidays is not None else [], workdays if workdays is not None else [])
    if not errors and not any(not on and note for on, note in days.values()):
        errors.append(FieldError("holidays", "没有列出任何法定节假日，请检查内容"))
    if errors:
        raise InvalidData(errors)
    return days


def store_year(conn: Connection, year: int, days: dict[date, tuple[bool, str | None]]) -> str:
    """Replace one year of the calendar (source: import); returns the audit line."""
    conn.execute(
        delete(calendar_day).where(calendar_day.c.day >= date(year, 1, 1), calendar_day.c.day <= date(year, 12, 31))
    )
    conn.execute(
        insert(calendar_day),
        [{"day": day, "is_workday": on, "note": note, "source": "import"} for day, (on, note) in sorted(days.items())],
    )
    bump_calendar_version(conn)
    return f"导入 {year} 年节假日安排：法定节假日及调休放假 {holidays_in(days)} 天，调休上班 {makeup_days_in(days)} 天"


def holidays_in(days: dict) -> int:
    return sum(1 for on, note in days.values() if not on and note)


def makeup_days_in(days: dict) -> int:
    return sum(1 for day, (on, _note) in days.items() if on and day.weekday() >= 5)


# --- what administrators read (the changes are engine.work.working_time's commands) ----------------------


def year_calendar(core, actor: Actor, year: int | None, today: date | None = None) -> dict:
    """A year of the calendar (default: the office's current year) with the range it covers, the warning
    about next year and the office hours."""
    require_admin(actor)
    today = today or office_today()
    with core.db.read() as conn:
        view = year_view(conn, year or today.year)
        view["warning"] = warning(conn, today)
        view["office_hours"] = load_office_hours(conn).as_dict()
    return view


def change_history(core, actor: Actor, limit: int = 50) -> list[dict]:
    """Who changed the calendar or the office hours, and how, newest first."""
    require_admin(actor)
    with core.db.read() as conn:
        return history(conn, limit)


def current_office_hours(core, actor: Actor) -> dict:
    """The periods of a working day and the office's time zone."""
    require_admin(actor)
    with core.db.read() as conn:
        return load_office_hours(conn).as_dict()
