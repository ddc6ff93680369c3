"""传阅 readers of an instance: whom it was circulated to, and each reader's state (未读 / 已读 / 已批示).

A reader holds a work item of kind "read" (待阅): open while unread, done once read; a 批示 is the reader's
comment, kept in the item (the latest) and in the audit trail (every one, in order). A recalled reader's
item is "recalled" and no longer counts; when the instance ends, the items still unread are closed.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from engine.notify import messages
from engine.store.fastsql import Prepared
from engine.store.tables import department, event_log, user_account, utcnow, work_item
from engine.time.working_days import local_iso

STATES = {"unread": "未读", "read": "已读", "commented": "已批示"}
COMMENTED = "read_commented"  # the audit event of one 批示
RECALLED = "recalled"  # the status of a recalled reader's item

_OF_INSTANCE = work_item.c.instance_id == bindparam("b_instance")
_READER = user_account.alias("reader")
_CIRCULATOR = user_account.alias("circulator")
_READERS = Prepared(
    select(
        work_item,
        _READER.c.username,
        _READER.c.display_name,
        department.c.name.label("department"),
        _CIRCULATOR.c.username.label("circulator"),
        _CIRCULATOR.c.display_name.label("circulator_name"),
    )
    .join(_READER, _READER.c.id == work_item.c.assignee_id)
    .outerjoin(department, department.c.id == _READER.c.department_id)
    .outerjoin(_CIRCULATOR, _CIRCULATOR.c.id == work_item.c.added_by_id)
    .where(_OF_INSTANCE, work_item.c.kind == "read", work_item.c.status != RECALLED)
    .order_by(work_item.c.id)
)
_COMMENTS = Prepared(
    select(event_log.c.work_item_id, event_log.c.opinion, event_log.c.created_at)
    .where(event_log.c.instance_id == bindparam("b_instance"), event_log.c.type == COMMENTED)
    .order_by(event_log.c.id)
)
_COMMENTS_OF_ITEM = Prepared(
    select(event_log.c.opinion, event_log.c.created_at)
    .where(
        event_log.c.instance_id == bindparam("b_instance"),
        event_log.c.work_item_id == bindparam("b_item"),
        event_log.c.type == COMMENTED,
    )
    .order_by(event_log.c.id)
)
_CLOSE_UNREAD = Prepared(
    update(work_item).where(_OF_INSTANCE, work_item.c.kind == "read", work_item.c.status == "open")
)


def state_of(item) -> str:
    """unread | read | commented, from a read item's row."""
    if item.read_at is None:
        return "unread"
    return "commented" if item.opinion else "read"


def readers(conn: Connection, instance_id: int) -> list[dict]:
    """The instance's 传阅 list, in the order circulated: each reader's state, their 批示 (the latest in
    `comment`, all of them in order in `comments`), who circulated it and when."""
    comments: dict[int, list[dict]] = {}
    for row in conn.execute(_COMMENTS, {"b_instance": instance_id}):
        comments.setdefault(row.work_item_id, []).append({"text": row.opinion, "at": local_iso(row.created_at)})
    found = []
    for row in conn.execute(_READERS, {"b_instance": instance_id}):
        state = state_of(row)
        found.append(
            {
                "item_id": row.id,
                "username": row.username,
                "name": row.display_name,
                "department": row.department,
                "state": state,
                "state_label": STATES[state],
                "open": row.status == "open",
                "comment": row.opinion,
                "comments": comments.get(row.id, []),
                "read_at": local_iso(row.read_at),
                "message": row.note,
                "circulated_by": row.circulator,
                "circulated_by_name": row.circulator_name,
                "circulated_at": local_iso(row.created_at),
            }
        )
    return found


def comments_of(conn: Connection, item) -> list[dict]:
    """One reader's 批示 on their read item, in order."""
    rows = conn.execute(_COMMENTS_OF_ITEM, {"b_instance": item.instance_id, "b_item": item.id})
    return [{"text": row.opinion, "at": local_iso(row.created_at)} for row in rows]


def close_unread(conn: Connection, instance_id: int) -> None:
    """The instance ended (归档, 撤销, 终止): the readers who have not read are not asked any more."""
    result = conn.execute(_CLOSE_UNREAD, {"b_instance": instance_id, "status": "cancelled", "completed_at": utcnow()})
    if result.rowcount:
        messages.todos_handled(conn, instance_id=instance_id)
