"""Finding applications: the top bar's search (my applications and items; administrators: all) and the
conditions 流程监控's list shares with it.

The matching rule (docs/monitoring.md): the words match
- a title by its **beginning** (前缀匹配): an index range on `ix_instance_title` (SQLite: a range on the
  binary order; PostgreSQL: LIKE 'prefix%' on a text_pattern_ops index), never a scan of the instances;
- a 文号 by its beginning (`ix_doc_number_text`);
- a 发起人 whose name or user name **contains** them (the user table is small; at most 50 people), then their
  applications by `ix_instance_initiator`.
Process, status and dates narrow further; the process by its key (`ix_instance_process`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from engine.errors import FieldError, InvalidData
from engine.org import permissions, users
from engine.store.tables import definition, instance, user_account, work_item
from engine.store.tables_doc_numbers import doc_number
from engine.time.working_days import OFFICE_TZ, local_iso
from engine.work import frame
from engine.work.kernel.case import STATUS_LABELS
from engine.work.kernel.items import ACTIVE

MAX_TEXT = 100
MAX_PEOPLE = 50
MAX_NUMBERED = 200  # 文号 beginning with the words (a full 文号 names one)
PER_PAGE = 20
MAX_PAGE = 10_000
LABELS = {
    "q": "搜索内容",
    "process": "流程",
    "status": "状态",
    "started_from": "开始日期",
    "started_to": "结束日期",
    "page": "页码",
}
_TOP = "\U0010ffff"  # sorts after every character: [q, q + _TOP) is "begins with q" in binary order


@dataclass(frozen=True)
class Query:
    q: str = ""
    process: str = ""
    status: str = ""
    started_from: date | None = None
    started_to: date | None = None
    page: int = 1


def read_query(args, extra: tuple[str, ...] = ()) -> tuple[Query, dict]:
    """The search in a URL's query (a mapping of strings), and the `extra` texts the caller names; InvalidData
    names every bad parameter."""
    errors: list[FieldError] = []

    def text(name: str, label: str) -> str:
        value = args.get(name) or ""
        if not isinstance(value, str) or len(value) > MAX_TEXT or "\x00" in value:
            errors.append(FieldError(name, f"{label}无效（最多 {MAX_TEXT} 个字）"))
            return ""
        return value.strip()

    def day(name: str) -> date | None:
        value = text(name, LABELS[name])
        try:
            return date.fromisoformat(value) if value and len(value) == 10 else _bad_day(value)
        except ValueError:
            errors.append(FieldError(name, f"{LABELS[name]}“{value}”不是有效的日期，例如 2026-05-01"))
            return None

    page_text = text("page", LABELS["page"]) or "1"
    page = int(page_text) if page_text.isdigit() and 0 < int(page_text) <= MAX_PAGE else 0
    if not page:
        errors.append(FieldError("page", f"页码必须是 1 到 {MAX_PAGE} 之间的整数"))
    found = Query(
        q=text("q", LABELS["q"]),
        process=text("process", LABELS["process"]),
        status=text("status", LABELS["status"]),
        started_from=day("started_from"),
        started_to=day("started_to"),
        page=page or 1,
    )
    more = {name: text(name, label) for name, label in extra}
    if found.status and found.status not in STATUS_LABELS:
        errors.append(FieldError("status", f"状态必须是：{'、'.join(STATUS_LABELS)}"))
    if found.started_from and found.started_to and found.started_from > found.started_to:
        errors.append(FieldError("started_to", "结束日期不能早于开始日期"))
    if errors:
        raise InvalidData(errors)
    return found, more


def _bad_day(value: str) -> None:
    if value:
        raise ValueError(value)
    return None


def office_midnight(day: date) -> datetime:
    """The stored (naive UTC) time at which `day` begins in the office."""
    return datetime.combine(day, time(), OFFICE_TZ).astimezone(timezone.utc).replace(tzinfo=None)


def title_begins(conn: Connection, text: str):
    """Titles beginning with `text`, as a condition the title index answers on either database."""
    if conn.dialect.name == "sqlite":
        return (instance.c.title >= text) & (instance.c.title < text + _TOP)
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return instance.c.title.like(escaped + "%")  # PostgreSQL's default escape is the backslash


def words_match(conn: Connection, text: str):
    """The instances the words find: title or 文号 beginning with them, or a 发起人 whose name contains them."""
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    people = [
        row.id
        for row in conn.execute(
            select(user_account.c.id)
            .where(
                or_(
                    user_account.c.display_name.like(like, escape="\\"), user_account.c.username.like(like, escape="\\")
                )
            )
            .limit(MAX_PEOPLE)
        )
    ]
    numbered = [
        row.instance_id
        for row in conn.execute(
            select(doc_number.c.instance_id)
            .where(doc_number.c.text >= text, doc_number.c.text < text + _TOP, doc_number.c.instance_id.isnot(None))
            .limit(MAX_NUMBERED)
        )
    ]
    # Each branch a list of ids or an index range, never a subquery: PostgreSQL ORs them as index bitmaps.
    found = [title_begins(conn, text)]
    if numbered:
        found.append(instance.c.id.in_(numbered))
    if people:
        found.append(instance.c.initiator_id.in_(people))
    return or_(*found)


def conditions(conn: Connection, found: Query) -> list:
    """The WHERE conditions of a search (process, status, dates and the words)."""
    where = []
    if found.q:
        where.append(words_match(conn, found.q))
    if found.process:
        where.append(instance.c.process_key == found.process)
    if found.status:
        where.append(instance.c.status == found.status)
    if found.started_from:
        where.append(instance.c.created_at >= office_midnight(found.started_from))
    if found.started_to:
        where.append(instance.c.created_at < office_midnight(found.started_to + timedelta(days=1)))
    return where


def visible_to(user: users.User):
    """The applications a user may find: their own and those they hold or held an item of."""
    held = select(work_item.c.instance_id).where(work_item.c.assignee_id == user.id)
    return or_(instance.c.initiator_id == user.id, instance.c.id.in_(held))


def statement(conn: Connection, user: users.User, found: Query, *, everything: bool):
    """The search's SELECT of instance ids, newest first, one page (and one more row to tell a next page)."""
    where = conditions(conn, found)
    if not everything:
        where.append(visible_to(user))
    return (
        select(instance.c.id)
        .where(*where)
        .order_by(instance.c.created_at.desc(), instance.c.id.desc())
        .limit(PER_PAGE + 1)
        .offset((found.page - 1) * PER_PAGE)
    )


