"""异常: the instances the engine could not move on, for the administrators to see, fix and retry.

An instance enters the error state when a command after its start fails in the engine — a condition or an
assignee rule that cannot be evaluated, a completion condition that fails, a command over its budget
(engine.work.kernel.failure). Nothing of that command was stored. The administrator fixes the cause (deploys
a corrected version and migrates the instance, or corrects the organisation or the calendar) and retries:
the instance runs again from where it stood; whoever holds a work item on it is told to handle it again,
and a timer that was due fires again within a second. Both entering the error state and the retry are in
the 流转记录.
"""

from __future__ import annotations

from sqlalchemy import func, select

from engine.errors import Conflict
from engine.notify import outbox
from engine.org import users
from engine.store import audit
from engine.store.tables import event_log, instance, instance_timer, user_account
from engine.time.working_days import local_iso
from engine.work import frame
from engine.work.kernel import case as kernel
from engine.work.kernel import routing
from engine.work.kernel.failure import WorkflowFailed, open_holders

ADMINS_ONLY = "只有管理员可以查看和处理异常的申请"
LIMIT = 500


def list_errors(core, username: str) -> list[dict]:
    """The instances in the error state, newest first, with where and why each failed."""
    with core.db.read() as conn:
        users.require_admin(conn, username, ADMINS_ONLY)
        return _errors(conn)


def errors_page(core, username: str) -> dict:
    """The administrators' 异常申请 page: the list and the page frame's figures, in one read."""
    with core.db.read() as conn:
        user = users.require_admin(conn, username, ADMINS_ONLY)
        return {"items": _errors(conn), "layout": frame.figures(conn, user)}


def _errors(conn) -> list[dict]:
    newest = (
        select(event_log.c.instance_id, func.max(event_log.c.id).label("event_id"))
        .where(event_log.c.type == "error")
        .group_by(event_log.c.instance_id)
        .subquery()
    )
    rows = conn.execute(
        select(
            instance.c.id,
            instance.c.title,
            instance.c.process_key,
            instance.c.updated_at,
            user_account.c.display_name.label("initiator"),
            event_log.c.node_id,
            event_log.c.node_name,
            event_log.c.message,
            event_log.c.created_at.label("failed_at"),
        )
        .join(user_account, user_account.c.id == instance.c.initiator_id)
        .outerjoin(newest, newest.c.instance_id == instance.c.id)
        .outerjoin(event_log, event_log.c.id == newest.c.event_id)
        .where(instance.c.status == "error")
        .order_by(instance.c.updated_at.desc(), instance.c.id.desc())
        .limit(LIMIT)
    ).all()
    return [
        {
            "id": row.id,
            "title": row.title,
            "process": row.process_key,
            "initiator": row.initiator,
            "status": "error",
            "status_label": kernel.STATUS_LABELS["error"],
            "element": row.node_id,
            "element_name": row.node_name,
            "message": row.message or "",
            "failed_at": local_iso(row.failed_at or row.updated_at),
        }
        for row in rows
    ]


def retry(core, username: str, instance_id: int) -> dict:
    """重试: the instance runs again from where it stood. When it fails again nothing changes and the
    administrator hears why (422); it stays in the error state."""
    try:
        with core.db.write() as conn:
            actor = users.require_admin(conn, username, ADMINS_ONLY)
            case, inst = kernel.lock(core, conn, instance_id)
            if inst.status != "error":
                label = kernel.STATUS_LABELS.get(inst.status, inst.status)
                raise Conflict(f"该申请{label}，不在异常状态，无需重试")
            case.status = "running"
            audit.record(
                conn,
                "retried",
                instance_id=instance_id,
                actor_id=actor.id,
                message=f"管理员{actor.display_name}处理异常后重试，流程继续",
            )
            routing.advance(case)
            kernel.save(case)
            holders = open_holders(conn, instance_id) if case.status == "running" else []
            for user_id in holders:
                outbox.send(
                    conn,
                    user_id,
                    "todo",
                    f"申请“{case.title}”已恢复，请重新办理",
                    instance_id=instance_id,
                )
            timer_due = conn.execute(
                select(instance_timer.c.due_at).where(instance_timer.c.instance_id == instance_id)
            ).scalar()
            return {
                "id": instance_id,
                "status": case.status,
                "status_label": kernel.STATUS_LABELS.get(case.status, case.status),
                "notified": len(holders),
                "timer_due": local_iso(timer_due),
            }
    except WorkflowFailed as exc:
        exc.message = f"重试失败，申请仍为异常状态：{exc.message}"
        exc.args = (exc.message,)
        raise
