"""Sign modes of a node (单人 / 会签 / 或签 / 依次 / 比例 / 意见征集): how decisions move a node on.

The node's work items decide when it passes (then its task runs) or applies its reject rule. Keeping the
signers in our own rows, not in multi-instance children, is what lets 加签, 减签, 转办 and 委派 change them
mid-flight while the SpiffWorkflow state and the items always agree. `decide` and `hand_over` are the steps
the users' commands and the deadline sweep's automatic actions share, so both follow the same rules.
"""

from __future__ import annotations

from engine.errors import Conflict
from engine.org import users
from engine.process.policy import NodePolicy, policy_of
from engine.store import audit
from engine.store.tables import utcnow
from engine.work.kernel import items, routing
from engine.work.kernel.case import Case
from engine.work.kernel.items import ACTIVE, ADDED_ORIGINS, MAIN_ORIGINS


def decide(
    case: Case,
    task,
    item,
    actor: users.User | None,
    decision: str,
    opinion: str,
    signature: str | None = None,
    *,
    automatic: str | None = None,
) -> None:
    """Record one signer's decision, then see whether the node passes, rejects or waits. `automatic`: the
    fixed reason when the system decides on the signer's behalf (审批超时，系统自动通过)."""
    case.last_decision = (item.assignee_id, decision)  # the instance's newest decision from here on
    items.set_item(
        case, item.id, status="done", decision=decision, opinion=opinion, signature=signature, completed_at=utcnow()
    )
    policy = policy_of(case.model.nodes.get(item.node_id))
    if automatic:
        kind = "auto_approved"
    else:
        kind = "commented" if policy.sign_mode == "collect" else ("approved" if decision == "approve" else "rejected")
    audit.record(
        case.conn,
        kind,
        instance_id=case.instance_id,
        work_item_id=item.id,
        actor_id=actor.id if actor is not None else None,
        node_id=item.node_id,
        node_name=item.node_name,
        decision=decision,
        opinion=None if automatic else opinion,
        message=automatic,
    )
    settle(case, task, policy, rejected_by=item if decision == "reject" else None, opinion=opinion)


def settle(case: Case, task, policy: NodePolicy, *, rejected_by=None, opinion: str = "") -> None:
    """Move the node on after any change to its items: activate who is next, then pass or reject."""
    if rejected_by is not None and (policy.vetoes or rejected_by.origin in ADDED_ORIGINS):
        # 或签 (and a 单人审批 role of several): the first decision, 不同意 included, closes the node for the
        # others, who were not overruled but pre-empted (GLOSSARY: 已由他人处理).
        first_wins = policy.sign_mode in {"single", "any"} and rejected_by.origin in MAIN_ORIGINS
        items.cancel_active(case, str(task.id), "已由他人处理" if first_wins else "节点已被否决")
        apply_reject_rule(case, task, rejected_by, opinion)
        return
    everything = items.node_items(case, str(task.id))
    current = items.round_items(case, task, everything)
    changed = _reopen_after_added(case, current)
    if policy.sign_mode == "sequential":
        changed = _activate_next(case, current) or changed
    if changed:
        everything = items.node_items(case, str(task.id))
        current = items.round_items(case, task, everything)
    outcome = outcome_of(policy, current)
    if outcome == "pass":
        if any(i.status in ACTIVE for i in everything):  # most nodes pass with their last item: nothing to close
            items.cancel_active(case, str(task.id), "已由他人处理")
        routing.pass_task(case, task)  # a multi-instance child: its completion condition is evaluated here
        routing.advance(case)
    elif outcome == "reject":
        items.cancel_active(case, str(task.id), "未达到通过比例")
        last_reject = next((i for i in reversed(current) if i.decision == "reject"), None)
        apply_reject_rule(case, task, last_reject, "未达到通过比例")


def outcome_of(policy: NodePolicy, node_items) -> str:
    """pass | reject | pending, from the node's items of this round (transferred-away and cancelled ones
    excluded). Pure: the sign-mode arithmetic, tested on its own."""
    main = [i for i in node_items if i.origin in MAIN_ORIGINS and i.status != "cancelled" and i.decision != "transfer"]
    added = [i for i in node_items if i.origin in ADDED_ORIGINS and i.status != "cancelled"]
    if any(i.status in ACTIVE for i in added):
        if not (policy.sign_mode == "ratio" and _ratio_reached(policy, main)):
            return "pending"
    if policy.sign_mode in {"single", "any"}:
        return "pass" if any(i.decision == "approve" for i in main) else "pending"
    if policy.sign_mode == "ratio":
        required = policy.required_approvals(len(main))
        approvals = sum(1 for i in main if i.decision == "approve")
        rejections = sum(1 for i in main if i.decision == "reject")
        if approvals >= required:
            return "pass"
        if rejections > len(main) - required:
            return "reject"
        return "pending"
    # all, sequential, collect: every signer must have acted.
    return "pass" if main and all(i.status == "done" for i in main) else "pending"


