"""代理 / 委托: while a user is away, new work items for them go to a delegate, marked "代理 <name>".

The delegation itself is only a row; `engine.org.deciders.decider` consults it when an item is created, and
`create` can move the items already waiting (under their instances' locks). A delegate never gets an item
of their own application: it stays with the principal (engine.org.deciders).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection

from engine.errors import FieldError, InvalidData, NotFound
from engine.org import cache as org_cache
from engine.org import deciders, users
from engine.store import audit
from engine.store.tables import delegation, instance, user_account, utcnow, work_item

MAX_DAYS = 366


def _date(value, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise InvalidData([FieldError(field, "日期格式应为 YYYY-MM-DD")]) from None


def create(
    conn: Connection,
    user: users.User,
    delegate_username: str,
    starts_on,
    ends_on,
    processes=None,
    reason: str | None = None,
    move_existing: bool = False,
    *,
    is_postgres: bool = False,
) -> dict:
    """Name a delegate for a date range and a scope (all processes, or the listed process keys)."""
    delegate = users.find_user(conn, (delegate_username or "").strip()) if delegate_username else None
    errors = []
    if delegate is None or not delegate.active:
        errors.append(FieldError("delegate", f"用户 '{delegate_username or ''}' 不存在"))
    elif delegate.id == user.id:
        errors.append(FieldError("delegate", "不能委托给自己"))
    start = _date(starts_on, "starts_on")
    end = _date(ends_on, "ends_on")
    if end < start:
        errors.append(FieldError("ends_on", "结束日期不能早于开始日期"))
    elif (end - start).days > MAX_DAYS:
        errors.append(FieldError("ends_on", "代理期限最长一年"))
    scope = processes or []
    if isinstance(scope, str):
        scope = [p.strip() for p in scope.split(",")]
    if not isinstance(scope, list) or not all(isinstance(p, str) for p in scope):
        errors.append(FieldError("processes", "processes 应为流程标识列表"))
        scope = []
    scope = sorted({p.strip() for p in scope if p.strip()})
    if errors:
        raise InvalidData(errors)
    overlapping = conn.execute(
        select(delegation.c.id).where(
            delegation.c.user_id == user.id,
            delegation.c.active.is_(True),
            delegation.c.starts_on <= end,
            delegation.c.ends_on >= start,
        )
    ).first()
    if overlapping is not None:
        raise InvalidData([FieldError("starts_on", "该时间段已有生效的代理设置，请先结束它")])
    org_cache.changed(conn)
    new_id = conn.execute(
        insert(delegation).values(
            user_id=user.id,
            delegate_id=delegate.id,
            starts_on=start,
            ends_on=end,
            processes=",".join(scope),
            reason=(reason or "").strip()[:200] or None,
            active=True,
            created_at=utcnow(),
        )
    ).inserted_primary_key[0]
    moved = _move_existing(conn, user, delegate, scope, is_postgres) if move_existing else 0
    return {**_describe(conn, new_id), "moved": moved}


def _move_existing(conn: Connection, user: users.User, delegate: users.User, scope, is_postgres: bool) -> int:
    where = [
        work_item.c.assignee_id == user.id,
        work_item.c.kind == "approve",
        work_item.c.status.in_(("open", "waiting")),
        work_item.c.origin != "resubmit",
        instance.c.status == "running",
    ]
    if scope:
        where.append(instance.c.process_key.in_(scope))
    rows = list(
        conn.execute(
            select(work_item.c.id, work_item.c.instance_id, work_item.c.node_name, instance.c.initiator_id)
            .join(instance, instance.c.id == work_item.c.instance_id)
            .where(*where)
            .order_by(work_item.c.instance_id)
        )
    )
    # The delegate's own applications stay with the principal.
    rows = [row for row in rows if deciders.may_decide(row.initiator_id, delegate.id)]
    if not rows:
        return 0
    instance_ids = sorted({row.instance_id for row in rows})
    if is_postgres:  # the same lock a command takes, in one order, so no command races the move
        conn.execute(
            select(instance.c.id).where(instance.c.id.in_(instance_ids)).order_by(instance.c.id).with_for_update()
        )
    conn.execute(
        update(work_item)
        .where(work_item.c.id.in_([row.id for row in rows]), work_item.c.assignee_id == user.id)
        .values(assignee_id=delegate.id, proxy_for_id=user.id, note=f"代理 {user.display_name}")
    )
    for row in rows:
        audit.record(
            conn,
            "proxy_moved",
            instance_id=row.instance_id,
            work_item_id=row.id,
            actor_id=user.id,
            node_name=row.node_name,
            message=f"{user.display_name}外出，待办交由{delegate.display_name}代理",
        )
    return len(rows)


def _describe(conn: Connection, delegation_id: int) -> dict:
    delegate = user_account.alias("delegate")
    row = conn.execute(
        select(delegation, delegate.c.username.label("delegate"), delegate.c.display_name.label("delegate_name"))
        .join(delegate, delegate.c.id == delegation.c.delegate_id)
        .where(delegation.c.id == delegation_id)
    ).first()
    return {
        "id": row.id,
        "delegate": row.delegate,
        "delegate_name": row.delegate_name,
        "starts_on": row.starts_on.isoformat(),
        "ends_on": row.ends_on.isoformat(),
        "processes": [p for p in row.processes.split(",") if p],
        "reason": row.reason,
        "active": bool(row.active),
    }


def list_for(conn: Connection, user: users.User) -> list[dict]:
    ids = conn.execute(
        select(delegation.c.id).where(delegation.c.user_id == user.id).order_by(delegation.c.id.desc()).limit(50)
    )
    return [_describe(conn, row.id) for row in ids]


def end(conn: Connection, user: users.User, delegation_id: int) -> dict:
    """End a delegation early; items already with the delegate stay with them."""
    org_cache.changed(conn)
    result = conn.execute(
        update(delegation)
        .where(and_(delegation.c.id == delegation_id, delegation.c.user_id == user.id, delegation.c.active.is_(True)))
        .values(active=False, ended_at=utcnow())
    )
    if result.rowcount != 1:
        raise NotFound("代理设置不存在或已结束")
    return _describe(conn, delegation_id)
