"""流程监控's commands: an administrator moves a stuck application — 转办 an item someone cannot handle,
跳转 to a node, 终止 the application. Each is audited with the reason and shows in the 流转记录 as the
administrator's action. (挂起/恢复 are engine.work.suspension; who may do all this: engine.org.oversight.)

跳转 to a node the application already passed opens it again for the people who handled it (the
workflow resets to that node, as 退回 does); to a node ahead, every open node on the way passes without a
decision (recorded as 跳过) until the target opens — when the route cannot reach it, nothing changes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from SpiffWorkflow.util.task import TaskState

from engine import fields
from engine.errors import Conflict, FieldError, InvalidData, NotFound
from engine.notify import outbox
from engine.org import deciders, oversight, users
from engine.process.model import node_id
from engine.store import audit
from engine.work import signing
from engine.work.kernel import case as kernel
from engine.work.kernel import items, routing
from engine.work.kernel.case import (
    STATUS_LABELS,
    USER_TASK_TYPES,
    Case,
    failing_into_error,
    ready_task,
    work_item_row,
)

MAX_REASON = 500
MAX_STEPS = 200  # nodes a forward 跳转 may pass on its way


def _reason(reason, what: str) -> str:
    text = fields.text(reason, "reason", "原因", max_length=MAX_REASON)
    if not text:
        raise InvalidData([FieldError("reason", f"{what}必须填写原因")])
    return text


def _running(inst, what: str) -> None:
    if inst.status != "running":
        raise Conflict(f"该申请{STATUS_LABELS.get(inst.status, inst.status)}，不能{what}")


@contextlib.contextmanager
def _monitored(core, username: str, instance_id: int) -> Iterator[tuple[Case, object, users.User]]:
    """One transaction on any instance the user may monitor: locked, saved when the body is done."""
    found: dict = {}
    with failing_into_error(core, found):
        with core.db.write() as conn:
            user = oversight.require_monitor(conn, username)
            case, inst = kernel.lock(core, conn, instance_id)
            oversight.require_process(conn, user, inst.process_key)
            found.update(instance_id=case.instance_id, version=case.version, actor_id=user.id)
            yield case, inst, user
            kernel.save(case)


def _open_user_tasks(case: Case) -> list:
    return [
        t
        for t in case.workflow.get_tasks(state=TaskState.READY, manual=True)
        if (node := case.model.nodes.get(node_id(t.task_spec))) is not None and node.type in USER_TASK_TYPES
    ]


def _passed(case: Case, target_id: str):
    """The newest completed task of the node `target_id` (not a multi-instance child), or None."""
    done = [t for t in case.workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.name == target_id]
    return done[-1] if done else None


def _run_forward(case: Case, target, user: users.User) -> None:
    """Pass every open node (as 跳过) until `target` opens; Conflict when the route never gets there."""
    for _step in range(MAX_STEPS):
        ready = case.workflow.get_tasks(state=TaskState.READY, manual=True)
        if any(node_id(t.task_spec) == target.id for t in ready):
            return
        if not ready:
            break
        for task in ready:
            node = case.model.nodes.get(node_id(task.task_spec))
            if node is not None and node.type in USER_TASK_TYPES:
                message = f"管理员{user.display_name}跳转到“{target.name}”，本节点未经审批"
                audit.record(
                    case.conn,
                    "skipped",
                    instance_id=case.instance_id,
                    actor_id=user.id,
                    node_id=node.id,
                    node_name=node.name,
                    message=message,
                )
            routing.pass_task(case, task)
    raise Conflict(f"从当前节点出发到不了“{target.name}”，未做任何改动")


def jump(core, username: str, instance_id: int, node, reason) -> dict:
    """跳转: the application moves to the node `node` (an approval node of its process), with a reason."""
    reason = _reason(reason, "跳转")
    target_id = fields.text(node, "node", "目标节点", max_length=200, required=True)
    with _monitored(core, username, instance_id) as (case, inst, user):
        _running(inst, "跳转")
        target = case.model.nodes.get(target_id)
        if target is None or target.type not in USER_TASK_TYPES:
            raise InvalidData([FieldError("node", f"本流程没有审批节点“{target_id}”")])
        current = _open_user_tasks(case)
        if any(node_id(t.task_spec) == target.id for t in current):
            raise Conflict(f"申请已停在“{target.name}”，无需跳转")
        names = "、".join(dict.fromkeys(case.model.nodes[node_id(t.task_spec)].name for t in current)) or "发起人"
        items.close_open_items(case, f"管理员跳转到“{target.name}”")
        case.jump_to = None
        earlier = _passed(case, target.id)
        if earlier is not None:
            # The people who handled it handle it again (as after 退回): no 自动去重 against their own step.
            handlers = items.handlers(case, str(earlier.id))
            if handlers:
                case.reassign[target.id] = handlers
            case.workflow.reset_from_task_id(earlier.id)
        else:
            _run_forward(case, target, user)
        message = f"管理员{user.display_name}跳转：{names} → {target.name}"
        items.record(case, "jumped", user, node_id=target.id, node_name=target.name, opinion=reason, message=message)
        title = f"您的申请“{case.title}”已由管理员跳转到“{target.name}”"
        outbox.send(case.conn, case.initiator.id, "jumped", title, reason, instance_id=case.instance_id)
        routing.advance(case)
        return {"id": case.instance_id, "status": case.status, "node": target.id}


def terminate(core, username: str, instance_id: int, reason) -> dict:
    """终止: an administrator ends the application for good (已终止), with a reason; open items close."""
    reason = _reason(reason, "终止")
    with _monitored(core, username, instance_id) as (case, inst, user):
        if inst.status not in ("running", "suspended"):
            raise Conflict(f"该申请{STATUS_LABELS.get(inst.status, inst.status)}，不能终止")
        items.close_open_items(case, "申请已被管理员终止")
        case.workflow.cancel()
        case.status = "terminated"
        case.end_reason = reason
        message = f"管理员{user.display_name}终止了申请：{reason}"
        items.record(case, "terminated", user, opinion=reason, message=message)
        return {"id": case.instance_id, "status": case.status}


def reassign(core, username: str, item_id: int, to_user, reason) -> dict:
    """转办 by an administrator: anyone's open (or waiting) item passes to `to_user`, who decides."""
    reason = _reason(reason, "转办")
    item_id = fields.identifier(item_id, "item_id", "待办")
    found: dict = {}
    with failing_into_error(core, found):
        with core.db.write() as conn:
            user = oversight.require_monitor(conn, username)
            row = work_item_row(conn, item_id)
            if row is None:
                raise NotFound("待办不存在")
            case, inst = kernel.lock(core, conn, row.instance_id)
            oversight.require_process(conn, user, inst.process_key)
            found.update(instance_id=case.instance_id, version=case.version, actor_id=user.id)
            _running(inst, "转办")
            item = work_item_row(conn, item_id)  # as it is under the lock
            if item.kind != "approve" or item.status not in items.ACTIVE or item.origin == "resubmit":
                raise Conflict("该待办已处理、已取消或在发起人手中，不能转办")
            (target,) = users.pick(conn, [to_user], "to_user")
            if target.id == item.assignee_id:
                raise InvalidData([FieldError("to_user", f"{target.display_name}已是该待办的办理人")])
            deciders.refuse_applicant([target], case.initiator, "转办", "to_user")
            holder = users.get_user(conn, item.assignee_id)
            message = f"管理员{user.display_name}转办：{holder.display_name if holder else '?'} → {target.display_name}"
            task = ready_task(case.workflow, item.task_id)
            new_id = signing.hand_over(
                case, task, item, target, by=user, opinion=reason, message=message, status=item.status
            )
            kernel.save(case)
            return {"id": case.instance_id, "item": new_id, "to": target.username}