def _ratio_reached(policy: NodePolicy, main) -> bool:
    return sum(1 for i in main if i.decision == "approve") >= policy.required_approvals(len(main))


def _activate_next(case: Case, node_items) -> bool:
    """依次: open the next waiting signer's item; True when one was opened."""
    if any(i.status == "open" and i.origin in MAIN_ORIGINS for i in node_items):
        return False
    waiting = [i for i in node_items if i.status == "waiting" and i.origin in MAIN_ORIGINS and i.parent_id is None]
    blocked = {i.added_by_id for i in node_items if i.origin == "add_before" and i.status in ACTIVE}
    waiting = [i for i in waiting if i.assignee_id not in blocked and not _delegated(node_items, i)]
    if not waiting:
        return False
    nxt = waiting[0]
    items.set_item(case, nxt.id, status="open", note=None)
    items.tell_todo(case, nxt.assignee_id, nxt.id, f"您有新的待办：{case.title}（{nxt.node_name}）")
    return True


def _delegated(node_items, item) -> bool:
    return any(i.parent_id == item.id and i.status in ACTIVE for i in node_items)


def _reopen_after_added(case: Case, node_items) -> bool:
    """前加签: the adder's item waits until everyone they added before themselves has acted.
    True when an item was reopened."""
    reopened = False
    for item in node_items:
        if item.status != "waiting" or item.note != "等待前加签人处理":
            continue
        pending = [
            i
            for i in node_items
            if i.origin == "add_before" and i.added_by_id == item.assignee_id and i.status in ACTIVE
        ]
        if not pending:
            items.set_item(case, item.id, status="open", note=None)
            items.tell_todo(case, item.assignee_id, item.id, f"前加签已处理完毕，请审批：{case.title}")
            reopened = True
    return reopened


def apply_reject_rule(case: Case, task, item, opinion: str) -> None:
    """不同意: end the instance as 不通过 (default), return it to the drafter, or go to a named node."""
    node = case.model.nodes.get(task.task_spec.name)
    rule = policy_of(node).reject_rule
    if rule == "end":
        items.close_open_items(case, "流程已结束")
        case.workflow.cancel()
        case.status = "rejected"
        return
    target = "发起人" if rule == "initiator" else case.model.nodes[rule.partition(":")[2]].name
    audit.record(
        case.conn,
        "sent_back",
        instance_id=case.instance_id,
        node_id=node.id,
        node_name=node.name,
        message=f"按节点设置，不同意即退回{target}修改",
    )
    if rule == "initiator":
        routing.return_to_initiator(case, node, actor_id=item.assignee_id if item else None, reason=opinion)
    else:
        routing.return_to_node(case, task, rule.partition(":")[2], node, actor_id=item.assignee_id if item else None)


def hand_over(
    case: Case,
    task,
    item,
    target: users.User,
    *,
    by: users.User | None,
    opinion: str | None,
    message: str,
    **extra,
) -> int:
    """转办: the item passes for good to `target`, who decides; returns the new item's id. `by`: who handed
    it over (None: the system, on expiry); `message`: the audit line; `extra`: columns of the new item."""
    if target.id in items.holders(case, item.task_id):
        raise Conflict(f"{target.display_name}已在办理本节点，不能转办给他")
    items.close_item(case, item, "transfer", opinion)
    origin = item.origin if item.origin in ADDED_ORIGINS else "transfer"
    added_by = item.added_by_id if origin in ADDED_ORIGINS else (by.id if by is not None else None)
    new_id = items.create_item(
        case,
        task,
        case.model.nodes[item.node_id],
        target.id,
        seq=item.seq,
        origin=origin,
        added_by_id=added_by,
        **extra,
    )
    audit.record(
        case.conn,
        "transferred",
        instance_id=case.instance_id,
        work_item_id=item.id,
        actor_id=by.id if by is not None else None,
        node_id=item.node_id,
        node_name=item.node_name,
        decision="transfer",
        opinion=opinion,
        message=message,
    )
    return new_id
