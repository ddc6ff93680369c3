"""Working time as administrators keep it — the 工作日历 and the office hours: the calendar page, and the
changes, which recompute the due times of the open work items in the same transaction. Refused to anyone but
an administrator before the input is read; every change is audited."""

from __future__ import annotations

from engine.errors import require_admin
from engine.org import users
from engine.store import audit
from engine.time import calendar_admin
from engine.time.office_hours import load_office_hours, parse_office_hours, save_office_hours
from engine.time.working_days import office_today
from engine.work import frame
from engine.work.kernel import items


def calendar_page(core, user: users.User, year: int | None) -> dict:
    """工作日历: every day of a year (default: this year in the office), the office hours, the latest
    changes, and `today` in the office (which the page marks)."""
    require_admin(user)
    today = office_today()
    year = year or today.year
    with core.db.read() as conn:
        return {
            "year": year,
            "today": today,
            "view": calendar_admin.year_view(conn, year),
            "hours": load_office_hours(conn).as_dict(),
            "history": calendar_admin.history(conn, 20),
            "layout": frame.figures(conn, user),
        }


def set_day(core, username: str, day, is_workday, note: str | None = None) -> dict:
    """Change one day (e.g. a local 调休)."""
    with core.db.write() as conn:
        user = users.require_admin(conn, username)
        the_day, note = calendar_admin.check_day(day, is_workday, note)
        message = calendar_admin.store_day(conn, the_day, is_workday, note)
        audit.record(conn, "calendar_changed", actor_id=user.id, message=message)
        changed = items.recompute_due_times(core, conn)
    return {"date": the_day.isoformat(), "is_workday": is_workday, "note": note, "recomputed": changed}


def import_year(core, username: str, year, holidays=None, workdays=None, text: str | None = None) -> dict:
    """Replace one year of the calendar with the State Council's schedule: Monday–Friday working, the listed
    holidays off, the listed make-up days (调休) on. Nothing is stored when any entry is wrong."""
    with core.db.write() as conn:
        user = users.require_admin(conn, username)
        days = calendar_admin.check_year(year, holidays, workdays, text)
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
    with core.db.write() as conn:
        user = users.require_admin(conn, username)
        hours = parse_office_hours(timezone_name, periods)
        save_office_hours(conn, hours)
        periods_text = "、".join(hours.as_dict()["periods"])
        audit.record(
            conn, "office_hours_changed", actor_id=user.id, message=f"办公时间改为 {periods_text}（{hours.tz_name}）"
        )
        changed = items.recompute_due_times(core, conn)
    return {**hours.as_dict(), "recomputed": changed}
