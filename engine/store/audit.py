"""Append-only audit trail: one row per change, never updated or deleted."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection

from engine.store.fastsql import Prepared
from engine.store.tables import event_log, user_account, utcnow, work_item

# How the 流转记录 names each event type for a clerk.
EVENT_LABELS = {
    "started": "发起申请",
    "approved": "同意",
    "rejected": "不同意",
    "ended": "流程结束",
    "assigned": "待办分配",
    "skipped": "跳过",
    "auto_approved": "自动通过",
    "no_assignee": "无审批人",
    "cc": "知会",
    "circulated": "传阅",
    "circulation_recalled": "撤回传阅",
    "read": "已阅",
    "read_commented": "批示",
    "deployed": "部署",
    "overdue": "超时提醒",
    "commented": "提交意见",
    "sent_back": "退回",
    "resubmitted": "重新提交",
    "withdrawn": "撤回申请",
    "recalled": "撤回审批",
    "cancelled": "撤销",
    "transferred": "转办",
    "delegated": "委派",
    "resolved": "委派办理完成",
    "signers_added": "加签",
    "signers_removed": "减签",
    "urged": "催办",
    "proxy_moved": "代理",
    "reminded": "即将超时提醒",
    "escalated": "超时督办",
    "suspended": "挂起",
    "resumed": "恢复",
    "jumped": "管理员跳转",
    "terminated": "管理员终止",
    "calendar_changed": "工作日历调整",
    "office_hours_changed": "办公时间调整",
    "timer_fired": "定时事件",
    "migrated": "版本迁移",
    "external_completed": "外部任务完成",
    "message": "收到消息",
    "signal": "收到信号",
    "error": "流程异常",
    "retried": "异常后重试",
    "doc_no_allocated": "编号",
    "doc_no_changed": "文号调整",
    "doc_no_voided": "文号作废",
    "doc_no_reserved": "文号预留",
    "doc_no_assigned": "分配预留文号",
}


_INSERT = Prepared(insert(event_log))  # built once: see engine/store/fastsql.py


def record(
    conn: Connection,
    type_: str,
    *,
    instance_id: int | None = None,
    work_item_id: int | None = None,
    actor_id: int | None = None,
    node_id: str | None = None,
    node_name: str | None = None,
    decision: str | None = None,
    opinion: str | None = None,
    message: str | None = None,
) -> None:
    conn.execute(
        _INSERT,
        {
            "instance_id": instance_id,
            "work_item_id": work_item_id,
            "type": type_,
            "actor_id": actor_id,
            "node_id": node_id,
            "node_name": node_name,
            "decision": decision,
            "opinion": opinion,
            "message": message,
            "created_at": utcnow(),
        },
    )


_PRINCIPAL = user_account.alias("principal")
# Who the actor stood in for (代理): the principal recorded on the work item the event is about, when the
# actor is that item's holder (engine.org.deciders puts a delegate there with proxy_for_id).
_HISTORY = Prepared(
    select(
        event_log,
        user_account.c.display_name,
        user_account.c.username,
        work_item.c.signature.isnot(None).label("signed"),
        _PRINCIPAL.c.username.label("principal"),
        _PRINCIPAL.c.display_name.label("principal_name"),
    )
    .outerjoin(user_account, user_account.c.id == event_log.c.actor_id)
    .outerjoin(work_item, work_item.c.id == event_log.c.work_item_id)
    .outerjoin(
        _PRINCIPAL,
        (_PRINCIPAL.c.id == work_item.c.proxy_for_id) & (work_item.c.assignee_id == event_log.c.actor_id),
    )
    .where(event_log.c.instance_id == bindparam("b_instance"))
    .order_by(event_log.c.id)
)


def record_many(conn: Connection, events: list[dict]) -> None:
    """Several events with one statement: dicts of record()'s arguments (`type_` and keywords)."""
    if not events:
        return
    now = utcnow()
    columns = ("instance_id", "work_item_id", "actor_id", "node_id", "node_name", "decision", "opinion", "message")
    conn.execute(
        _INSERT,
        [{"type": e["type_"], "created_at": now, **{c: e.get(c) for c in columns}} for e in events],
    )


def acting_label(name: str | None, principal_name: str | None) -> str | None:
    """How the 流转记录 names who acted: "张三（代 孙丽）" when they stood in for someone (代理)."""
    return f"{name}（代 {principal_name}）" if name and principal_name else name


def history(conn: Connection, instance_id: int) -> list[dict]:
    """The 流转记录: every event, with who acted and whom they acted for (`on_behalf_of`, `actor_label`)."""
    rows = conn.execute(_HISTORY, {"b_instance": instance_id})
    return [
        {
            "type": row.type,
            "work_item_id": row.work_item_id,
            "signed": bool(row.signed) and row.type in ("approved", "rejected", "commented"),
            "label": EVENT_LABELS.get(row.type, row.type),
            "node": row.node_id,
            "node_name": row.node_name,
            "actor": row.username,
            "actor_name": row.display_name,
            "on_behalf_of": row.principal,
            "on_behalf_of_name": row.principal_name,
            "actor_label": acting_label(row.display_name, row.principal_name),
            "decision": row.decision,
            "opinion": row.opinion,
            "message": row.message,
            "at": row.created_at,
        }
        for row in rows
    ]
