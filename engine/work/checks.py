"""Who may do what, now: the preconditions of the approval operations, in one place.

The commands call these checks before they act, and the pages ask `available_actions` / `instance_actions`
which buttons to show: both get the same answer because it comes from the same functions. A page passes a
`Snapshot` of what it read already, so the checks answer from it instead of asking the database again (the
tests' self-check compares both answers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection

from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.org import users
from engine.process.policy import OPERATIONS, policy_of
from engine.store.fastsql import Prepared
from engine.store.tables import event_log, work_item
from engine.time.working_days import to_local
from engine.work.kernel import case as kernel
from engine.work.kernel import items, reading
from engine.work.kernel.case import STATUS_LABELS, Case
from engine.work.kernel.items import ACTIVE, ADDED_ORIGINS

URGE_INTERVAL = timedelta(hours=1)

_OF_INSTANCE = work_item.c.instance_id == bindparam("b_instance")
_OF_USER = work_item.c.assignee_id == bindparam("b_user")
_HUMAN_DECISIONS = Prepared(
    select(work_item).where(
        _OF_INSTANCE, work_item.c.kind == "approve", work_item.c.status == "done", work_item.c.origin != "resubmit"
    )
)
_LAST_RESUBMIT = Prepared(
    select(func.max(work_item.c.completed_at)).where(
        _OF_INSTANCE, work_item.c.origin == "resubmit", work_item.c.status == "done"
    )
)
_OPEN_RESUBMIT = Prepared(
    select(work_item.c.id).where(_OF_INSTANCE, work_item.c.origin == "resubmit", work_item.c.status == "open")
)
# An approval the user has handled on the instance (a 知会 copy they have read is "done" too, but not one).
_HANDLED_BY = Prepared(
    select(work_item.c.id)
    .where(_OF_INSTANCE, _OF_USER, work_item.c.kind == "approve", work_item.c.status == "done")
    .limit(1)
)
_OPEN_OF_OTHERS_WHERE = (
    _OF_INSTANCE,
    work_item.c.kind == "approve",
    work_item.c.status == "open",
    work_item.c.assignee_id != bindparam("b_user"),
)
_OPEN_OF_OTHERS = Prepared(select(work_item).where(*_OPEN_OF_OTHERS_WHERE))
# When each of those items was last urged (催办 is throttled per item).
_LAST_URGED = Prepared(
    select(event_log.c.work_item_id, func.max(event_log.c.created_at).label("at"))
    .join(work_item, work_item.c.id == event_log.c.work_item_id)
    .where(*_OPEN_OF_OTHERS_WHERE, event_log.c.type == "urged")
    .group_by(event_log.c.work_item_id)
)
_MINE = Prepared(select(work_item).where(_OF_INSTANCE, _OF_USER, work_item.c.kind == "approve"))
_HOLDS_OPEN = Prepared(
    select(work_item.c.id)
    .where(_OF_INSTANCE, _OF_USER, work_item.c.kind == "approve", work_item.c.status == "open")
    .limit(1)
)
_READ_ITEMS = Prepared(select(work_item).where(_OF_INSTANCE, work_item.c.kind == "read").order_by(work_item.c.id))


@dataclass(frozen=True)
class Snapshot:
    """What a page read about an instance already: all its work items and, per item, when it was last
    urged. The checks below answer from it exactly as their queries would (a self-check compares)."""

    items: tuple
    last_urged: dict[int, object]


def _snapshot_items(case: Case, keep) -> list | None:
    snapshot = case.snapshot
    return None if snapshot is None else [i for i in snapshot.items if keep(i)]


# --- on a work item ------------------------------------------------------------------------------------


def node_allows(case: Case, item, operation: str) -> None:
    if operation not in policy_of(case.model.nodes.get(item.node_id)).operations:
        raise Forbidden(f"本节点不允许{OPERATIONS[operation]}")


def main_item(item, what: str) -> None:
    """The operation is for the node's own signers, not for a resubmission or a 委派 item."""
    if item.origin == "resubmit":
        raise Conflict(f"退回待修改的申请不能{what}：请修改后重新提交")
    if item.origin == "delegate":
        raise Conflict(f"委派给您的待办不能{what}：请办理完成后交回委派人")


