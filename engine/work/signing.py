"""Sign modes of a node (单人 / 会签 / 或签 / 依次 / 比例 / 意见征集) on top of our work-item layer.

A user-task node is one READY SpiffWorkflow task for as long as any of its work items is open or
waiting; the items decide when the node passes (then the task runs) or applies its reject rule.
Keeping the signers in our own rows, not in multi-instance children, is what lets 加签, 减签, 转办 and
委派 change them mid-flight while the SpiffWorkflow state and the items always agree.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, insert, select, update

from engine.errors import Conflict
from engine.org import cache as org_cache
from engine.org import users
from engine.process.policy import NodePolicy, policy_of
from engine.store import audit
from engine.store.fastsql import Prepared
from engine.store.tables import ITEM_ACTIVE, delegation, utcnow, work_item
from engine.time.working_days import deadline_for, to_local
from engine.work import assignment
from engine.work.runtime import Session, close_open_items, notify, run_engine, self_check

MAIN_ORIGINS = ("rule", "transfer", "recall", "send_back", "proxy")
ADDED_ORIGINS = ("add_before", "add_after", "add_parallel")
ACTIVE = ("open", "waiting")
ROUND_KEY = "oaflow_round"  # task.internal_data: the newest work item id before the node's current round

# Built once and run by engine.fastsql (see engine/runtime.py); b_* parameters filter, the others are values
# to set or insert.
_OF_INSTANCE = work_item.c.instance_id == bindparam("b_instance")
_OF_TASK = work_item.c.task_id == bindparam("b_task")
_HOLDERS = Prepared(select(work_item.c.assignee_id).where(_OF_INSTANCE, _OF_TASK, ITEM_ACTIVE))
_NODE_ITEMS = Prepared(select(work_item).where(_OF_INSTANCE, _OF_TASK).order_by(work_item.c.seq, work_item.c.id))
_APPROVED_BEFORE = Prepared(
    select(work_item.c.id)
    .where(
        _OF_INSTANCE,
        work_item.c.node_id == bindparam("b_node"),
        work_item.c.status == "done",
        work_item.c.decision == "approve",
    )
    .limit(1)
)
_LAST_DONE = Prepared(
    select(work_item.c.assignee_id, work_item.c.decision)
    .where(_OF_INSTANCE, work_item.c.kind == "approve", work_item.c.status == "done")
    .order_by(work_item.c.completed_at.desc(), work_item.c.id.desc())
    .limit(1)
)
_DELEGATIONS = Prepared(  # a user's active delegations, whatever their dates (kept by engine.org_cache)
    select(delegation).where(delegation.c.user_id == bindparam("b_user"), delegation.c.active.is_(True))
)
_NEWEST_ITEM = Prepared(select(func.max(work_item.c.id)).where(_OF_INSTANCE))
_INSERT_ITEM = Prepared(insert(work_item))
_SET_ITEM = Prepared(update(work_item).where(work_item.c.id == bindparam("b_id")))
_SET_ACTIVE_OF_TASK = Prepared(update(work_item).where(_OF_INSTANCE, _OF_TASK, ITEM_ACTIVE))


def policy_for(session: Session, item) -> NodePolicy:
    return policy_of(session.model.nodes.get(item.node_id))


def round_items(session: Session, task, items: list | None = None) -> list:
    """The node's items of its current round: a node reopened by 退回 or 撤回 is decided afresh.
    `items`: all the node's items, when the caller has just read them."""
    since = task.internal_data.get(ROUND_KEY, 0)
    return [i for i in (items if items is not None else node_items(session, str(task.id))) if i.id > since]


def _holders(session: Session, task_id: str) -> set[int]:
    params = {"b_instance": session.instance_id, "b_task": task_id}
    return {row.assignee_id for row in session.conn.execute(_HOLDERS, params)}


def node_items(session: Session, task_id: str) -> list:
    return list(session.conn.execute(_NODE_ITEMS, {"b_instance": session.instance_id, "b_task": task_id}))


