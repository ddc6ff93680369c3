"""Queries over our own tables: 待办 / 已办 / 我发起的 / 抄送我的 / 待阅, a work item, an instance.

These never deserialize workflow state: every list is one indexed query plus a count (DESIGN §3). The
functions that take a `conn` are building blocks for other queries (the pages' reads in engine.work.views);
the ones at the end take the Core and read in one transaction of their own.
"""

from __future__ import annotations

from sqlalchemy import Integer, and_, bindparam, func, literal_column, select
from sqlalchemy.engine import Connection

from engine.errors import FieldError, InvalidData
from engine.org import users
from engine.process.policy import policy_of
from engine.store.fastsql import Prepared
from engine.store.tables import definition, instance, user_account, utcnow, work_item
from engine.store.tables_doc_numbers import doc_number
from engine.time.working_days import local_iso
from engine.work import frame
from engine.work.kernel import reading
from engine.work.kernel.case import STATUS_LABELS
from engine.work.views import filters, marks
from engine.work.views.filters import Filters

BOXES = ("todo", "done", "started", "cc", "read")

# The instance's 发文字号, when it has one: one probe of ix_doc_number_instance per listed row.
_NUMBERED = and_(doc_number.c.instance_id == instance.c.id, doc_number.c.status == "allocated")


BOX_LABELS = {"todo": "待办", "done": "已办", "started": "我发起的", "cc": "抄送我的", "read": "待阅"}

# Which items each box of work items lists: (kind, statuses). 待阅 keeps what was read, and what closed
# unread when the application ended; not what the circulator recalled.
_BOX_ITEMS = {
    "todo": ("approve", ["open"]),
    "done": ("approve", ["done"]),
    "cc": ("cc", ["open", "done"]),
    "read": ("read", ["open", "done", "cancelled"]),
}


MAX_PER_PAGE = 100

MAX_PAGE = 1_000_000


def check_box(box: str) -> None:
    if box not in BOXES:
        raise InvalidData([FieldError("box", f"box 必须是 {'|'.join(BOXES)} 之一")])


