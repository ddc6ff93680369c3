"""Changes to working time — the 工作日历 and the office hours — and what they move: the due times of the
open work items, recomputed in the same transaction (administrators only, every change audited)."""

from __future__ import annotations

from engine.errors import Forbidden
from engine.org import users
from engine.store import audit
from engine.time import calendar_admin
from engine.time.office_hours import parse_office_hours, save_office_hours
from engine.work.kernel import items


def _admin(conn, username: str) -> users.User:
    user = users.require_user(conn, username)
    if not user.is_admin:
        raise Forbidden("只有管理员可以维护工作日历")
    return user


def set_day(core, username: str, day, is_workday, note: str | None = None) -> dict:
    """Change one day (e.g. a local 调休)."""
    the_day, note = calendar_admin.check_day(day, is_workday, note)
    with core.db.write() as conn:
        user = _admin(conn, username)
        message = calendar_admin.store_day(conn, the_day, is_workday, note)
        audit.record(conn, "calendar_changed", actor_id=user.id, message=message)
        changed = items.recompute_due_times(core, conn)
    return {"date": the_day.isoformat(), "is_workday": is_workday, "note": note, "recomputed": changed}


def import_year(core, username: str, year, holidays=None, workdays=None, text: str | None = None) -> dict:
    """Replace one year of the calendar with the State Council's schedule: Monday–Friday working, the listed
    holidays off, the listed make-up days (调休) on. Nothing is stored when any entry is wrong."""
    days = calendar_admin.check_year(year, holidays, workdays, text)
    with core.db.write() as conn:
        user = _admin(conn, username)
        message = calendar_admin.store_year(conn, year, days)
        audit.record(conn, "calendar_changed", actor_id=user.id, message=message)
        changed = items.recompute_due_times(core, conn)
    return {
        "year": year,
        "holidays": calendar_admin.holidays_in(days),
        "workdays": calendar_admin.makeup_days_in(days),
        "recomputed": changed,
    }


def set_office_hours(core, username: str, timezone_name, periods) -> dict:
    """办公时间: the periods of a working day and the office's time zone."""
    hours = parse_office_hours(timezone_name, periods)
    with core.db.write() as conn:
        user = _admin(conn, username)
        save_office_hours(conn, hours)
        periods_text = "、".join(hours.as_dict()["periods"])
        audit.record(
            conn, "office_hours_changed", actor_id=user.id, message=f"办公时间改为 {periods_text}（{hours.tz_name}）"
        )
        changed = items.recompute_due_times(core, conn)
    return {**hours.as_dict(), "recomputed": changed}
