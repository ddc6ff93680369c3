"""The Chinese approval operations (GLOSSARY): 退回, 撤回, 撤销, 转办, 委派, 加签/减签, 知会, 催办.

Each is one command, one transaction: lock the instance, check who may do it and in which state and
whether the node allows it, act on the work items (and, for 退回/撤回, on the SpiffWorkflow state
through `reset_from_task_id`), write the audit event, save. `available_actions` answers "what may
this user do with this item now" with the same checks the commands use.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, func, select, update

from engine.errors import Conflict, FieldError, Forbidden, InvalidData, NotFound
from engine.org import users
from engine.process import forms
from engine.process.policy import OPERATIONS, policy_of
from engine.store import audit
from engine.store.fastsql import Prepared
from engine.store.tables import event_log, instance, utcnow, work_item
from engine.time.working_days import to_local
from engine.work.runtime import (
    EMPTY_FORM,
    STATUS_LABELS,
    USER_TASK_TYPES,
    advance,
    check_opinion,
    close_open_items,
    create_cc,
    is_participant,
    item_for_actor,
    load_session,
    notify,
    open_item_session,
    ready_task,
    render_title,
    run_engine,
    save,
)
from engine.work.signing import ACTIVE, ADDED_ORIGINS, MAIN_ORIGINS, create_item, node_items, settle

URGE_INTERVAL = timedelta(hours=1)

# The checks behind every task and instance page, built once and run by engine.fastsql (see engine/runtime.py).
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
_HANDLED_BY = Prepared(select(work_item.c.id).where(_OF_INSTANCE, _OF_USER, work_item.c.status == "done").limit(1))
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
POSITIONS = {
    "before": ("add_before", "前加签"),
    "after": ("add_after", "后加签"),
    "parallel": ("add_parallel", "并加签"),
}
RESUBMIT_NODE = "发起人修改后重新提交"


# --- command scaffolding -------------------------------------------------------------------


@contextlib.contextmanager
def _item_command(core, username: str, item_id: int, statuses=("open",)):
    with core.db.write() as conn:
        user = users.require_user(conn, username)
        session, item = open_item_session(core, conn, item_id, user, statuses=statuses)
        yield session, item, user
        save(session)


@contextlib.contextmanager
def _instance_command(core, username: str, instance_id: int):
    with core.db.write() as conn:
        user = users.require_user(conn, username)
        exists = conn.execute(select(instance.c.id).where(instance.c.id == instance_id)).first()
        if exists is None or not is_participant(conn, instance_id, user):
            raise NotFound("申请不存在，或您无权查看")
        session, inst = load_session(core, conn, instance_id)
        yield session, inst, user
        save(session)


def _node_allows(session, item, operation: str) -> None:
    policy = policy_of(session.model.nodes.get(item.node_id))
    if operation not in policy.operations:
        raise Forbidden(f"本节点不允许{OPERATIONS[operation]}")


def _main_item(item, what: str) -> None:
    if item.origin == "resubmit":
        raise Conflict(f"退回待修改的申请不能{what}：请修改后重新提交")
    if item.origin == "delegate":
        raise Conflict(f"委派给您的待办不能{what}：请办理完成后交回委派人")


def _users(conn, usernames, field: str, *, exclude: int | None = None) -> list[users.User]:
    if isinstance(usernames, str):
        usernames = [usernames]
    if isinstance(usernames, list):
        usernames = [name for name in usernames if isinstance(name, str) and name.strip()]
    if not isinstance(usernames, list) or not usernames:
        raise InvalidData([FieldError(field, "请至少选择一个人")])
    found = []
    for name in usernames:
        user = users.find_user(conn, str(name).strip()) if name else None
        if user is None or not user.active:
            raise InvalidData([FieldError(field, f"用户 '{name}' 不存在")])
        if exclude is not None and user.id == exclude:
            raise InvalidData([FieldError(field, "不能选择自己")])
        if user.id not in {u.id for u in found}:
            found.append(user)
    return found


def _names(users) -> str:
    return "、".join(u.display_name for u in users)


def _record(session, type_, user, item=None, **kwargs) -> None:
    audit.record(
        session.conn,
        type_,
        instance_id=session.instance_id,
        work_item_id=item.id if item is not None else None,
        actor_id=user.id if user is not None else None,
        node_id=kwargs.pop("node_id", item.node_id if item is not None else None),
        node_name=kwargs.pop("node_name", item.node_name if item is not None else None),
        **kwargs,
    )


def _close_item(session, item, decision: str, opinion: str | None, status: str = "done", note=None) -> None:
    session.conn.execute(
        update(work_item)
        .where(work_item.c.id == item.id)
        .values(status=status, decision=decision, opinion=opinion, note=note, completed_at=utcnow())
    )


def _active_on_node(session, task_id: str) -> set[int]:
    return {i.assignee_id for i in node_items(session, task_id) if i.status in ACTIVE}


# --- 退回 ---------------------------------------------------------------------------------------


def _handlers(session, task_id: str) -> list[int]:
    rows = session.conn.execute(
        select(work_item.c.assignee_id)
        .where(
            work_item.c.instance_id == session.instance_id,
            work_item.c.task_id == task_id,
            work_item.c.status == "done",
            work_item.c.decision == "approve",
            work_item.c.origin.in_(MAIN_ORIGINS),  # signers added by 加签 were for that round only
        )
        .order_by(work_item.c.seq, work_item.c.id)
    )
    users = []
    for row in rows:
        if row.assignee_id not in users:
            users.append(row.assignee_id)
    return users


def earlier_nodes(session, task) -> list[tuple[object, list[int]]]:
    """Completed user-task nodes on the path to `task`, nearest first, with who approved them."""
    found, seen = [], set()
    current = task.parent
    while current is not None:
        name = current.task_spec.name
        node = session.model.nodes.get(name)
        if node is not None and node.type in USER_TASK_TYPES and current.state == TaskState.COMPLETED:
            if name not in seen:
                seen.add(name)
                handlers = _handlers(session, str(current.id))
                if handlers:
                    found.append((current, handlers))
        current = current.parent
    return found


def send_back_targets(session, item) -> list[dict]:
    task = ready_task(session.workflow, item.task_id)
    targets = []
    people = users.users_by_ids(session.conn, [u for _, users in earlier_nodes(session, task) for u in users])
    for index, (earlier, handlers) in enumerate(earlier_nodes(session, task)):
        node = session.model.nodes[earlier.task_spec.name]
        targets.append(
            {
                "node": node.id,
                "name": node.name,
                "handlers": [people[u].display_name for u in handlers if u in people],
                "previous": index == 0,
            }
        )
    targets.append(
        {
            "node": "initiator",
            "name": "发起人",
            "handlers": [session.initiator.display_name],
            "previous": not targets,
        }
    )
    return targets


def return_to_initiator(session, node, *, actor_id: int | None, reason: str, note: str = "已退回发起人") -> None:
    """The application goes back to its drafter, who edits it and resubmits (or cancels it)."""
    close_open_items(session, note)
    start_id = next((n.id for n in session.model.nodes.values() if n.type == "startEvent"), "StartEvent")
    create_item(
        session,
        None,
        _Pseudo(start_id, RESUBMIT_NODE),
        session.initiator.id,
        origin="resubmit",
        task_id="resubmit",
        added_by_id=actor_id,
    )
    session.jump_to = node.id if node is not None and policy_of(node).resubmit == "direct" else None
    notify(
        session.conn,
        session.initiator.id,
        session.instance_id,
        "returned",
        f"您的申请“{session.title}”已退回：{reason}" if reason else f"您的申请“{session.title}”已退回",
    )


class _Pseudo:
    """A node-like value for items that belong to no BPMN user task (the resubmission step)."""

    def __init__(self, node_id: str, name: str):
        self.id, self.name, self.properties, self.type = node_id, name, {}, "resubmit"


def return_to_node(session, task, target_id: str, returner, *, actor_id: int | None) -> None:
    for earlier, handlers in earlier_nodes(session, task):
        if earlier.task_spec.name == target_id:
            close_open_items(session, "已退回")
            session.reassign[target_id] = handlers
            session.workflow.reset_from_task_id(earlier.id)
            session.jump_to = None
            advance(session)  # the target node opens for the people who handled it
            # "direct": once they have acted, the nodes in between pass and the returning node is next.
            session.jump_to = returner.id if policy_of(returner).resubmit == "direct" else None
            return
    raise Conflict(f"只能退回到本申请已经办理过的节点，“{target_id}”不在其中")


def send_back(core, username: str, item_id: int, to_node: str | None, opinion: str | None) -> dict:
    """退回: return the application for rework to an earlier node or to the initiator."""
    opinion = check_opinion(opinion, required=True, what="退回时")
    with _item_command(core, username, item_id) as (session, item, user):
        _main_item(item, "退回")
        _node_allows(session, item, "send_back")
        targets = send_back_targets(session, item)
        if to_node:
            target = next((t for t in targets if t["node"] == to_node), None)
            if target is None:
                raise InvalidData([FieldError("to_node", "只能退回到上一节点、已经办理过的节点或发起人")])
        else:
            target = next(t for t in targets if t["previous"])
        task = ready_task(session.workflow, item.task_id)
        node = session.model.nodes.get(item.node_id)
        _close_item(session, item, "send_back", opinion)
        _record(
            session,
            "sent_back",
            user,
            item,
            decision="send_back",
            opinion=opinion,
            message=f"退回至{target['name']}（{'、'.join(target['handlers'])}）",
        )
        if target["node"] == "initiator":
            return_to_initiator(session, node, actor_id=user.id, reason=opinion)
        else:
            return_to_node(session, task, target["node"], node, actor_id=user.id)
        return {"id": session.instance_id, "status": session.status, "to": target}


def resubmit(session, item, user, data) -> None:
    """重新提交: the drafter's corrected application walks the route again (or jumps back, see 退回)."""
    conn = session.conn
    schema = session.compiled.form(session.model.start_form) or EMPTY_FORM
    cleaned = forms.validate(schema, data, user_exists=lambda name: users.find_user(conn, name) is not None)
    workflow = session.workflow
    start = next(
        (
            t
            for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if session.model.nodes.get(t.task_spec.name)
            and session.model.nodes[t.task_spec.name].type == "startEvent"
            and t.workflow is workflow
        ),
        None,
    )
    if start is None:
        raise Conflict("找不到流程的开始节点，无法重新提交")
    values = {**cleaned, "initiator": session.initiator.username, "priority": session.priority}
    for holder in (workflow.task_tree, start.parent):
        for key in set(schema.get("properties", {})) - set(cleaned):
            holder.data.pop(key, None)
        holder.data.update(values)
    session.data = cleaned
    session.title = render_title(
        session.model.title_template,
        {**cleaned, "initiator_name": session.initiator.display_name, "priority": session.priority},
    )
    _close_item(session, item, "resubmit", None)
    _record(session, "resubmitted", user, item, message="发起人修改后重新提交")
    workflow.reset_from_task_id(start.id)
    run_engine(workflow)
    advance(session)


