"""挂起 / 恢复: an administrator stops an instance's clock and later starts it again.

While suspended nobody can decide its work items and the deadline sweep skips them; on resume every
open item's due time moves out by the office time the instance spent suspended.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from engine import fields
from engine.errors import Conflict, FieldError, InvalidData, NotFound
from engine.notify import outbox
from engine.org import oversight
from engine.store import audit
from engine.store.tables import instance, suspension, utcnow, work_item
from engine.time.office_hours import work_calendar
from engine.work.kernel.case import STATUS_LABELS

MAX_REASON = 500


def _reason(reason, required: bool) -> str:
    text = fields.text(reason, "reason", "原因", max_length=MAX_REASON)
    if required and not text:
        raise InvalidData([FieldError("reason", "挂起必须填写原因")])
    return text


def _lock_instance(core, conn: Connection, instance_id: int):
    query = select(instance).where(instance.c.id == instance_id)
    if not core.db.is_sqlite:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound("申请不存在")
    return row


def _open_items(conn: Connection, instance_id: int):
    return conn.execute(
        select(work_item.c.id, work_item.c.assignee_id, work_item.c.due_at).where(
            work_item.c.instance_id == instance_id, work_item.c.status == "open", work_item.c.kind == "approve"
        )
    ).all()


def _tell(conn: Connection, inst, items, kind: str, title: str, body: str) -> None:
    people = {inst.initiator_id} | {item.assignee_id for item in items}
    for user_id in sorted(people):
        outbox.send(conn, user_id, kind, title, body, instance_id=inst.id)


def suspend(core, username: str, instance_id: int, reason: str) -> dict:
    """挂起: stop the instance and its clock (administrators only)."""
    reason = _reason(reason, required=True)
    with core.db.write() as conn:
        user = oversight.require_monitor(conn, username)
        inst = _lock_instance(core, conn, instance_id)
        oversight.require_process(conn, user, inst.process_key)
        if inst.status != "running":
            raise Conflict(f"该申请{STATUS_LABELS.get(inst.status, inst.status)}，不能挂起")
        now = utcnow()
        conn.execute(
            update(instance)
            .where(instance.c.id == inst.id)
            .values(status="suspended", version=inst.version + 1, updated_at=now)
        )
        conn.execute(
            insert(suspension).values(instance_id=inst.id, suspended_at=now, suspended_by=user.id, reason=reason)
        )
        items = _open_items(conn, inst.id)
        conn.execute(
            update(work_item)
            .where(work_item.c.instance_id == inst.id, work_item.c.status == "open", work_item.c.kind == "approve")
            .values(next_step="paused", next_step_at=None)
        )
        audit.record(conn, "suspended", instance_id=inst.id, actor_id=user.id, message=f"挂起：{reason}")
        _tell(conn, inst, items, "suspended", f"申请“{inst.title}”已被管理员挂起", reason)
        return {"id": inst.id, "status": "suspended"}


def resume(core, username: str, instance_id: int, reason: str | None = None) -> dict:
    """恢复: run the instance again; open items' due times move out by the suspended office time."""
    reason = _reason(reason, required=False)
    with core.db.write() as conn:
        user = oversight.require_monitor(conn, username)
        inst = _lock_instance(core, conn, instance_id)
        oversight.require_process(conn, user, inst.process_key)
        if inst.status != "suspended":
            raise Conflict(f"该申请{STATUS_LABELS.get(inst.status, inst.status)}，无需恢复")
        now = utcnow()
        open_row = conn.execute(
            select(suspension)
            .where(suspension.c.instance_id == inst.id, suspension.c.resumed_at.is_(None))
            .order_by(suspension.c.id.desc())
            .limit(1)
        ).first()
        cal = work_calendar(conn)
        since = open_row.suspended_at if open_row else now
        paused = round(cal.working_minutes_between(since, now))
        items = _open_items(conn, inst.id)
        for item in items:
            due = cal.add_working_minutes(item.due_at, paused)[0] if item.due_at else None
            conn.execute(
                update(work_item)
                .where(work_item.c.id == item.id)
                .values(
                    due_at=due,
                    paused_minutes=work_item.c.paused_minutes + paused,
                    next_step=None,  # the sweep plans the remaining steps from the new due time
                    next_step_at=None,
                )
            )
        if open_row is not None:
            conn.execute(
                update(suspension)
                .where(suspension.c.id == open_row.id)
                .values(resumed_at=now, resumed_by=user.id, paused_minutes=paused)
            )
        conn.execute(
            update(instance)
            .where(instance.c.id == inst.id)
            .values(status="running", version=inst.version + 1, updated_at=now)
        )
        hours = paused / 60
        message = f"恢复办理：挂起期间 {hours:.1f} 个工作小时不计入办理时限"
        if reason:
            message += f"（{reason}）"
        audit.record(conn, "resumed", instance_id=inst.id, actor_id=user.id, message=message)
        _tell(conn, inst, items, "resumed", f"申请“{inst.title}”已恢复办理", message)
        return {"id": inst.id, "status": "running", "paused_minutes": paused}
