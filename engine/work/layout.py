"""What the frame of every page shows the signed-in user: the navigation's badge counts (待办, unread 抄送我的),
the bell's unread count, the administrators' warning about next year's calendar, and the last day the
calendar knows (due times past it are shown as 未确认).

A page's own query reads it in the same transaction (`layout_data`); a page without one asks `page_layout`.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy.engine import Connection

from engine.notify import messages
from engine.org import users
from engine.time import calendar_admin
from engine.time.office_hours import work_calendar
from engine.work import worklist

log = logging.getLogger("oaflow.work")

NONE = {"counts": None, "unread": None, "calendar_warning": None, "calendar_last": ""}


def layout_data(conn: Connection, user: users.User) -> dict:
    """The frame's figures, inside the caller's read; a figure that fails must not take the page down."""
    try:
        last = work_calendar(conn).last
        return {
            "counts": worklist.counts(conn, user),
            "unread": messages.unread_count(conn, user.id),
            "calendar_warning": calendar_admin.warning(conn, date.today()) if user.is_admin else None,
            "calendar_last": last.isoformat() if last else "",
        }
    except Exception:
        log.exception("the page frame's figures failed for %s", user.username)
        return dict(NONE)


def page_layout(core, user: users.User) -> dict:
    """The frame's figures for a page whose own query does not bring them (error pages, 月度统计)."""
    with core.db.read() as conn:
        return layout_data(conn, user)
