"""公文查询: the applications that have a 发文字号, or belong to a 公文 process (one with a node that allocates
one), that the caller may see — participants their own, administrators all — by 文号, title and year."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.engine import Connection

from engine import fields
from engine.numbering.doc_no import YEAR_MAX, YEAR_MIN, parse_doc_no
from engine.org import users
from engine.process.policy import policy_of
from engine.store.tables import definition, instance, user_account, work_item
from engine.store.tables_doc_numbers import doc_number
from engine.time.office_hours import work_calendar
from engine.time.working_days import local_iso
from engine.work.kernel.case import STATUS_LABELS

PER_PAGE = 20
MAX_PAGE = 1_000_000


def search(core, username: str, doc_no=None, q=None, year=None, page=None) -> dict:
    """One page of documents, newest first: {items: [...], total, page, per_page}."""
    doc_no = fields.optional_text(doc_no, "doc_no", "文号", max_length=80)
    q = fields.optional_text(q, "q", "标题", max_length=200)
    year = None if year is None else fields.integer(year, "year", "年份", low=YEAR_MIN, high=YEAR_MAX)
    page = 1 if page is None else fields.integer(page, "page", "页码", low=1, high=MAX_PAGE)
    with core.db.read() as conn:
        user = users.require_user(conn, username)
        return _page(core, conn, user, doc_no, q, year, page)


def _document_definitions(core, conn: Connection) -> list[int]:
    """The versions of 公文 processes: a node of theirs allocates the 发文字号."""
    ids = conn.execute(select(definition.c.id)).scalars().all()
    return [i for i in ids if any(_allocates(n) for n in core.specs.get(conn, i).model.nodes.values())]


def _allocates(node) -> bool:
    return node.type == "userTask" and policy_of(node).allocates_doc_no


def _page(core, conn: Connection, user: users.User, doc_no, q, year, page: int) -> dict:
    numbered = and_(doc_number.c.instance_id == instance.c.id, doc_number.c.status == "allocated")
    where = [or_(doc_number.c.id.isnot(None), instance.c.definition_id.in_(_document_definitions(core, conn)))]
    if not user.is_admin:
        takes_part = exists().where(work_item.c.instance_id == instance.c.id, work_item.c.assignee_id == user.id)
        where.append(or_(instance.c.initiator_id == user.id, takes_part))
    if doc_no:
        exact = parse_doc_no(doc_no)
        where.append(doc_number.c.text == exact.text if exact else doc_number.c.text.contains(doc_no, autoescape=True))
    if q:
        where.append(instance.c.title.contains(q, autoescape=True))
    if year is not None:
        calendar = work_calendar(conn)
        start, end = calendar.to_utc(datetime(year, 1, 1)), calendar.to_utc(datetime(year + 1, 1, 1))
        drafted = and_(doc_number.c.id.is_(None), instance.c.created_at >= start, instance.c.created_at < end)
        where.append(or_(doc_number.c.year == year, drafted))
    joined = instance.outerjoin(doc_number, numbered)
    total = conn.execute(select(func.count()).select_from(joined).where(*where)).scalar()
    rows = conn.execute(
        select(
            instance,
            doc_number.c.text.label("doc_no"),
            definition.c.name.label("process_name"),
            user_account.c.display_name.label("initiator_name"),
        )
        .select_from(
            joined.join(definition, definition.c.id == instance.c.definition_id).join(
                user_account, user_account.c.id == instance.c.initiator_id
            )
        )
        .where(*where)
        .order_by(instance.c.created_at.desc(), instance.c.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    )
    items = [
        {
            "id": row.id,
            "title": row.title,
            "process": row.process_key,
            "process_name": row.process_name,
            "doc_no": row.doc_no,
            "status": row.status,
            "status_label": STATUS_LABELS.get(row.status, row.status),
            "initiator_name": row.initiator_name,
            "created_at": local_iso(row.created_at),
            "updated_at": local_iso(row.updated_at),
            "ended_at": local_iso(row.ended_at),
        }
        for row in rows
    ]
    return {"items": items, "total": total, "page": page, "per_page": PER_PAGE}
