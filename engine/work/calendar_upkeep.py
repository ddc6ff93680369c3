"""The 工作日历 and 办公时间 as administrators keep them from the pages and the API: the calendar page, and the
changes, refused to anyone else before their input is read (engine.work.working_time makes them and
replans the open work items' due times)."""

from __future__ import annotations

from engine.errors import require_admin
from engine.org import users
from engine.time import calendar_admin
from engine.time.office_hours import load_office_hours
from engine.work import working_time
from engine.work.layout import layout_data


def calendar_page(core, user: users.User, year: int) -> dict:
    """工作日历: every day of a year, the office hours and the latest changes."""
    require_admin(user)
    with core.db.read() as conn:
        return {
            "view": calendar_admin.year_view(conn, year),
            "hours": load_office_hours(conn).as_dict(),
            "history": calendar_admin.history(conn, 20),
            "layout": layout_data(conn, user),
        }


def set_day(core, user: users.User, day, is_workday, note: str | None = None) -> dict:
    """Change one day (e.g. a local 调休)."""
    require_admin(user)
    return working_time.set_day(core, user.username, day, is_workday, note)


def import_year(core, user: users.User, year, holidays=None, workdays=None, text: str | None = None) -> dict:
    """Replace one year of the calendar with the State Council's schedule (as lists, or as text)."""
    require_admin(user)
    return working_time.import_year(core, user.username, year, holidays, workdays, text)


def set_office_hours(core, user: users.User, timezone_name, periods) -> dict:
    """办公时间: the periods of a working day and the office's time zone."""
    require_admin(user)
    return working_time.set_office_hours(core, user.username, timezone_name, periods)