def _human_decisions(case: Case):
    rows = _snapshot_items(case, lambda i: i.kind == "approve" and i.status == "done" and i.origin != "resubmit")
    if rows is not None:
        return rows
    return list(case.conn.execute(_HUMAN_DECISIONS, {"b_instance": case.instance_id}))


def check_recall(case: Case, item):
    """撤回 (审批人): the task to reset to, or None when the node is still open; raise when not allowed."""
    if item.status != "done" or item.decision != "approve" or item.origin in ("resubmit", "delegate"):
        raise Conflict("只能撤回自己已同意的待办")
    if case.status != "running":
        raise Conflict("申请已结束，不能撤回")
    node_allows(case, item, "recall")
    later = [d for d in _human_decisions(case) if d.id != item.id and d.completed_at >= item.completed_at]
    if later:
        raise Conflict("后续节点已经办理，不能撤回")
    task = case.workflow.get_task_from_id(task_uuid(item.task_id))
    if task is None:
        raise Conflict("该节点已不在流程中，不能撤回")
    if task.state == TaskState.READY:
        return None
    active = case.workflow.get_tasks(state=TaskState.READY, manual=True)
    if not active or not all(t.is_descendant_of(task) for t in active):
        raise Conflict("流程已离开该节点的分支，不能撤回")
    return task


def task_uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


# --- on an instance --------------------------------------------------------------------------------------


def check_withdraw(case: Case, inst, user: users.User) -> None:
    """撤回 (发起人): only before any approver has acted on this round of the application."""
    if inst.initiator_id != user.id:
        raise Forbidden("只有发起人可以撤回申请")
    if case.status != "running":
        raise Conflict(f"该申请{STATUS_LABELS.get(case.status, case.status)}，不能撤回")
    if _open_resubmit(case):
        raise Conflict("申请已在您手中待修改，无需撤回")
    # Only this round counts: after a 退回 and 重新提交 nobody has acted on the corrected application yet.
    resubmitted = _last_resubmit(case)
    if any(resubmitted is None or d.completed_at > resubmitted for d in _human_decisions(case)):
        raise Conflict("已有审批人办理，不能撤回：如需放弃请撤销申请")


def _last_resubmit(case: Case):
    rows = _snapshot_items(case, lambda i: i.origin == "resubmit" and i.status == "done")
    if rows is not None:
        return max((i.completed_at for i in rows if i.completed_at is not None), default=None)
    return case.conn.execute(_LAST_RESUBMIT, {"b_instance": case.instance_id}).scalar()


def _open_resubmit(case: Case):
    rows = _snapshot_items(case, lambda i: i.origin == "resubmit" and i.status == "open")
    if rows is not None:
        return rows[0] if rows else None
    return case.conn.execute(_OPEN_RESUBMIT, {"b_instance": case.instance_id}).first()


def check_cancel(case: Case, inst, user: users.User) -> None:
    """撤销: the initiator or an administrator, while the application is running or suspended."""
    if inst.initiator_id != user.id and not user.is_admin:
        raise Forbidden("只有发起人或管理员可以撤销申请")
    if case.status not in ("running", "suspended"):
        raise Conflict(f"该申请{STATUS_LABELS.get(case.status, case.status)}，不能撤销")


def _mine(case: Case, inst, user: users.User) -> list:
    """The user's approval items on the instance."""
    mine = _snapshot_items(case, lambda i: i.assignee_id == user.id and i.kind == "approve")
    if mine is None:
        mine = list(case.conn.execute(_MINE, {"b_instance": inst.id, "b_user": user.id}))
    return mine


def check_cc(case: Case, inst, user: users.User) -> None:
    """知会: the initiator, an approver of the instance (where their open node allows it), an administrator."""
    mine = _mine(case, inst, user)
    if inst.initiator_id != user.id and not mine and not user.is_admin:
        raise Forbidden("只有发起人和审批人可以知会")
    for item in mine:
        if item.status == "open":
            node_allows(case, item, "cc")


