"""Why a work item is in someone's 待办 again, and whether it was urged: the marks of a list row and the
task page's banner.

An item came back when 退回 (or 不同意 with a returning reject rule) sent the application to it, when a
撤回 brought it back, or when the person it was 委派'd to handed it back. The items say so themselves:
`origin` (resubmit | send_back | recall) with `added_by_id` naming who caused it, and a 委派 child item
(`parent_id`) that was resolved. The reason is that person's event in the audit trail: the newest of their
退回 / 不同意 / 撤回 events on the instance before the item was created. Urged (催办) items have `urged`
events. Each function reads the marks of a page of items in one query, through the instance's index.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection

from engine.store.tables import event_log, user_account, work_item
from engine.time.working_days import local_iso

# The events that send an item back, and the tag each gives it.
CAUSES = {"sent_back": "退回", "rejected": "退回", "withdrawn": "撤回", "recalled": "撤回"}
CAUSE_ACTIONS = {"sent_back": "退回", "rejected": "不同意", "withdrawn": "撤回申请", "recalled": "撤回审批"}
RETURNED_ORIGINS = ("resubmit", "send_back", "recall")
DELEGATION_RETURNED = "委派返回"


def came_back(conn: Connection, rows) -> dict[int, dict]:
    """For each work item row (id, instance_id, origin, added_by_id, created_at) that came back: kind
    (退回 | 撤回 | 委派返回), action, by (a name), at (office time), node_name and reason."""
    found: dict[int, dict] = {}
    returned = [r for r in rows if r.origin in RETURNED_ORIGINS]
    if returned:
        events = _causes(conn, {r.instance_id for r in returned})
        for row in returned:
            event = _cause_of(row, events.get(row.instance_id, []))
            if event is not None:
                found[row.id] = {
                    "kind": CAUSES[event.type],
                    "action": CAUSE_ACTIONS[event.type],
                    "by": event.display_name,
                    "at": local_iso(event.created_at),
                    "node_name": event.node_name,
                    "reason": event.opinion or event.message,
                }
    approvals = [r for r in rows if r.origin not in ("resubmit", "delegate")]
    if approvals:
        for parent_id, child in _resolved_delegations(conn, approvals).items():
            found.setdefault(
                parent_id,
                {
                    "kind": DELEGATION_RETURNED,
                    "action": "办理完成，交回",
                    "by": child.display_name,
                    "at": local_iso(child.completed_at),
                    "node_name": child.node_name,
                    "reason": child.opinion,
                },
            )
    return found


_CAUSES = (
    select(
        event_log.c.instance_id,
        event_log.c.type,
        event_log.c.actor_id,
        event_log.c.node_name,
        event_log.c.opinion,
        event_log.c.message,
        event_log.c.created_at,
        user_account.c.display_name,
    )
    .outerjoin(user_account, user_account.c.id == event_log.c.actor_id)
    .where(event_log.c.instance_id.in_(bindparam("instance_ids", expanding=True)), event_log.c.type.in_(tuple(CAUSES)))
    .order_by(event_log.c.instance_id, event_log.c.id)
)


def _causes(conn: Connection, instance_ids: set[int]) -> dict[int, list]:
    found: dict[int, list] = {}
    for row in conn.execute(_CAUSES, {"instance_ids": list(instance_ids)}):
        found.setdefault(row.instance_id, []).append(row)
    return found


def _cause_of(item, events: list):
    """The newest event of whoever sent the item back (any actor when the system did) before it was made."""
    earlier = [e for e in events if e.created_at <= item.created_at]
    if item.added_by_id is not None:
        earlier = [e for e in earlier if e.actor_id == item.added_by_id] or earlier
    return earlier[-1] if earlier else None


_DELEGATIONS_RESOLVED = (
    select(
        work_item.c.parent_id,
        work_item.c.node_name,
        work_item.c.opinion,
        work_item.c.completed_at,
        user_account.c.display_name,
    )
    .join(user_account, user_account.c.id == work_item.c.assignee_id)
    .where(
        work_item.c.instance_id.in_(bindparam("instance_ids", expanding=True)),
        work_item.c.kind == "approve",
        work_item.c.status == "done",
        work_item.c.origin == "delegate",
        work_item.c.parent_id.in_(bindparam("ids", expanding=True)),
    )
    .order_by(work_item.c.id)
)


def _resolved_delegations(conn: Connection, rows) -> dict[int, object]:
    """Parent item id → its newest 委派 child that was handed back (resolved)."""
    children = conn.execute(
        _DELEGATIONS_RESOLVED, {"instance_ids": list({r.instance_id for r in rows}), "ids": list({r.id for r in rows})}
    )
    return {child.parent_id: child for child in children}


_URGED = (
    select(event_log.c.work_item_id, func.count().label("times"), func.max(event_log.c.created_at).label("last"))
    .where(
        event_log.c.instance_id.in_(bindparam("instance_ids", expanding=True)),
        event_log.c.type == "urged",
        event_log.c.work_item_id.in_(bindparam("ids", expanding=True)),
    )
    .group_by(event_log.c.work_item_id)
)


def urged(conn: Connection, rows) -> dict[int, dict]:
    """For each work item row (id, instance_id) that was urged (催办): how often and when last."""
    if not rows:
        return {}
    found = conn.execute(
        _URGED, {"instance_ids": list({r.instance_id for r in rows}), "ids": list({r.id for r in rows})}
    )
    return {row.work_item_id: {"times": row.times, "last_at": local_iso(row.last)} for row in found}