# --- 撤回 / 撤销 -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What a page read about an instance already: all its work items and, per item, when it was last
    urged. The checks below answer from it exactly as their queries would (a self-check compares)."""

    items: tuple
    last_urged: dict[int, object]


def _snapshot_items(session, keep) -> list | None:
    snapshot = session.snapshot
    return None if snapshot is None else [i for i in snapshot.items if keep(i)]


def _human_decisions(session):
    rows = _snapshot_items(session, lambda i: i.kind == "approve" and i.status == "done" and i.origin != "resubmit")
    if rows is not None:
        return rows
    return list(session.conn.execute(_HUMAN_DECISIONS, {"b_instance": session.instance_id}))


def check_withdraw(session, inst, user) -> None:
    if inst.initiator_id != user.id:
        raise Forbidden("只有发起人可以撤回申请")
    if session.status != "running":
        raise Conflict(f"该申请{STATUS_LABELS.get(session.status, session.status)}，不能撤回")
    if _open_resubmit(session):
        raise Conflict("申请已在您手中待修改，无需撤回")
    # Only this round counts: after a 退回 and 重新提交 nobody has acted on the corrected application yet.
    resubmitted = _last_resubmit(session)
    if any(resubmitted is None or d.completed_at > resubmitted for d in _human_decisions(session)):
        raise Conflict("已有审批人办理，不能撤回：如需放弃请撤销申请")


def _last_resubmit(session):
    rows = _snapshot_items(session, lambda i: i.origin == "resubmit" and i.status == "done")
    if rows is not None:
        return max((i.completed_at for i in rows if i.completed_at is not None), default=None)
    return session.conn.execute(_LAST_RESUBMIT, {"b_instance": session.instance_id}).scalar()


def _open_resubmit(session):
    rows = _snapshot_items(session, lambda i: i.origin == "resubmit" and i.status == "open")
    if rows is not None:
        return rows[0] if rows else None
    return session.conn.execute(_OPEN_RESUBMIT, {"b_instance": session.instance_id}).first()


def withdraw(core, username: str, instance_id: int) -> dict:
    """撤回 (a): the initiator pulls the application back before any approver has acted."""
    with _instance_command(core, username, instance_id) as (session, inst, user):
        check_withdraw(session, inst, user)
        _record(session, "withdrawn", user, message="发起人撤回申请，待修改后重新提交")
        return_to_initiator(session, None, actor_id=user.id, reason="", note="已由申请人撤回")
        return {"id": instance_id, "status": session.status}


def check_recall(session, item) -> object:
    """Return the task to reset to (or None when the node is still open); raise when not allowed."""
    if item.status != "done" or item.decision != "approve" or item.origin in ("resubmit", "delegate"):
        raise Conflict("只能撤回自己已同意的待办")
    if session.status != "running":
        raise Conflict("申请已结束，不能撤回")
    _node_allows(session, item, "recall")
    later = [d for d in _human_decisions(session) if d.id != item.id and d.completed_at >= item.completed_at]
    if later:
        raise Conflict("后续节点已经办理，不能撤回")
    task = session.workflow.get_task_from_id(_uuid(item.task_id))
    if task is None:
        raise Conflict("该节点已不在流程中，不能撤回")
    if task.state == TaskState.READY:
        return None
    active = [t for t in session.workflow.get_tasks(state=TaskState.READY, manual=True)]
    if not active or not all(t.is_descendant_of(task) for t in active):
        raise Conflict("流程已离开该节点的分支，不能撤回")
    return task


def _uuid(text: str):
    from uuid import UUID

    try:
        return UUID(text)
    except ValueError:
        return None


def recall(core, username: str, item_id: int) -> dict:
    """撤回 (b): an approver takes back their own decision while the next step has not acted."""
    with core.db.write() as conn:
        user = users.require_user(conn, username)
        item = item_for_actor(conn, item_id, user)  # not yours: 403 to a participant, else 404
        session, inst = load_session(core, conn, item.instance_id)
        item = conn.execute(select(work_item).where(work_item.c.id == item_id)).first()
        task = check_recall(session, item)
        _close_item(session, item, item.decision, item.opinion, status="cancelled", note="已撤回")
        _record(session, "recalled", user, item, message="审批人撤回了自己的审批")
        if task is None:  # the node is still open: this signer decides again
            node = session.model.nodes[item.node_id]
            if policy_of(node).sign_mode == "sequential":  # 依次: whoever came next waits for them again
                session.conn.execute(
                    update(work_item)
                    .where(
                        work_item.c.instance_id == session.instance_id,
                        work_item.c.task_id == item.task_id,
                        work_item.c.status == "open",
                        work_item.c.origin.in_(MAIN_ORIGINS),
                        work_item.c.seq > item.seq,
                    )
                    .values(status="waiting")
                )
            create_item(
                session,
                session.workflow.get_task_from_id(_uuid(item.task_id)),
                node,
                user.id,
                seq=item.seq,
                origin="recall",
            )
        else:
            close_open_items(session, "已被上一节点撤回")
            session.reassign[item.node_id] = _handlers(session, item.task_id) or [user.id]
            if user.id not in session.reassign[item.node_id]:
                session.reassign[item.node_id].append(user.id)
            session.workflow.reset_from_task_id(task.id)
            advance(session)
        save(session)
        return {"id": session.instance_id, "status": session.status}


def check_cancel(session, inst, user) -> None:
    if inst.initiator_id != user.id and not user.is_admin:
        raise Forbidden("只有发起人或管理员可以撤销申请")
    if session.status not in ("running", "suspended"):
        raise Conflict(f"该申请{STATUS_LABELS.get(session.status, session.status)}，不能撤销")


def cancel(core, username: str, instance_id: int, reason: str | None) -> dict:
    """撤销: the initiator (or an administrator) cancels the whole application with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidData([FieldError("reason", "撤销必须填写原因")])
    if len(reason) > 500:
        raise InvalidData([FieldError("reason", "原因最多 500 个字")])
    with _instance_command(core, username, instance_id) as (session, inst, user):
        check_cancel(session, inst, user)
        close_open_items(session, "申请已撤销")
        session.workflow.cancel()
        session.status = "cancelled"
        session.end_reason = reason
        who = "管理员" if inst.initiator_id != user.id else "发起人"
        _record(session, "cancelled", user, message=f"{who}{user.display_name}撤销了申请：{reason}")
        return {"id": instance_id, "status": session.status}


