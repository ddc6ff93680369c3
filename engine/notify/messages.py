"""站内消息 (the bell): a user's messages, unread counts, marking them read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.engine import Connection

from engine.errors import NotFound
from engine.store import tables_bell  # noqa: F401  (the index todos_handled relies on)
from engine.store.fastsql import Prepared
from engine.store.tables import ITEM_ACTIVE, notification, utcnow, work_item
from engine.time.office_hours import work_calendar

KIND_LABELS = {
    "todo": "新待办",
    "cc": "知会",
    "read": "待阅",
    "result": "审批结果",
    "remind": "即将超时",
    "overdue": "已超时",
    "escalated": "超时督办",
    "auto_approved": "超时自动通过",
    "transferred": "超时转交",
    "suspended": "挂起",
    "resumed": "恢复",
    "jumped": "管理员跳转",
    "timer": "定时事件",
    "error": "流程异常",
}

MAX_PAGE = 1_000_000


def unread_count(conn: Connection, user_id: int) -> int:
    return conn.execute(
        select(func.count())
        .select_from(notification)
        .where(notification.c.user_id == user_id, notification.c.read_at.is_(None))
    ).scalar()


def local_iso(conn: Connection, value: datetime | None) -> str | None:
    if value is None:
        return None
    return work_calendar(conn).local(value).isoformat(timespec="seconds")


def inbox(conn: Connection, user_id: int, unread_only: bool = False, page: int = 1, per_page: int = 20) -> dict:
    page = max(1, min(MAX_PAGE, int(page or 1)))  # past the last page is an empty page, not an overflow
    per_page = max(1, min(100, int(per_page or 20)))
    where = [notification.c.user_id == user_id]
    if unread_only:
        where.append(notification.c.read_at.is_(None))
    total = conn.execute(select(func.count()).select_from(notification).where(*where)).scalar()
    rows = conn.execute(
        select(notification)
        .where(*where)
        .order_by(notification.c.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    items = [
        {
            "id": row.id,
            "kind": row.kind,
            "kind_label": KIND_LABELS.get(row.kind, "通知"),
            "title": row.title,
            "body": row.body,
            "instance_id": row.instance_id,
            "work_item_id": work_item_of(row),
            "created_at": local_iso(conn, row.created_at),
            "read": row.read_at is not None,
        }
        for row in rows
    ]
    return {
        "items": items,
        "total": total,
        "unread": unread_count(conn, user_id),
        "page": page,
        "per_page": per_page,
    }


def get(conn: Connection, user_id: int, notification_id: int):
    """One of the user's own messages (another user's is "not found")."""
    row = conn.execute(
        select(notification).where(notification.c.id == notification_id, notification.c.user_id == user_id)
    ).first()
    if row is None:
        raise NotFound("消息不存在")
    return row


def mark_read(conn: Connection, user_id: int, ids: list[int] | None = None) -> int:
    """Mark the user's own messages read (all of them when `ids` is None); others' ids are ignored."""
    query = update(notification).where(notification.c.user_id == user_id, notification.c.read_at.is_(None))
    if ids is not None:
        if not ids:
            return 0
        query = query.where(notification.c.id.in_(ids))
    return conn.execute(query.values(read_at=utcnow())).rowcount


# Messages that ask for something to be done (a decision, or reading a 传阅 document) link to the work item;
# the others to the application.
TODO_KINDS = frozenset({"todo", "remind", "overdue", "read"})


_UNREAD_TODO = (
    notification.c.read_at.is_(None),
    or_(*(notification.c.kind == kind for kind in sorted(TODO_KINDS))),  # OR, not IN: see ITEM_ACTIVE
)
_TODOS_OF_ITEM = Prepared(update(notification).where(notification.c.work_item_id == bindparam("b_item"), *_UNREAD_TODO))
_TODOS_OF_CLOSED_ITEMS = Prepared(
    update(notification).where(
        notification.c.work_item_id.in_(
            select(work_item.c.id).where(
                work_item.c.instance_id == bindparam("b_instance"),
                or_(work_item.c.kind == "approve", work_item.c.kind == "read"),
                ~ITEM_ACTIVE,
            )
        ),
        *_UNREAD_TODO,
    )
)


def todos_handled(conn: Connection, *, item_id: int | None = None, instance_id: int | None = None) -> None:
    """A work item closed (done, handed over, cancelled, withdrawn …): its 待办-type messages (新待办, 即将超时,
    已超时) are read, whoever holds them, so the bell no longer asks for what is done. `item_id`: that item;
    `instance_id`: every closed item of the instance (after a statement that closed several)."""
    if item_id is not None:
        conn.execute(_TODOS_OF_ITEM, {"b_item": item_id, "read_at": utcnow()})
    else:
        conn.execute(_TODOS_OF_CLOSED_ITEMS, {"b_instance": instance_id, "read_at": utcnow()})


def work_item_of(row) -> int | None:
    """The work item a 待办-type message links to (the outbox records it with every message)."""
    return row.work_item_id if row.kind in TODO_KINDS else None


def list_messages(core, user_id: int, unread_only: bool = False, page: int = 1, per_page: int = 20) -> dict:
    """The user's messages, newest first, a page at a time, with the unread count."""
    with core.db.read() as conn:
        return inbox(conn, user_id, unread_only, page, per_page)


def open_message(core, user_id: int, notification_id: int) -> dict:
    """Open one of the user's own messages: it becomes read; returns what it is about (the work item of a
    待办-type message, else the application) for the caller to show."""
    with core.db.write() as conn:
        row = get(conn, user_id, notification_id)
        mark_read(conn, user_id, [notification_id])
    return {"id": row.id, "work_item_id": work_item_of(row), "instance_id": row.instance_id}


def mark_messages_read(core, user_id: int, ids: list[int] | None = None) -> dict:
    """Mark the user's own messages read (every one when `ids` is None): how many, and how many stay unread."""
    with core.db.write() as conn:
        marked = mark_read(conn, user_id, ids)
        return {"marked": marked, "unread": unread_count(conn, user_id)}
