"""The 发文字号 register: the counters and every number given out, voided or reserved.

Building blocks for use inside another engine function's transaction (they take a `conn`). Everything that
changes a counter first takes its row lock (`_lock`): the row is created with INSERT … ON CONFLICT DO
NOTHING, then read with SELECT … FOR UPDATE on PostgreSQL; on SQLite the write transaction already holds
the database's write lock (BEGIN IMMEDIATE). So concurrent allocations queue and none sees a number another
took: no gaps and no duplicates. Every change is an audit event (who, what, old → new, the reason).
"""

from __future__ import annotations

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from engine.errors import Conflict, FieldError, InvalidData
from engine.numbering.doc_no import NUMBER_MAX, DocNo, format_doc_no
from engine.store import audit
from engine.store.tables import event_log, user_account, utcnow
from engine.store.tables_doc_numbers import doc_number, doc_number_sequence

STATUS_LABELS = {"allocated": "已使用", "voided": "已作废", "reusable": "作废待重用", "reserved": "已预留"}
# Statuses of a number that was once given out: the next number may not go back below them.
_GIVEN_OUT = ("allocated", "voided", "reusable")
CHANGE_EVENTS = ("doc_no_allocated", "doc_no_changed", "doc_no_voided", "doc_no_reserved", "doc_no_assigned")
RESERVE_MAX = 100  # numbers one request may reserve

_INSERTS = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def _counter(prefix: str, year: int):
    return and_(doc_number_sequence.c.prefix == prefix, doc_number_sequence.c.year == year)


def _numbers(prefix: str, year: int):
    return and_(doc_number.c.prefix == prefix, doc_number.c.year == year)


def _lock(conn: Connection, prefix: str, year: int) -> int:
    """The counter's next number, its row created (starting at 1) and locked for this transaction."""
    insert = _INSERTS[conn.dialect.name](doc_number_sequence).values(prefix=prefix, year=year, next_number=1)
    conn.execute(insert.on_conflict_do_nothing(index_elements=["prefix", "year"]))
    query = select(doc_number_sequence.c.next_number).where(_counter(prefix, year))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).scalar_one()


def _row(conn: Connection, prefix: str, year: int, number: int):
    return conn.execute(select(doc_number).where(_numbers(prefix, year), doc_number.c.number == number)).first()


def _insert(conn: Connection, prefix: str, year: int, number: int, status: str, **values) -> None:
    now = utcnow()
    conn.execute(
        doc_number.insert().values(
            prefix=prefix,
            year=year,
            number=number,
            text=format_doc_no(prefix, year, number),
            status=status,
            created_at=now,
            updated_at=now,
            **values,
        )
    )


def _set(conn: Connection, row_id: int, **values) -> None:
    conn.execute(update(doc_number).where(doc_number.c.id == row_id).values(updated_at=utcnow(), **values))


def _free_from(conn: Connection, prefix: str, year: int, start: int) -> int:
    """The lowest number ≥ start that has no row (reserved and voided numbers are skipped)."""
    taken = conn.execute(
        select(doc_number.c.number)
        .where(_numbers(prefix, year), doc_number.c.number >= start)
        .order_by(doc_number.c.number)
    ).scalars()
    number = start
    for used in taken:
        if used != number:
            break
        number += 1
    if number > NUMBER_MAX:
        raise Conflict(f"{prefix}〔{year}〕的文号已用完（最大 {NUMBER_MAX}）")
    return number


def held_by(conn: Connection, instance_id: int) -> str | None:
    """The 文号 an instance holds, or None."""
    return conn.execute(
        select(doc_number.c.text)
        .where(doc_number.c.instance_id == instance_id, doc_number.c.status == "allocated")
        .order_by(doc_number.c.id)
        .limit(1)
    ).scalar()


def holder(conn: Connection, prefix: str, year: int, number: int) -> int | None:
    """The instance that holds the number, or None."""
    row = _row(conn, prefix, year, number)
    return row.instance_id if row is not None and row.status == "allocated" else None


def allocate(conn: Connection, prefix: str, year: int, instance_id: int, actor_id: int | None = None) -> DocNo:
    """The next 文号 of (prefix, year) for the instance: the lowest reusable voided number first, else the
    counter's next number that is neither reserved nor voided."""
    start = _lock(conn, prefix, year)
    reusable = conn.execute(
        select(doc_number.c.id, doc_number.c.number)
        .where(_numbers(prefix, year), doc_number.c.status == "reusable")
        .order_by(doc_number.c.number)
        .limit(1)
    ).first()
    if reusable is not None:
        number = reusable.number
        _set(conn, reusable.id, status="allocated", instance_id=instance_id, reason=None)
    else:
        number = _free_from(conn, prefix, year, start)
        _insert(conn, prefix, year, number, "allocated", instance_id=instance_id)
        conn.execute(update(doc_number_sequence).where(_counter(prefix, year)).values(next_number=number + 1))
    given = DocNo(prefix, year, number)
    audit.record(conn, "doc_no_allocated", instance_id=instance_id, actor_id=actor_id, message=given.text)
    return given


def set_next(conn: Connection, prefix: str, year: int, next_number: int, actor_id: int, reason: str | None) -> dict:
    """Continue a paper register: allocation goes on from `next_number` (never back to a number given out)."""
    old = _lock(conn, prefix, year)
    highest = conn.execute(
        select(func.max(doc_number.c.number)).where(_numbers(prefix, year), doc_number.c.status.in_(_GIVEN_OUT))
    ).scalar()
    if highest is not None and next_number <= highest:
        raise InvalidData([FieldError("next", f"下一个文号必须大于已使用过的最大文号 {highest}")])
    conn.execute(update(doc_number_sequence).where(_counter(prefix, year)).values(next_number=next_number))
    why = f"（原因：{reason}）" if reason else ""
    audit.record(
        conn, "doc_no_changed", actor_id=actor_id, message=f"{prefix}〔{year}〕下一个文号：{old} → {next_number}{why}"
    )
    return {"prefix": prefix, "year": year, "next": next_number, "was": old}


