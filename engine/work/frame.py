"""What the frame of every page shows the signed-in user: the navigation's badge counts (待办, unread 抄送我的
and 待阅), the bell's unread count, the administrators' warning about next year's calendar, and the last day the
calendar knows (due times past it are shown as 未确认).

A page's own query reads them in its transaction (`figures`); a page without one asks `page_figures`.
Shared by every family that has pages, below them all.
"""

from __future__ import annotations

import logging

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection

from engine.notify import messages
from engine.org import users
from engine.store.fastsql import Prepared
from engine.store.tables import instance, work_item
from engine.time import calendar_admin
from engine.time.office_hours import work_calendar
from engine.time.working_days import office_today

log = logging.getLogger("oaflow.work")

NONE = {"counts": None, "unread": None, "calendar_warning": None, "calendar_last": ""}


def figures(conn: Connection, user: users.User) -> dict:
    """The frame's figures, inside the caller's read; a figure that fails must not take the page down."""
    try:
        last = work_calendar(conn).last
        return {
            "counts": counts(conn, user),
            "unread": messages.unread_count(conn, user.id),
            "calendar_warning": calendar_admin.warning(conn, office_today()) if user.is_admin else None,
            "calendar_last": last.isoformat() if last else "",
        }
    except Exception:
        log.exception("the page frame's figures failed for %s", user.username)
        return dict(NONE)


def page_figures(core, user: users.User) -> dict:
    """The frame's figures for a page whose own query does not bring them (error pages, 月度统计)."""
    with core.db.read() as conn:
        return figures(conn, user)


def _count(table, *where):
    return select(func.count()).select_from(table).where(*where).scalar_subquery()


def _items(kind: str, status: str):
    return _count(
        work_item,
        work_item.c.assignee_id == bindparam("user_id"),
        work_item.c.kind == kind,
        work_item.c.status == status,
    )


# The five badges in one statement, built once: each an index-only count (ix_work_item_inbox,
# ix_instance_initiator) but the unread 抄送我的, which reads the user's cc items.
_COUNTS = Prepared(
    select(
        _items("approve", "open").label("todo"),
        _items("approve", "done").label("done"),
        _count(instance, instance.c.initiator_id == bindparam("user_id")).label("started"),
        _count(
            work_item,
            work_item.c.assignee_id == bindparam("user_id"),
            work_item.c.kind == "cc",
            work_item.c.read_at.is_(None),
        ).label("cc"),
        _items("read", "open").label("read"),
    )
)


def counts(conn: Connection, user: users.User) -> dict:
    """How many items each box holds (抄送我的, 待阅: the unread ones), for the navigation's badges."""
    return dict(conn.execute(_COUNTS, {"user_id": user.id}).one()._mapping)
