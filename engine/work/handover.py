"""Handing work over: 转办 (for good), 委派 (and back), 加签 前/后/并 and 减签."""

from __future__ import annotations

from engine import fields
from engine.errors import Conflict, FieldError, InvalidData
from engine.org import deciders, users
from engine.process.policy import policy_of
from engine.work import checks, opinions, signing
from engine.work.kernel import items
from engine.work.kernel.case import item_command, ready_task, work_item_row
from engine.work.kernel.items import ACTIVE, ADDED_ORIGINS

POSITIONS = {
    "before": ("add_before", "前加签"),
    "after": ("add_after", "后加签"),
    "parallel": ("add_parallel", "并加签"),
}


def transfer(core, username: str, item_id: int, to_user: str, opinion: str | None) -> dict:
    """转办: hand the work item to someone else for good; they decide."""
    opinion = opinions.check_opinion(opinion, required=False, what="转办")
    with item_command(core, username, item_id) as (case, item, user):
        checks.main_item(item, "转办")
        checks.node_allows(case, item, "transfer")
        (target,) = users.pick(case.conn, [to_user], "to_user", exclude=user.id)
        deciders.refuse_applicant([target], case.initiator, "转办", "to_user")
        task = ready_task(case.workflow, item.task_id)
        message = f"转办：{user.display_name} → {target.display_name}"
        signing.hand_over(case, task, item, target, by=user, opinion=opinion, message=message)
        return {"id": case.instance_id, "to": target.username}


def delegate(core, username: str, item_id: int, to_user: str, opinion: str | None) -> dict:
    """委派: ask someone to handle or advise; the item comes back to the delegator, who decides."""
    opinion = opinions.check_opinion(opinion, required=False, what="委派")
    with item_command(core, username, item_id) as (case, item, user):
        checks.main_item(item, "委派")
        checks.node_allows(case, item, "delegate")
        (target,) = users.pick(case.conn, [to_user], "to_user", exclude=user.id)
        deciders.refuse_applicant([target], case.initiator, "委派", "to_user")
        if target.id in items.holders(case, item.task_id):
            raise Conflict(f"{target.display_name}已在办理本节点，不能委派给他")
        items.set_item(case, item.id, status="waiting", note=f"已委派给{target.display_name}，等待其办理")
        task = ready_task(case.workflow, item.task_id)
        items.create_item(
            case,
            task,
            case.model.nodes[item.node_id],
            target.id,
            seq=item.seq,
            origin="delegate",
            parent_id=item.id,
            added_by_id=user.id,
            opinion=None,
        )
        message = f"委派：{user.display_name} → {target.display_name}"
        items.record(case, "delegated", user, item, opinion=opinion, message=message)
        return {"id": case.instance_id, "to": target.username}


def resolve(core, username: str, item_id: int, opinion: str | None) -> dict:
    """委派 done: the delegatee hands the item back with their opinion."""
    opinion = opinions.check_opinion(opinion, required=True, what="办理委派")
    with item_command(core, username, item_id) as (case, item, user):
        if item.origin != "delegate":
            raise Conflict("只有委派给您的待办才需要“办理完成”")
        items.close_item(case, item, "resolve", opinion)
        parent = work_item_row(case.conn, item.parent_id)
        items.set_item(case, parent.id, status="open", note=None)
        items.tell_todo(
            case, parent.assignee_id, parent.id, f"{user.display_name}已办理您委派的待办，请审批：{case.title}"
        )
        message = f"{user.display_name}办理完成，交回委派人"
        items.record(case, "resolved", user, item, decision="resolve", opinion=opinion, message=message)
        return {"id": case.instance_id}


def add_signers(core, username: str, item_id: int, usernames, position: str, opinion: str | None) -> dict:
    """加签 前/后/并: bring more signers into this node."""
    if not fields.is_one_of(position, POSITIONS):
        raise InvalidData(
            [FieldError("position", "加签方式必须是 before（前加签）、after（后加签）或 parallel（并加签）")]
        )
    origin, label = POSITIONS[position]
    opinion = opinions.check_opinion(opinion, required=False, what="加签")
    with item_command(core, username, item_id) as (case, item, user):
        checks.main_item(item, "加签")
        checks.node_allows(case, item, "add_signers")
        added = users.pick(case.conn, usernames, "users", exclude=user.id)
        deciders.refuse_applicant(added, case.initiator, label, "users")
        busy = items.holders(case, item.task_id)
        clash = [u.display_name for u in added if u.id in busy]
        if clash:
            raise Conflict(f"{'、'.join(clash)}已在办理本节点，无需加签")
        task = ready_task(case.workflow, item.task_id)
        node = case.model.nodes[item.node_id]
        for person in added:
            items.create_item(case, task, node, person.id, seq=item.seq, origin=origin, added_by_id=user.id)
        items.record(case, "signers_added", user, item, opinion=opinion, message=f"{label}：{users.names_of(added)}")
        if position == "before":
            items.set_item(case, item.id, status="waiting", note="等待前加签人处理")
        elif position == "after":  # the approver decides now; the node also waits for the added signers
            items.close_item(case, item, "approve", opinion)
            items.record(case, "approved", user, item, decision="approve", opinion=opinion)
            signing.settle(case, task, policy_of(node))
        return {"id": case.instance_id, "added": [u.username for u in added], "position": position}


def remove_signers(core, username: str, item_id: int, usernames) -> dict:
    """减签: remove signers this user added who have not acted yet."""
    with item_command(core, username, item_id, statuses=("open", "waiting", "done")) as (case, item, user):
        checks.node_allows(case, item, "remove_signers")
        task = ready_task(case.workflow, item.task_id)
        removable = {
            i.assignee_id: i
            for i in items.node_items(case, item.task_id)
            if i.origin in ADDED_ORIGINS and i.added_by_id == user.id and i.status in ACTIVE
        }
        people = users.pick(case.conn, usernames, "users")
        wrong = [u.display_name for u in people if u.id not in removable]
        if wrong:
            raise Conflict(f"只能减去由您加签且尚未办理的人：{'、'.join(wrong)}不符合")
        for person in people:
            items.close_item(case, removable[person.id], None, None, status="cancelled", note="已被减签")
        items.record(case, "signers_removed", user, item, message=f"减签：{users.names_of(people)}")
        signing.settle(case, task, policy_of(case.model.nodes[item.node_id]))
        return {"id": case.instance_id, "removed": [u.username for u in people]}