# --- 转办 / 委派 ---------------------------------------------------------------------------------


def transfer(core, username: str, item_id: int, to_user: str, opinion: str | None) -> dict:
    """转办: hand the work item to someone else for good; they decide."""
    opinion = check_opinion(opinion, required=False, what="转办")
    with _item_command(core, username, item_id) as (session, item, user):
        _main_item(item, "转办")
        _node_allows(session, item, "transfer")
        (target,) = _users(session.conn, [to_user], "to_user", exclude=user.id)
        if target.id in _active_on_node(session, item.task_id):
            raise Conflict(f"{target.display_name}已在办理本节点，不能转办给他")
        _close_item(session, item, "transfer", opinion)
        origin = item.origin if item.origin in ADDED_ORIGINS else "transfer"
        task = ready_task(session.workflow, item.task_id)
        create_item(
            session,
            task,
            session.model.nodes[item.node_id],
            target.id,
            seq=item.seq,
            origin=origin,
            added_by_id=item.added_by_id if origin in ADDED_ORIGINS else user.id,
        )
        _record(
            session,
            "transferred",
            user,
            item,
            decision="transfer",
            opinion=opinion,
            message=f"转办：{user.display_name} → {target.display_name}",
        )
        return {"id": session.instance_id, "to": target.username}