def rows_of(conn: Connection, ids: list[int]) -> list[dict]:
    """What a result row shows: title, process and version, 发起人, status, current nodes and their
    handlers, 文号, dates; in the order of `ids`."""
    if not ids:
        return []
    rows = conn.execute(
        select(
            instance.c.id,
            instance.c.title,
            instance.c.process_key,
            instance.c.status,
            instance.c.priority,
            instance.c.current_nodes,
            instance.c.created_at,
            instance.c.updated_at,
            instance.c.ended_at,
            definition.c.name.label("process_name"),
            definition.c.version,
            user_account.c.username.label("initiator"),
            user_account.c.display_name.label("initiator_name"),
        )
        .join(definition, definition.c.id == instance.c.definition_id)
        .join(user_account, user_account.c.id == instance.c.initiator_id)
        .where(instance.c.id.in_(ids))
    ).all()
    handlers: dict[int, list[dict]] = {}
    for item in conn.execute(
        select(
            work_item.c.id,
            work_item.c.instance_id,
            work_item.c.node_name,
            work_item.c.status,
            user_account.c.username,
            user_account.c.display_name,
        )
        .join(user_account, user_account.c.id == work_item.c.assignee_id)
        .where(work_item.c.instance_id.in_(ids), work_item.c.kind == "approve", work_item.c.status.in_(ACTIVE))
        .order_by(work_item.c.id)
    ):
        handlers.setdefault(item.instance_id, []).append(
            {
                "item": item.id,
                "node_name": item.node_name,
                "status": item.status,
                "assignee": item.username,
                "assignee_name": item.display_name,
            }
        )
    numbers = {
        row.instance_id: row.text
        for row in conn.execute(
            select(doc_number.c.instance_id, doc_number.c.text).where(
                doc_number.c.instance_id.in_(ids), doc_number.c.status == "allocated"
            )
        )
    }
    by_id = {
        row.id: {
            "id": row.id,
            "title": row.title,
            "process": row.process_key,
            "process_name": row.process_name,
            "version": row.version,
            "initiator": row.initiator,
            "initiator_name": row.initiator_name,
            "status": row.status,
            "status_label": STATUS_LABELS.get(row.status, row.status),
            "priority": row.priority,
            "current_nodes": sorted({h["node_name"] for h in handlers.get(row.id, [])}),
            "handlers": handlers.get(row.id, []),
            "doc_no": numbers.get(row.id),
            "started_at": local_iso(row.created_at),
            "updated_at": local_iso(row.updated_at),
            "ended_at": local_iso(row.ended_at),
        }
        for row in rows
    }
    return [by_id[i] for i in ids if i in by_id]


def run(conn: Connection, user: users.User, found: Query, *, everything: bool, extra=()) -> dict:
    """One page of results; `extra`: more conditions (流程监控's)."""
    query = statement(conn, user, found, everything=everything).where(*extra)
    ids = [row.id for row in conn.execute(query)]
    return {
        "items": rows_of(conn, ids[:PER_PAGE]),
        "page": found.page,
        "has_next": len(ids) > PER_PAGE,
    }


def process_choices(conn: Connection) -> list[dict]:
    """The processes to narrow by: key and the newest version's name."""
    names: dict[str, str] = {}
    for row in conn.execute(select(definition.c.process_key, definition.c.name).order_by(definition.c.version)):
        names[row.process_key] = row.name
    return [{"key": key, "name": name} for key, name in sorted(names.items())]


def search(core, username: str, args) -> dict:
    """The top bar's search: my applications and the ones I handle(d); those who may monitor: all."""
    found, _ = read_query(args)
    with core.db.read() as conn:
        user = users.require_user(conn, username)
        everything = permissions.monitored_processes(conn, user) is None
        result = run(conn, user, found, everything=everything) if _asked(found) else _nothing(found)
        return {
            **result,
            "query": found,
            "everything": everything,
            "processes": process_choices(conn),
            "statuses": STATUS_LABELS,
            "layout": frame.figures(conn, user),
        }


def _asked(found: Query) -> bool:
    return bool(found.q or found.process or found.status or found.started_from or found.started_to)


def _nothing(found: Query) -> dict:
    return {"items": [], "page": found.page, "has_next": False}
