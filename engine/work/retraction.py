"""撤回 and 撤销: taking an application or a decision back (see docs/operations.md for the difference)."""

from __future__ import annotations

from sqlalchemy import bindparam, update

from engine import fields
from engine.errors import FieldError, InvalidData
from engine.org import users
from engine.process.policy import policy_of
from engine.store.fastsql import Prepared
from engine.store.tables import work_item
from engine.work import checks
from engine.work.kernel import case as kernel
from engine.work.kernel import items, routing
from engine.work.kernel.case import instance_command
from engine.work.kernel.items import MAIN_ORIGINS

MAX_REASON = 500
# 依次: when a signer takes their decision back, whoever came after them waits for them again.
_WAIT_AGAIN = Prepared(
    update(work_item)
    .where(
        work_item.c.instance_id == bindparam("b_instance"),
        work_item.c.task_id == bindparam("b_task"),
        work_item.c.status == "open",
        work_item.c.origin.in_(MAIN_ORIGINS),
        work_item.c.seq > bindparam("b_seq"),
    )
    .values(status="waiting")
)


def withdraw(core, username: str, instance_id: int) -> dict:
    """撤回 (a): the initiator pulls the application back before any approver has acted."""
    with instance_command(core, username, instance_id) as (case, inst, user):
        checks.check_withdraw(case, inst, user)
        items.record(case, "withdrawn", user, message="发起人撤回申请，待修改后重新提交")
        routing.return_to_initiator(case, None, actor_id=user.id, reason="", note="已由申请人撤回")
        return {"id": instance_id, "status": case.status}


def recall(core, username: str, item_id: int) -> dict:
    """撤回 (b): an approver takes back their own decision while the next step has not acted."""
    with core.db.write() as conn:
        user = users.require_user(conn, username)
        item = kernel.item_for_actor(conn, item_id, user)  # not yours: 403 to a participant, else 404
        case, _inst = kernel.lock(core, conn, item.instance_id)
        item = kernel.work_item_row(conn, item_id)  # as it is under the lock
        task = checks.check_recall(case, item)
        items.close_item(case, item, item.decision, item.opinion, status="cancelled", note="已撤回")
        items.record(case, "recalled", user, item, message="审批人撤回了自己的审批")
        node = case.model.nodes[item.node_id]
        if task is None:  # the node is still open: this signer decides again
            if policy_of(node).sign_mode == "sequential":
                params = {"b_instance": case.instance_id, "b_task": item.task_id, "b_seq": item.seq}
                case.conn.execute(_WAIT_AGAIN, params)
            ready = case.workflow.get_task_from_id(checks.task_uuid(item.task_id))
            items.create_item(case, ready, node, user.id, seq=item.seq, origin="recall", added_by_id=user.id)
        else:
            items.close_open_items(case, "已被上一节点撤回")
            signers = items.handlers(case, item.task_id) or [user.id]
            case.reassign[item.node_id] = signers + ([user.id] if user.id not in signers else [])
            case.reassign_origin[item.node_id] = ("recall", user.id)
            case.workflow.reset_from_task_id(task.id)
            routing.advance(case)
        kernel.save(case)
        return {"id": case.instance_id, "status": case.status}


def cancel(core, username: str, instance_id: int, reason: str | None) -> dict:
    """撤销: the initiator (or an administrator) cancels the whole application with a reason."""
    reason = fields.text(reason, "reason", "原因", max_length=MAX_REASON)
    if not reason:
        raise InvalidData([FieldError("reason", "撤销必须填写原因")])
    with instance_command(core, username, instance_id) as (case, inst, user):
        checks.check_cancel(case, inst, user)
        items.close_open_items(case, "申请已撤销")
        case.workflow.cancel()
        case.status = "cancelled"
        case.end_reason = reason
        who = "管理员" if inst.initiator_id != user.id else "发起人"
        items.record(case, "cancelled", user, message=f"{who}{user.display_name}撤销了申请：{reason}")
        return {"id": instance_id, "status": case.status}