def delegate(core, username: str, item_id: int, to_user: str, opinion: str | None) -> dict:
    """委派: ask someone to handle or advise; the item comes back to the delegator, who decides."""
    opinion = check_opinion(opinion, required=False, what="委派")
    with _item_command(core, username, item_id) as (session, item, user):
        _main_item(item, "委派")
        _node_allows(session, item, "delegate")
        (target,) = _users(session.conn, [to_user], "to_user", exclude=user.id)
        if target.id in _active_on_node(session, item.task_id):
            raise Conflict(f"{target.display_name}已在办理本节点，不能委派给他")
        session.conn.execute(
            update(work_item)
            .where(work_item.c.id == item.id)
            .values(status="waiting", note=f"已委派给{target.display_name}，等待其办理")
        )
        task = ready_task(session.workflow, item.task_id)
        create_item(
            session,
            task,
            session.model.nodes[item.node_id],
            target.id,
            seq=item.seq,
            origin="delegate",
            parent_id=item.id,
            added_by_id=user.id,
            opinion=None,
        )
        _record(
            session,
            "delegated",
            user,
            item,
            opinion=opinion,
            message=f"委派：{user.display_name} → {target.display_name}",
        )
        return {"id": session.instance_id, "to": target.username}


def resolve(core, username: str, item_id: int, opinion: str | None) -> dict:
    """委派 done: the delegatee hands the item back with their opinion."""
    opinion = check_opinion(opinion, required=True, what="办理委派")
    with _item_command(core, username, item_id) as (session, item, user):
        if item.origin != "delegate":
            raise Conflict("只有委派给您的待办才需要“办理完成”")
        _close_item(session, item, "resolve", opinion)
        parent = session.conn.execute(select(work_item).where(work_item.c.id == item.parent_id)).first()
        session.conn.execute(update(work_item).where(work_item.c.id == parent.id).values(status="open", note=None))
        notify(
            session.conn,
            parent.assignee_id,
            session.instance_id,
            "todo",
            f"{user.display_name}已办理您委派的待办，请审批：{session.title}",
        )
        _record(
            session,
            "resolved",
            user,
            item,
            decision="resolve",
            opinion=opinion,
            message=f"{user.display_name}办理完成，交回委派人",
        )
        return {"id": session.instance_id}