def inbox(
    conn: Connection,
    user: users.User,
    box: str,
    q: str = "",
    page: int = 1,
    per_page: int = 20,
    found: Filters | None = None,
) -> dict:
    """One page of a box, narrowed by the title search `q` and the filters `found` (filters.read_filters)."""
    check_box(box)
    found = found or Filters()
    page = max(1, min(MAX_PAGE, int(page or 1)))  # past the last page is an empty page, not an overflow
    per_page = max(1, min(MAX_PER_PAGE, int(per_page or 20)))
    text = (q or "").strip()
    now = utcnow()
    narrowed = filters.conditions(conn, user, box, found, now)
    if box == "started":
        where = [instance.c.initiator_id == user.id, *narrowed]
        if text:
            where.append(instance.c.title.contains(text, autoescape=True))
        total = conn.execute(select(func.count()).select_from(instance).where(*where)).scalar()
        rows = conn.execute(
            select(instance, definition.c.name.label("process_name"), doc_number.c.text.label("doc_no"))
            .join(definition, definition.c.id == instance.c.definition_id)
            .outerjoin(doc_number, _NUMBERED)
            .where(*where)
            .order_by(*filters.order(box, found))
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        items = [
            {
                "instance_id": row.id,
                "title": row.title,
                "process": row.process_key,
                "process_name": row.process_name,
                "doc_no": row.doc_no,
                "status": row.status,
                "status_label": STATUS_LABELS.get(row.status, row.status),
                "current_nodes": row.current_nodes,
                "priority": row.priority,
                "created_at": local_iso(row.created_at),
                "ended_at": local_iso(row.ended_at),
            }
            for row in rows
        ]
        return {"items": items, "total": total, "page": page, "per_page": per_page}

    kind = _BOX_ITEMS[box][0]
    params = {"user_id": user.id, "limit": per_page, "offset": (page - 1) * per_page}
    if text or narrowed or found.sort:
        if text:
            narrowed = [*narrowed, instance.c.title.contains(text, autoescape=True)]
        count, listed = _box_queries(box, narrowed, filters.order(box, found), joined=bool(text or found.active))
    else:
        count, listed = _PLAIN_BOXES[box]
    total = conn.execute(count, params).scalar()
    rows = conn.execute(listed, params).all()
    back = marks.came_back(conn, rows) if kind == "approve" else {}
    nudged = marks.urged(conn, rows) if kind == "approve" else {}
    items = []
    for row in rows:
        items.append(
            {
                "id": row.id,
                "instance_id": row.instance_id,
                "title": row.title,
                "doc_no": row.doc_no,
                "process": row.process_key,
                "process_name": row.process_name,
                "node": row.node_id,
                "node_name": row.node_name,
                "initiator_name": row.initiator_name,
                "priority": row.priority,
                "status": row.status,
                "decision": row.decision,
                "opinion": row.opinion,
                "instance_status": row.instance_status,
                "instance_status_label": STATUS_LABELS.get(row.instance_status, row.instance_status),
                "created_at": local_iso(row.created_at),
                "completed_at": local_iso(row.completed_at),
                "due_at": local_iso(row.due_at),
                "overdue": bool(row.status == "open" and row.due_at and row.due_at < now),
                "read": row.read_at is not None if kind != "approve" else None,
                "read_state": reading.state_of(row) if kind == "read" else None,
                "note": row.note,
                "origin": row.origin,
                "came_back": back.get(row.id),
                "urged": nudged.get(row.id),
                "definition_id": row.definition_id,
            }
        )
    return {"items": items, "total": total, "page": page, "per_page": per_page}


_INITIATOR = user_account.alias("initiator")


def _box_queries(box: str, narrowed: list, order: list, *, joined: bool) -> tuple:
    """(total, one page) of a box of work items for :user_id, :limit and :offset, narrowed by `narrowed`
    (conditions on the item or its instance: `joined` says the count must join the instance too)."""
    kind, statuses = _BOX_ITEMS[box]
    where = [
        work_item.c.assignee_id == bindparam("user_id"),
        work_item.c.kind == literal_column(f"'{kind}'"),
        work_item.c.status.in_([literal_column(f"'{status}'") for status in statuses]),
        *narrowed,
    ]
    count = select(func.count()).select_from(work_item)
    if joined:
        count = count.join(instance, instance.c.id == work_item.c.instance_id)
    listed = (
        select(
            work_item,
            instance.c.title,
            instance.c.status.label("instance_status"),
            instance.c.priority,
            instance.c.process_key,
            instance.c.definition_id,
            definition.c.name.label("process_name"),
            _INITIATOR.c.display_name.label("initiator_name"),
            doc_number.c.text.label("doc_no"),
        )
        .join(instance, instance.c.id == work_item.c.instance_id)
        .join(definition, definition.c.id == instance.c.definition_id)
        .join(_INITIATOR, _INITIATOR.c.id == instance.c.initiator_id)
        .outerjoin(doc_number, _NUMBERED)
        .where(*where)
        .order_by(*order)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )
    return count.where(*where), listed


# Each box unfiltered in its own order, what nearly every request asks for: built once, run on the driver.
_PLAIN_BOXES = {
    box: tuple(Prepared(q) for q in _box_queries(box, [], filters.order(box, Filters()), joined=False))
    for box in _BOX_ITEMS
}


def mark_batchable(core, conn: Connection, items: list[dict]) -> None:
    """Whether each listed item may be approved in a batch now (批量审批): open, the node's own signer's, and
    its node says batch=true. Sets item["batch"]."""
    for item in items:
        item["batch"] = False
        if item.get("status") != "open" or item.get("origin") in ("resubmit", "delegate"):
            continue
        node = core.specs.get(conn, item["definition_id"]).model.nodes.get(item["node"])
        item["batch"] = policy_of(node).batch


def waiting(conn: Connection, user: users.User) -> list[dict]:
    """My items that wait for someone else (前加签, 委派, 依次 before my turn): not in 待办, not yet 已办."""
    rows = conn.execute(
        select(work_item.c.id, work_item.c.instance_id, work_item.c.node_name, work_item.c.note, instance.c.title)
        .join(instance, instance.c.id == work_item.c.instance_id)
        .where(
            work_item.c.assignee_id == user.id,
            work_item.c.kind == "approve",
            work_item.c.status == "waiting",
            instance.c.status == "running",
        )
        .order_by(work_item.c.created_at.desc())
        .limit(50)
    )
    return [dict(row._mapping) for row in rows]


def work_items(core, user: users.User, box: str, q: str = "", page: int = 1, per_page: int = 20, args=None) -> dict:
    """待办 / 已办 / 我发起的 / 抄送我的 / 待阅, a page at a time, optionally only titles containing `q` and narrowed
    and ordered by the filters in `args` (a URL's query: filters.read_filters)."""
    check_box(box)
    found = filters.read_filters(args or {}, box)
    with core.db.read() as conn:
        result = inbox(conn, user, box, q, page, per_page, found)
        if box == "todo":
            mark_batchable(core, conn, result["items"])
        return result


def item_counts(core, user: users.User) -> dict:
    """How many items each box holds (抄送我的, 待阅: the unread ones), for the navigation's badges."""
    with core.db.read() as conn:
        return frame.counts(conn, user)