def approved_before(session: Session, node_id: str) -> bool:
    """Whether someone approved this node earlier in the instance (a direct resubmission may skip it)."""
    params = {"b_instance": session.instance_id, "b_node": node_id}
    return session.conn.execute(_APPROVED_BEFORE, params).first() is not None


def last_approver(session: Session) -> int | None:
    """Who approved the step just before this one (自动去重), or None when the step before was no approval:
    after a 退回 and 重新提交 the corrected application is new to everyone, so nobody's earlier 同意 counts."""
    if session.last_decision is not None:  # this command knows: it started the instance or decided a step
        known = session.last_decision[0] if session.last_decision[1] == "approve" else None
        if not self_check():
            return known
    last = session.conn.execute(_LAST_DONE, {"b_instance": session.instance_id}).first()
    found = last.assignee_id if last is not None and last.decision == "approve" else None
    if session.last_decision is not None:
        assert found == known, f"last decision remembered as {session.last_decision}, stored {tuple(last or ())}"
    return found


def substitute(session: Session, user_id: int) -> tuple[int, int | None]:
    """代理: the active delegate of this user for this process today, if any → (assignee, proxy_for)."""
    today = to_local(utcnow()).date()
    conn = session.conn
    load = lambda: tuple(conn.execute(_DELEGATIONS, {"b_user": user_id}))  # noqa: E731
    active = org_cache.lookup(conn, ("delegations", user_id), load)
    for row in (r for r in active if r.starts_on <= today <= r.ends_on):
        scope = {p.strip() for p in row.processes.split(",") if p.strip()}
        if not scope or session.model.key in scope:
            return row.delegate_id, user_id
    return user_id, None


def create_item(session: Session, task, node, user_id: int, *, status="open", seq=0, origin="rule", **extra) -> int:
    conn = session.conn
    assignee, proxy_for = substitute(session, user_id) if origin in MAIN_ORIGINS + ADDED_ORIGINS else (user_id, None)
    if proxy_for is not None and task is not None and assignee in _holders(session, str(task.id)):
        assignee, proxy_for = user_id, None  # the delegate already signs here: one person, one item per node
    note = extra.pop("note", None)
    task_id = str(task.id) if task is not None else extra.pop("task_id")
    if proxy_for is not None:
        note = f"代理 {users.get_user(conn, proxy_for).display_name}"
    now = utcnow()
    item_id = conn.execute(
        _INSERT_ITEM,
        {
            "instance_id": session.instance_id,
            "task_id": task_id,
            "node_id": node.id,
            "node_name": node.name,
            "kind": "approve",
            "assignee_id": assignee,
            "status": status,
            "seq": seq,
            "origin": origin,
            "proxy_for_id": proxy_for,
            "note": note,
            "created_at": now,
            "due_at": deadline_for(conn, now, session.priority, node),
            **extra,
        },
    ).inserted_primary_key[0]
    if status == "open":
        notify(conn, assignee, session.instance_id, "todo", f"您有新的待办：{session.title}（{node.name}）")
    return item_id