# --- 加签 / 减签 ---------------------------------------------------------------------------------


def add_signers(core, username: str, item_id: int, usernames, position: str, opinion: str | None) -> dict:
    """加签 前/后/并: bring more signers into this node."""
    if position not in POSITIONS:
        raise InvalidData(
            [FieldError("position", "加签方式必须是 before（前加签）、after（后加签）或 parallel（并加签）")]
        )
    origin, label = POSITIONS[position]
    opinion = check_opinion(opinion, required=False, what="加签")
    with _item_command(core, username, item_id) as (session, item, user):
        _main_item(item, "加签")
        _node_allows(session, item, "add_signers")
        added = _users(session.conn, usernames, "users", exclude=user.id)
        busy = _active_on_node(session, item.task_id)
        clash = [u.display_name for u in added if u.id in busy]
        if clash:
            raise Conflict(f"{'、'.join(clash)}已在办理本节点，无需加签")
        task = ready_task(session.workflow, item.task_id)
        node = session.model.nodes[item.node_id]
        for person in added:
            create_item(session, task, node, person.id, seq=item.seq, origin=origin, added_by_id=user.id)
        _record(session, "signers_added", user, item, opinion=opinion, message=f"{label}：{_names(added)}")
        if position == "before":
            session.conn.execute(
                update(work_item).where(work_item.c.id == item.id).values(status="waiting", note="等待前加签人处理")
            )
        elif position == "after":  # the approver decides now; the node also waits for the added signers
            _close_item(session, item, "approve", opinion)
            _record(session, "approved", user, item, decision="approve", opinion=opinion)
            settle(session, task, policy_of(node))
        return {"id": session.instance_id, "added": [u.username for u in added], "position": position}