def check_urge(case: Case, inst, user: users.User, now) -> list:
    """催办: the open items of others the user may nudge now (at most once per item per hour)."""
    ready, again_at = _urge_targets(case, inst, user, now)
    if not ready:
        when = to_local(again_at).strftime("%H:%M")
        raise Conflict(f"每个待办每小时只能催办一次，请在 {when} 之后再试")
    return ready


def urge_again_at(case: Case, inst, user: users.User, now):
    """When the user may 催办 again (naive UTC), while every open item of others was nudged within the hour;
    None when they may now, or may not at all."""
    try:
        ready, again_at = _urge_targets(case, inst, user, now)
    except (Conflict, Forbidden):
        return None
    return None if ready else again_at


def _urge_targets(case: Case, inst, user: users.User, now) -> tuple[list, object]:
    """(the open items of others the user may nudge now, when the first of the others may be nudged again)."""
    if case.status != "running":
        raise Conflict(f"该申请{STATUS_LABELS.get(case.status, case.status)}，无需催办")
    params = {"b_instance": inst.id, "b_user": user.id}
    snapshot = case.snapshot
    if snapshot is not None:
        handled = bool(
            _snapshot_items(case, lambda i: i.assignee_id == user.id and i.kind == "approve" and i.status == "done")
        )
        others = _snapshot_items(
            case, lambda i: i.kind == "approve" and i.status == "open" and i.assignee_id != user.id
        )
    else:
        handled = case.conn.execute(_HANDLED_BY, params).first() is not None
        others = list(case.conn.execute(_OPEN_OF_OTHERS, params))
    if inst.initiator_id != user.id and not handled:
        raise Forbidden("只有发起人或已办理过的审批人可以催办")
    if not others:
        raise Conflict("当前没有需要催办的待办")
    if snapshot is not None:
        urged = {i.id: snapshot.last_urged[i.id] for i in others if i.id in snapshot.last_urged}
    else:
        urged = {row.work_item_id: row.at for row in case.conn.execute(_LAST_URGED, params)}
    ready, next_allowed = [], None
    for item in others:
        last = urged.get(item.id)
        if last is not None and now - last < URGE_INTERVAL:
            allowed = last + URGE_INTERVAL
            next_allowed = allowed if next_allowed is None else min(next_allowed, allowed)
        else:
            ready.append(item)
    return ready, next_allowed


def check_new_version(case: Case, user: users.User) -> None:
    """A new version of an application's file: by whoever holds an open work item on it, while it runs."""
    if case.status != "running":
        raise Conflict(f"该申请{STATUS_LABELS.get(case.status, case.status)}，不能再上传新版本")
    if case.conn.execute(_HOLDS_OPEN, {"b_instance": case.instance_id, "b_user": user.id}).first() is None:
        raise Forbidden("只有正在办理本申请的人可以上传新版本")


# --- 传阅 ----------------------------------------------------------------------------------------------


def _read_items(case: Case) -> list:
    rows = _snapshot_items(case, lambda i: i.kind == "read")
    if rows is not None:
        return sorted(rows, key=lambda i: i.id)
    return list(case.conn.execute(_READ_ITEMS, {"b_instance": case.instance_id}))


def check_circulate(case: Case, inst, user: users.User) -> tuple[str, str]:
    """传阅: whoever holds an open item of the instance at a node that allows it (the handler, the 批办
    leader), or an administrator, while the instance runs. Returns the node (id, name) it goes out from."""
    if case.status != "running":
        raise Conflict(f"该申请{STATUS_LABELS.get(case.status, case.status)}，不能传阅")
    holding = [i for i in _mine(case, inst, user) if i.status == "open" and i.origin != "resubmit"]
    for item in holding:
        if "circulate" in policy_of(case.model.nodes.get(item.node_id)).operations:
            return item.node_id, item.node_name
    if user.is_admin:
        return "circulation", OPERATIONS["circulate"]
    if holding:
        raise Forbidden(f"本节点不允许{OPERATIONS['circulate']}")
    raise Forbidden("只有当前办理人或管理员可以传阅")