def void(
    conn: Connection, prefix: str, year: int, number: int, reason: str, *, reuse: bool, actor_id: int
) -> int | None:
    """作废 a number (given out, reserved, or not yet used): left void, or reusable by the next allocation.
    Returns the instance that held it (its 文号 is taken away), or None."""
    _lock(conn, prefix, year)
    status = "reusable" if reuse else "voided"
    row = _row(conn, prefix, year, number)
    held = row.instance_id if row is not None and row.status == "allocated" else None
    if row is None:
        _insert(conn, prefix, year, number, status, reason=reason)
        old = "未使用"
    else:
        old = STATUS_LABELS.get(row.status, row.status)
        _set(conn, row.id, status=status, reason=reason, instance_id=None)
    text = format_doc_no(prefix, year, number)
    new = "作废，可重新使用" if reuse else "作废"
    audit.record(
        conn,
        "doc_no_voided",
        instance_id=held,
        actor_id=actor_id,
        message=f"{text}：{old} → {new}（原因：{reason}）",
    )
    return held


def reserve(
    conn: Connection, prefix: str, year: int, *, number: int | None, count: int | None, reason: str | None, actor_id
) -> list[int]:
    """预留 one number, or the next `count` free ones: allocation skips them until one is assigned."""
    start = _lock(conn, prefix, year)
    if number is not None:
        row = _row(conn, prefix, year, number)
        if row is not None:
            state = STATUS_LABELS.get(row.status, row.status)
            raise Conflict(f"{format_doc_no(prefix, year, number)}{state}，不能预留")
        numbers = [number]
    else:
        numbers = []
        for _ in range(count or 0):
            numbers.append(_free_from(conn, prefix, year, start))
            _insert(conn, prefix, year, numbers[-1], "reserved", reason=reason)
    if number is not None:
        _insert(conn, prefix, year, number, "reserved", reason=reason)
    listed = "、".join(str(n) for n in numbers)
    why = f"（原因：{reason}）" if reason else ""
    audit.record(conn, "doc_no_reserved", actor_id=actor_id, message=f"{prefix}〔{year}〕预留文号 {listed}{why}")
    return numbers


def assign(conn: Connection, prefix: str, year: int, number: int, instance_id: int, actor_id: int) -> DocNo:
    """Give a reserved number to an instance (that holds none)."""
    _lock(conn, prefix, year)
    row = _row(conn, prefix, year, number)
    text = format_doc_no(prefix, year, number)
    if row is None or row.status != "reserved":
        state = STATUS_LABELS.get(row.status, row.status) if row is not None else "未预留"
        raise Conflict(f"{text}{state}，只能分配已预留的文号")
    held = held_by(conn, instance_id)
    if held is not None:
        raise Conflict(f"该申请已有文号 {held}")
    _set(conn, row.id, status="allocated", instance_id=instance_id)
    audit.record(conn, "doc_no_assigned", instance_id=instance_id, actor_id=actor_id, message=f"分配预留文号：{text}")
    return DocNo(prefix, year, number)


def counters(conn: Connection) -> list[dict]:
    """Every counter, newest year first: the next number and how many numbers are in each state."""
    counts = {
        (row.prefix, row.year, row.status): row.n
        for row in conn.execute(
            select(doc_number.c.prefix, doc_number.c.year, doc_number.c.status, func.count().label("n")).group_by(
                doc_number.c.prefix, doc_number.c.year, doc_number.c.status
            )
        )
    }
    listed: dict[tuple, list[int]] = {}
    for row in conn.execute(
        select(doc_number.c.prefix, doc_number.c.year, doc_number.c.status, doc_number.c.number)
        .where(doc_number.c.status.in_(("reserved", "reusable")))
        .order_by(doc_number.c.number)
    ):
        listed.setdefault((row.prefix, row.year, row.status), []).append(row.number)
    rows = conn.execute(
        select(doc_number_sequence).order_by(doc_number_sequence.c.year.desc(), doc_number_sequence.c.prefix)
    )
    result = []
    for row in rows:
        key = (row.prefix, row.year)
        result.append(
            {
                "prefix": row.prefix,
                "year": row.year,
                "next": row.next_number,
                "next_text": format_doc_no(row.prefix, row.year, row.next_number),
                "allocated": counts.get((*key, "allocated"), 0),
                "voided": counts.get((*key, "voided"), 0) + counts.get((*key, "reusable"), 0),
                "reusable": listed.get((*key, "reusable"), [])[:50],
                "reserved": counts.get((*key, "reserved"), 0),
                "reserved_numbers": listed.get((*key, "reserved"), [])[:50],
            }
        )
    return result


def changes(conn: Connection, limit: int = 20) -> list[dict]:
    """The register's audit trail, newest first (the times as stored: UTC)."""
    rows = conn.execute(
        select(
            event_log.c.type,
            event_log.c.instance_id,
            event_log.c.message,
            event_log.c.created_at,
            user_account.c.display_name,
        )
        .outerjoin(user_account, user_account.c.id == event_log.c.actor_id)
        .where(event_log.c.type.in_(CHANGE_EVENTS))
        .order_by(event_log.c.id.desc())
        .limit(limit)
    )
    return [
        {
            "type": row.type,
            "label": audit.EVENT_LABELS.get(row.type, row.type),
            "instance_id": row.instance_id,
            "message": row.message,
            "actor_name": row.display_name,
            "at": row.created_at,
        }
        for row in rows
    ]