def remove_signers(core, username: str, item_id: int, usernames) -> dict:
    """减签: remove signers this user added who have not acted yet."""
    with _item_command(core, username, item_id, statuses=("open", "waiting", "done")) as (session, item, user):
        _node_allows(session, item, "remove_signers")
        task = ready_task(session.workflow, item.task_id)
        removable = {
            i.assignee_id: i
            for i in node_items(session, item.task_id)
            if i.origin in ADDED_ORIGINS and i.added_by_id == user.id and i.status in ACTIVE
        }
        people = _users(session.conn, usernames, "users")
        wrong = [u.display_name for u in people if u.id not in removable]
        if wrong:
            raise Conflict(f"只能减去由您加签且尚未办理的人：{'、'.join(wrong)}不符合")
        for person in people:
            _close_item(session, removable[person.id], None, None, status="cancelled", note="已被减签")
        _record(session, "signers_removed", user, item, message=f"减签：{_names(people)}")
        settle(session, task, policy_of(session.model.nodes[item.node_id]))
        return {"id": session.instance_id, "removed": [u.username for u in people]}


# --- 知会 / 催办 ---------------------------------------------------------------------------------


def check_cc(session, inst, user) -> None:
    mine = _snapshot_items(session, lambda i: i.assignee_id == user.id and i.kind == "approve")
    if mine is None:
        mine = list(session.conn.execute(_MINE, {"b_instance": inst.id, "b_user": user.id}))
    if inst.initiator_id != user.id and not mine and not user.is_admin:
        raise Forbidden("只有发起人和审批人可以知会")
    for item in mine:
        if item.status == "open":
            _node_allows(session, item, "cc")


def cc(core, username: str, instance_id: int, usernames, message: str | None) -> dict:
    """知会/抄送 (ad hoc): give readers read access and an entry in 抄送我的."""
    message = (message or "").strip()[:500] or None
    with _instance_command(core, username, instance_id) as (session, inst, user):
        check_cc(session, inst, user)
        readers = _users(session.conn, usernames, "users", exclude=user.id)
        names = create_cc(
            session, "adhoc", "知会", [f"user:{u.username}" for u in readers], actor_id=user.id, message=message
        )
        return {"id": instance_id, "readers": names}