def check_recall_readers(case: Case, inst, user: users.User) -> list:
    """撤回传阅: the unread readers' items the user may recall now: those they circulated (an
    administrator: any), while the instance runs."""
    if case.status != "running":
        raise Conflict(f"该申请{STATUS_LABELS.get(case.status, case.status)}，不能撤回传阅")
    circulated = [i for i in _read_items(case) if user.is_admin or i.added_by_id == user.id]
    if not circulated:
        raise Forbidden("只有传阅人或管理员可以撤回传阅")
    return [i for i in circulated if i.status == "open"]


def recallable_readers(case: Case, inst, user: users.User) -> list:
    """The unread readers' items the user may recall now (none when they may not recall at all)."""
    try:
        return check_recall_readers(case, inst, user)
    except (Conflict, Forbidden):
        return []


def check_reading(status: str, item) -> None:
    """阅办 (已阅 / 批示) on one's own 待阅 item: not recalled, and the instance still running (a reader who
    has read may add a 批示 later)."""
    if item.kind != "read":
        raise Conflict("这不是待阅事项")
    if item.status == reading.RECALLED:
        raise Conflict("该传阅已被撤回，无需阅办")
    if status != "running" or item.status == "cancelled":
        raise Conflict(f"该申请{STATUS_LABELS.get(status, status)}，不能再阅办")


def check_read_before_completing(case: Case, item) -> None:
    """require_read (阅毕方可办结): the node's item is not approved while any 传阅 reader has not read."""
    if not policy_of(case.model.nodes.get(item.node_id)).require_read:
        return
    unread = [i.assignee_id for i in _read_items(case) if i.status == "open"]
    if unread:
        people = users.users_by_ids(case.conn, unread)
        names = "、".join(people[u].display_name for u in dict.fromkeys(unread))
        raise Conflict(f"还有 {len(people)} 人未阅：{names}；请等待阅毕或撤回未读的传阅")


# --- what may be done now --------------------------------------------------------------------------------


def available_actions(core, conn: Connection, user: users.User, item) -> list[str]:
    """Exactly the operations the user may perform on this work item now (the commands' own checks)."""
    if item is None or item.assignee_id != user.id or item.kind not in ("approve", "read"):
        return []
    case, _inst = kernel.read(core, conn, item.instance_id)
    if item.kind == "read":
        return ["read"] if passes(lambda: check_reading(case.status, item)) else []
    if case.status != "running":
        return []
    policy = policy_of(case.model.nodes.get(item.node_id))
    can_remove = "remove_signers" in policy.operations and any(
        i.origin in ADDED_ORIGINS and i.added_by_id == user.id and i.status in ACTIVE
        for i in items.node_items(case, item.task_id)
    )
    if item.status in ("done", "waiting"):  # after 后加签 / 前加签 the adder may still 减签
        actions = ["recall"] if item.status == "done" and passes(lambda: check_recall(case, item)) else []
        return actions + (["remove_signers"] if can_remove else [])
    if item.status != "open":
        return []
    if item.origin == "resubmit":
        return ["resubmit", "cancel"]
    if item.origin == "delegate":
        return ["resolve"]
    actions = ["approve"] if policy.sign_mode == "collect" else ["approve", "reject"]
    for operation in ("send_back", "transfer", "delegate", "add_signers"):
        if operation in policy.operations:
            actions.append(operation)
    if can_remove:
        actions.append("remove_signers")
    if "cc" in policy.operations:
        actions.append("cc")
    return actions


def instance_actions(case: Case, inst, user: users.User, now) -> list[str]:
    """Instance-level operations for this user now: withdraw, cancel, urge, cc, circulate, recall_readers."""
    actions = []
    if passes(lambda: check_withdraw(case, inst, user)):
        actions.append("withdraw")
    if passes(lambda: check_cancel(case, inst, user)):
        actions.append("cancel")
    if passes(lambda: check_urge(case, inst, user, now)):
        actions.append("urge")
    if case.status == "running" and passes(lambda: check_cc(case, inst, user)):
        actions.append("cc")
    if passes(lambda: check_circulate(case, inst, user)):
        actions.append("circulate")
    if recallable_readers(case, inst, user):
        actions.append("recall_readers")
    return actions


def passes(check) -> bool:
    try:
        check()
    except (Conflict, Forbidden, NotFound, InvalidData):
        return False
    return True