def open_node(session: Session, task, node) -> bool:
    """Create the node's work items; return True when the node passed on its own instead."""
    conn = session.conn
    policy = policy_of(node)
    if node.id in session.reassign:
        users = session.reassign.pop(node.id)
    else:
        admin = session.model.properties.get("admin")
        # The task's own data too: a multi-instance child's element variable names its signer.
        data = {**session.data, **task.data}
        res = assignment.resolve(conn, node.assignee, session.initiator, data, admin, fallback=False)
        for kind, message in res.notes:
            audit.record(
                conn, kind, instance_id=session.instance_id, node_id=node.id, node_name=node.name, message=message
            )
        users = res.user_ids
        if not users:
            if policy.empty_assignee == "refuse":
                raise Conflict(f"节点“{node.name}”按规则找不到审批人，无法继续：请联系管理员检查组织架构或流程设置")
            if policy.empty_assignee == "skip":
                audit.record(
                    conn,
                    "skipped",
                    instance_id=session.instance_id,
                    node_id=node.id,
                    node_name=node.name,
                    message="按规则找不到审批人，按节点设置跳过",
                )
                pass_task(session, task)
                return True
            users = assignment.process_admins(conn, admin)
            audit.record(
                conn,
                "no_assignee",
                instance_id=session.instance_id,
                node_id=node.id,
                node_name=node.name,
                message=f"按规则（{'、'.join(node.assignee) or '未配置审批人'}）未找到审批人，已转交流程管理员",
            )
        single = policy.sign_mode in {"single", "any"} or len(users) == 1
        last = last_approver(session) if session.model.dedupe_approver else None
        if single and last is not None and users == [last]:
            audit.record(
                conn,
                "auto_approved",
                instance_id=session.instance_id,
                actor_id=last,
                node_id=node.id,
                node_name=node.name,
                decision="approve",
                message="与上一节点审批人相同，自动通过",
            )
            pass_task(session, task)
            return True
    # The node's items from an earlier round (before a 退回 or 撤回 reset it) are history, not votes:
    # this round starts just before its first new item (the instance lock orders its items' ids).
    first = None
    for index, user_id in enumerate(users):
        waiting = policy.sign_mode == "sequential" and index > 0
        item_id = create_item(session, task, node, user_id, status="waiting" if waiting else "open", seq=index)
        first = first or item_id
    if first is None:
        first = (session.conn.execute(_NEWEST_ITEM, {"b_instance": session.instance_id}).scalar() or 0) + 1
    task.internal_data[ROUND_KEY] = first - 1
    return False


def pass_task(session: Session, task) -> None:
    task.data.update(approved=True, decision="approve")
    task.run()
    run_engine(session.workflow)


def decide(session: Session, task, item, user, decision: str, opinion: str, signature: str | None) -> None:
    """Record one signer's decision, then see whether the node passes, rejects or waits."""
    conn = session.conn
    now = utcnow()
    session.last_decision = (item.assignee_id, decision)  # the instance's newest decision from here on
    conn.execute(
        _SET_ITEM,
        {
            "b_id": item.id,
            "status": "done",
            "decision": decision,
            "opinion": opinion,
            "signature": signature,
            "completed_at": now,
        },
    )
    policy = policy_for(session, item)
    kind = "commented" if policy.sign_mode == "collect" else ("approved" if decision == "approve" else "rejected")
    audit.record(
        conn,
        kind,
        instance_id=session.instance_id,
        work_item_id=item.id,
        actor_id=user.id,
        node_id=item.node_id,
        node_name=item.node_name,
        decision=decision,
        opinion=opinion,
    )
    settle(session, task, policy, rejected_by=item if decision == "reject" else None, opinion=opinion)


def settle(session: Session, task, policy: NodePolicy, *, rejected_by=None, opinion: str = "") -> None:
    """Move the node on after any change to its items: activate who is next, then pass or reject."""
    if rejected_by is not None and (policy.vetoes or rejected_by.origin in ADDED_ORIGINS):
        # 或签 (and a 单人审批 role of several): the first decision, 不同意 included, closes the node for the
        # others, who were not overruled but pre-empted (GLOSSARY: 已由他人处理).
        first_wins = policy.sign_mode in {"single", "any"} and rejected_by.origin in MAIN_ORIGINS
        _cancel_active(session, str(task.id), "已由他人处理" if first_wins else "节点已被否决")
        apply_reject_rule(session, task, rejected_by, opinion)
        return
    everything = node_items(session, str(task.id))
    items = round_items(session, task, everything)
    changed = _reopen_after_added(session, items)
    if policy.sign_mode == "sequential":
        changed = _activate_next(session, items) or changed
    if changed:
        everything = node_items(session, str(task.id))
        items = round_items(session, task, everything)
    outcome = outcome_of(policy, items)
    if outcome == "pass":
        if any(i.status in ACTIVE for i in everything):  # most nodes pass with their last item: nothing to close
            _cancel_active(session, str(task.id), "已由他人处理")
        task.data.update(approved=True, decision="approve")
        task.run()
        run_engine(session.workflow)
        from engine.work.runtime import advance

        advance(session)
    elif outcome == "reject":
        _cancel_active(session, str(task.id), "未达到通过比例")
        last_reject = next((i for i in reversed(items) if i.decision == "reject"), None)
        apply_reject_rule(session, task, last_reject, "未达到通过比例")