def check_urge(session, inst, user) -> list:
    if session.status != "running":
        raise Conflict(f"该申请{STATUS_LABELS.get(session.status, session.status)}，无需催办")
    params = {"b_instance": inst.id, "b_user": user.id}
    snapshot = session.snapshot
    if snapshot is not None:
        handled = bool(_snapshot_items(session, lambda i: i.assignee_id == user.id and i.status == "done"))
        items = _snapshot_items(
            session, lambda i: i.kind == "approve" and i.status == "open" and i.assignee_id != user.id
        )
    else:
        handled = session.conn.execute(_HANDLED_BY, params).first() is not None
        items = list(session.conn.execute(_OPEN_OF_OTHERS, params))
    if inst.initiator_id != user.id and not handled:
        raise Forbidden("只有发起人或已办理过的审批人可以催办")
    if not items:
        raise Conflict("当前没有需要催办的待办")
    now = utcnow()
    if snapshot is not None:
        urged = {i.id: snapshot.last_urged[i.id] for i in items if i.id in snapshot.last_urged}
    else:
        urged = {row.work_item_id: row.at for row in session.conn.execute(_LAST_URGED, params)}
    ready, next_allowed = [], None
    for item in items:
        last = urged.get(item.id)
        if last is not None and now - last < URGE_INTERVAL:
            allowed = last + URGE_INTERVAL
            next_allowed = allowed if next_allowed is None else min(next_allowed, allowed)
        else:
            ready.append(item)
    if not ready:
        when = to_local(next_allowed).strftime("%H:%M")
        raise Conflict(f"每个待办每小时只能催办一次，请在 {when} 之后再试")
    return ready


def urge(core, username: str, instance_id: int, message: str | None) -> dict:
    """催办: nudge the current handlers; at most once per item per hour."""
    message = (message or "").strip()[:200] or "请尽快办理"
    with _instance_command(core, username, instance_id) as (session, inst, user):
        urged = []
        for item in check_urge(session, inst, user):  # the open items not nudged within the hour
            notify(
                session.conn,
                item.assignee_id,
                instance_id,
                "urge",
                f"{user.display_name}催办：{session.title}（{item.node_name}）— {message}",
            )
            _record(session, "urged", user, item, message=f"催办：{message}")
            urged.append(item.assignee_id)
        people = users.users_by_ids(session.conn, urged)
        return {"id": instance_id, "urged": [people[u].username for u in urged]}


# --- what may be done now ----------------------------------------------------------------------


def available_actions(core, conn, user: users.User, item_id: int) -> list[str]:
    """Exactly the operations the user may perform on this work item now (same checks as the commands)."""
    item = conn.execute(select(work_item).where(work_item.c.id == item_id)).first()
    if item is None or item.assignee_id != user.id or item.kind != "approve":
        return []
    session, inst = load_session(core, conn, item.instance_id, lock=False)
    if session.status != "running":
        return []
    can_remove = "remove_signers" in policy_of(session.model.nodes.get(item.node_id)).operations and any(
        i.origin in ADDED_ORIGINS and i.added_by_id == user.id and i.status in ACTIVE
        for i in node_items(session, item.task_id)
    )
    if item.status in ("done", "waiting"):  # after 后加签 / 前加签 the adder may still 减签
        actions = ["recall"] if item.status == "done" and _passes(lambda: check_recall(session, item)) else []
        return actions + (["remove_signers"] if can_remove else [])
    if item.status != "open":
        return []
    if item.origin == "resubmit":
        return ["resubmit", "cancel"]
    if item.origin == "delegate":
        return ["resolve"]
    policy = policy_of(session.model.nodes.get(item.node_id))
    actions = ["approve"] if policy.sign_mode == "collect" else ["approve", "reject"]
    if "send_back" in policy.operations:
        actions.append("send_back")
    for op in ("transfer", "delegate", "add_signers"):
        if op in policy.operations:
            actions.append(op)
    if can_remove:
        actions.append("remove_signers")
    if "cc" in policy.operations:
        actions.append("cc")
    return actions


def instance_actions(core, conn, user: users.User, instance_id: int, loaded=None) -> list[str]:
    """Instance-level operations for this user now: withdraw, cancel, urge, cc.
    `loaded`: the (session, instance row) the caller already restored without a lock."""
    session, inst = loaded or load_session(core, conn, instance_id, lock=False)
    actions = []
    if _passes(lambda: check_withdraw(session, inst, user)):
        actions.append("withdraw")
    if _passes(lambda: check_cancel(session, inst, user)):
        actions.append("cancel")
    if _passes(lambda: check_urge(session, inst, user)):
        actions.append("urge")
    if session.status == "running" and _passes(lambda: check_cc(session, inst, user)):
        actions.append("cc")
    return actions


def _passes(check) -> bool:
    try:
        check()
    except (Conflict, Forbidden, NotFound, InvalidData):
        return False
    return True