def outcome_of(policy: NodePolicy, items) -> str:
    """pass | reject | pending, from the node's items (transferred-away and cancelled ones excluded)."""
    main = [i for i in items if i.origin in MAIN_ORIGINS and i.status != "cancelled" and i.decision != "transfer"]
    added = [i for i in items if i.origin in ADDED_ORIGINS and i.status != "cancelled"]
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


def _activate_next(session: Session, items) -> bool:
    """依次: open the next waiting signer's item; True when one was opened."""
    if any(i.status == "open" and i.origin in MAIN_ORIGINS for i in items):
        return False
    waiting = [i for i in items if i.status == "waiting" and i.origin in MAIN_ORIGINS and i.parent_id is None]
    blocked = {i.added_by_id for i in items if i.origin == "add_before" and i.status in ACTIVE}
    waiting = [i for i in waiting if i.assignee_id not in blocked and not _delegated(items, i)]
    if waiting:
        nxt = waiting[0]
        session.conn.execute(_SET_ITEM, {"b_id": nxt.id, "status": "open", "note": None})
        notify(
            session.conn,
            nxt.assignee_id,
            session.instance_id,
            "todo",
            f"您有新的待办：{session.title}（{nxt.node_name}）",
        )
        return True
    return False


def _delegated(items, item) -> bool:
    return any(i.parent_id == item.id and i.status in ACTIVE for i in items)


def _reopen_after_added(session: Session, items) -> bool:
    """前加签: the adder's item waits until everyone they added before themselves has acted.
    True when an item was reopened."""
    reopened = False
    for item in items:
        if item.status != "waiting" or item.note != "等待前加签人处理":
            continue
        pending = [
            i for i in items if i.origin == "add_before" and i.added_by_id == item.assignee_id and i.status in ACTIVE
        ]
        if not pending:
            session.conn.execute(_SET_ITEM, {"b_id": item.id, "status": "open", "note": None})
            notify(
                session.conn,
                item.assignee_id,
                session.instance_id,
                "todo",
                f"前加签已处理完毕，请审批：{session.title}",
            )
            reopened = True
    return reopened


def _cancel_active(session: Session, task_id: str, note: str) -> None:
    session.conn.execute(
        _SET_ACTIVE_OF_TASK,
        {
            "b_instance": session.instance_id,
            "b_task": task_id,
            "status": "cancelled",
            "note": note,
            "completed_at": utcnow(),
        },
    )


def apply_reject_rule(session: Session, task, item, opinion: str) -> None:
    """不同意: end the instance as 不通过 (default), return it to the drafter, or go to a named node."""
    node = session.model.nodes.get(task.task_spec.name)
    policy = policy_of(node)
    rule = policy.reject_rule
    if rule == "end":
        close_open_items(session, "流程已结束")
        session.workflow.cancel()
        session.status = "rejected"
        return
    from engine.work import operations

    target = "发起人" if rule == "initiator" else session.model.nodes[rule.partition(":")[2]].name
    audit.record(
        session.conn,
        "sent_back",
        instance_id=session.instance_id,
        node_id=node.id,
        node_name=node.name,
        message=f"按节点设置，不同意即退回{target}修改",
    )
    if rule == "initiator":
        operations.return_to_initiator(session, node, actor_id=item.assignee_id if item else None, reason=opinion)
    else:
        target = rule.partition(":")[2]
        operations.return_to_node(session, task, target, node, actor_id=item.assignee_id if item else None)
