"""Work items (our inbox rows): created for a node's signers, kept in step with the workflow, closed.

A user-task node is one READY SpiffWorkflow task for as long as any of its work items is open or waiting;
the items say who signs, in which order and how they came (rule, 转办, 加签 …). This module is the one place
that writes them for the kernel and the verbs: creating an item (with 代理 and its due time), closing the
items whose task the workflow left (`sync_items`), and the node's items of its current round.
"""

from __future__ import annotations

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, func, insert, select, update

from engine.notify import messages, outbox
from engine.org import deciders, users
from engine.process.policy import policy_of
from engine.store import audit
from engine.store.fastsql import Prepared
from engine.store.tables import ITEM_ACTIVE, instance, utcnow, work_item
from engine.time import working_days
from engine.time.office_hours import work_calendar
from engine.work import assignment
from engine.work.kernel.case import Case, self_check

# How a signer came to the node: by its rule or a hand-over from someone who did (the main signers),
# or added by 加签 (who sign for this round only).
MAIN_ORIGINS = ("rule", "transfer", "recall", "send_back", "proxy")
ADDED_ORIGINS = ("add_before", "add_after", "add_parallel")
ACTIVE = ("open", "waiting")
ROUND_KEY = "oaflow_round"  # task.internal_data: the newest work item id before the node's current round
# The note on an item the deadline sweep handed to a leader (on_expiry = transfer): its due time was set at
# the hand-over and it is not escalated again, so a chain of automatic transfers cannot start.
EXPIRY_TRANSFER_NOTE = "超时转交"
# The task id of the drafter's resubmission item, which stands for no task of the workflow.
RESUBMIT_TASK = "resubmit"

# Built once and run by engine.store.fastsql; b_* parameters filter, the others are values to set or insert.
_OF_INSTANCE = work_item.c.instance_id == bindparam("b_instance")
_OF_TASK = work_item.c.task_id == bindparam("b_task")
_INSERT_ITEM = Prepared(insert(work_item))
_HOLDERS = Prepared(select(work_item.c.assignee_id).where(_OF_INSTANCE, _OF_TASK, ITEM_ACTIVE))
_NODE_ITEMS = Prepared(select(work_item).where(_OF_INSTANCE, _OF_TASK).order_by(work_item.c.seq, work_item.c.id))
_LIVE = (_OF_INSTANCE, work_item.c.kind == "approve", ITEM_ACTIVE)
_LIVE_TASKS = Prepared(select(work_item.c.id, work_item.c.task_id, work_item.c.origin).where(*_LIVE))
_CANCEL_ITEMS = (
    update(work_item).where(work_item.c.id.in_(bindparam("b_ids", expanding=True))).values(status="cancelled")
)
_CLOSE_LIVE = Prepared(update(work_item).where(*_LIVE))
_SET_ITEM = Prepared(update(work_item).where(work_item.c.id == bindparam("b_id")))
_SET_ACTIVE_OF_TASK = Prepared(update(work_item).where(_OF_INSTANCE, _OF_TASK, ITEM_ACTIVE))
# 传阅 items stand for no task of the workflow: they are the instance's, whichever node circulated.
READ_TASK = "read"
_UNREAD_READERS = Prepared(
    select(work_item.c.assignee_id).where(_OF_INSTANCE, work_item.c.kind == "read", work_item.c.status == "open")
)
_CC_HOLDERS = Prepared(select(work_item.c.assignee_id).where(_OF_INSTANCE, work_item.c.kind == "cc", _OF_TASK))
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
_HANDLERS = Prepared(
    select(work_item.c.assignee_id)
    .where(
        _OF_INSTANCE,
        _OF_TASK,
        work_item.c.status == "done",
        work_item.c.decision == "approve",
        work_item.c.origin.in_(MAIN_ORIGINS),  # signers added by 加签 were for that round only
    )
    .order_by(work_item.c.seq, work_item.c.id)
)
_NEWEST_ITEM = Prepared(select(func.max(work_item.c.id)).where(_OF_INSTANCE))


# --- creating -----------------------------------------------------------------------------------------


def create_item(case: Case, task, node, user_id: int, *, status="open", seq=0, origin="rule", **extra) -> int:
    """One work item of `node` for `user_id` (or for their 代理 today), due by the node's time limit or the
    instance's priority; the assignee is told when it is open. `extra`: more columns (added_by_id, note …);
    `task_id` for items that stand for no task (the resubmission step)."""
    conn = case.conn
    now = utcnow()
    assignee, proxy_for = user_id, None
    if origin in MAIN_ORIGINS + ADDED_ORIGINS:
        today = working_days.to_local(now).date()
        decider = deciders.decider(conn, user_id, case.initiator.id, case.model.key, today)
        if decider.acts_for is not None and (task is None or decider.assignee not in holders(case, str(task.id))):
            assignee, proxy_for = decider.assignee, user_id  # a delegate who already signs here keeps one item
        elif decider.passed_over is not None:
            _record_passed_over(case, node, user_id, decider.passed_over)
    note = extra.pop("note", None)
    task_id = str(task.id) if task is not None else extra.pop("task_id")
    if proxy_for is not None:
        proxy_note = f"代理 {users.get_user(conn, proxy_for).display_name}"
        note = proxy_note if note is None else f"{note}（{proxy_note}）"
    limit = policy_of(node).time_limit
    item_id = conn.execute(
        _INSERT_ITEM,
        {
            "instance_id": case.instance_id,
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
            "due_at": working_days.deadline(work_calendar(conn), now, case.priority, limit).due_at,
            **extra,
        },
    ).inserted_primary_key[0]
    if status == "open":
        tell_todo(case, assignee, item_id, f"您有新的待办：{case.title}（{node.name}）")
    return item_id


def _record_passed_over(case: Case, node, principal: int, delegate: int) -> None:
    """代理 skipped: the delegate is the applicant, so the item stays with the principal (engine.org.deciders)."""
    names = users.users_by_ids(case.conn, [principal, delegate])
    audit.record(
        case.conn,
        "assigned",
        instance_id=case.instance_id,
        node_id=node.id,
        node_name=node.name,
        message=f"{names[principal].display_name}的代理人{names[delegate].display_name}是本申请的申请人，"
        f"不能审批自己的申请，本待办仍由{names[principal].display_name}办理",
    )


def tell_todo(case: Case, user_id: int, item_id: int, title: str) -> None:
    """A 待办 message in the outbox, naming the item it is about."""
    outbox.send(case.conn, user_id, "todo", title, instance_id=case.instance_id, work_item_id=item_id)


def create_cc(case: Case, node_id: str, node_name: str, rules: list[str], actor_id=None, message=None) -> list[str]:
    """知会: read-only copies in 抄送我的; people who already have one for this node are skipped."""
    conn = case.conn
    found = assignment.resolve(conn, rules, case.initiator, case.data, None, fallback=False, deciding=False)
    task_id = "cc:" + node_id
    already = {
        row.assignee_id for row in conn.execute(_CC_HOLDERS, {"b_instance": case.instance_id, "b_task": task_id})
    }
    added = _add_readers(
        case,
        [u for u in found.user_ids if u not in already],
        {"kind": "cc", "task_id": task_id, "node_id": node_id, "node_name": node_name, "opinion": message},
        actor_id,
        f"知会：{case.title or node_name}",
    )
    names = [users.get_user(conn, user_id).display_name for user_id in added]
    text = f"已知会{'、'.join(names)}" if names else "知会对象不存在或已知会，未发送"
    if message:
        text += f"：{message}"
    audit.record(
        conn, "cc", instance_id=case.instance_id, actor_id=actor_id, node_id=node_id, node_name=node_name, message=text
    )
    return names


def create_read_items(case: Case, node_id: str, node_name: str, user_ids: list[int], actor_id: int, message=None):
    """传阅: a 待阅 item for each reader (the circulator's 附言 as its note); a reader who has one unread
    already is not sent another. Returns the ids of the readers added."""
    unread = {row.assignee_id for row in case.conn.execute(_UNREAD_READERS, {"b_instance": case.instance_id})}
    values = {"kind": "read", "task_id": READ_TASK, "node_id": node_id, "node_name": node_name, "note": message}
    return _add_readers(case, [u for u in user_ids if u not in unread], values, actor_id, f"请阅：{case.title}")


def _add_readers(case: Case, user_ids: list[int], values: dict, actor_id, title: str) -> list[int]:
    """Open one reader's item (知会 or 传阅: `values` say which) for each of `user_ids`, and tell them."""
    now = utcnow()
    for user_id in user_ids:
        item_id = case.conn.execute(
            _INSERT_ITEM,
            {
                "instance_id": case.instance_id,
                "assignee_id": user_id,
                "status": "open",
                "created_at": now,
                "added_by_id": actor_id,
                **values,
            },
        ).inserted_primary_key[0]
        outbox.send(case.conn, user_id, values["kind"], title, instance_id=case.instance_id, work_item_id=item_id)
    return user_ids


# --- keeping the items in step with the workflow ------------------------------------------------------------


def sync_items(case: Case, note: str = "流程已变更") -> set[str]:
    """Close the open and waiting approval items whose task is no longer READY (a 退回 reset the workflow, a
    timer or message moved it on, a migration left the node behind), with `note` saying why; return the
    task ids that still have open or waiting items. A drafter's resubmission item stands for no task and
    stays until the drafter resubmits or cancels."""
    ready = {str(t.id) for t in case.workflow.get_tasks(state=TaskState.READY, manual=True)}
    stale, active = [], set()
    for row in case.conn.execute(_LIVE_TASKS, {"b_instance": case.instance_id}):
        if row.task_id in ready or row.origin == "resubmit":
            active.add(row.task_id)
        else:
            stale.append(row.id)
    if stale:
        case.conn.execute(_CANCEL_ITEMS, {"b_ids": stale, "note": note, "completed_at": utcnow()})
        closed(case)
    return active


def close_open_items(case: Case, note: str) -> None:
    """Cancel every open and waiting approval item of the instance (it ends, or goes back to its drafter)."""
    case.conn.execute(
        _CLOSE_LIVE, {"b_instance": case.instance_id, "status": "cancelled", "note": note, "completed_at": utcnow()}
    )
    closed(case)


def cancel_active(case: Case, task_id: str, note: str) -> None:
    """Cancel the node's open and waiting items (the node passed or was rejected without them)."""
    case.conn.execute(
        _SET_ACTIVE_OF_TASK,
        {
            "b_instance": case.instance_id,
            "b_task": task_id,
            "status": "cancelled",
            "note": note,
            "completed_at": utcnow(),
        },
    )
    closed(case)


def set_item(case: Case, item_id: int, **values) -> None:
    case.conn.execute(_SET_ITEM, {"b_id": item_id, **values})
    if values.get("status", "open") not in ACTIVE:
        closed(case, item_id)


def closed(case: Case, item_id: int | None = None) -> None:
    """Items were closed (one, or any of the instance's): what follows for everyone, in one place. Their
    待办 messages are read now; the bell does not keep asking for work that is done."""
    messages.todos_handled(case.conn, item_id=item_id, instance_id=None if item_id is not None else case.instance_id)


def close_item(case: Case, item, decision: str | None, opinion: str | None, status: str = "done", note=None) -> None:
    set_item(case, item.id, status=status, decision=decision, opinion=opinion, note=note, completed_at=utcnow())


# --- reading a node's items ------------------------------------------------------------------------------------


def node_items(case: Case, task_id: str) -> list:
    return list(case.conn.execute(_NODE_ITEMS, {"b_instance": case.instance_id, "b_task": task_id}))


def round_items(case: Case, task, items: list | None = None) -> list:
    """The node's items of its current round: a node reopened by 退回 or 撤回 is decided afresh.
    `items`: all the node's items, when the caller has just read them."""
    since = task.internal_data.get(ROUND_KEY, 0)
    return [i for i in (items if items is not None else node_items(case, str(task.id))) if i.id > since]


def start_round(case: Case, task, first_item: int | None) -> None:
    """The node's items from an earlier round (before a 退回 or 撤回 reset it) are history, not votes: this
    round starts just before its first new item (the instance lock orders its items' ids)."""
    if first_item is None:
        first_item = (case.conn.execute(_NEWEST_ITEM, {"b_instance": case.instance_id}).scalar() or 0) + 1
    task.internal_data[ROUND_KEY] = first_item - 1


def holders(case: Case, task_id: str) -> set[int]:
    """Who holds an open or waiting item of the node now."""
    params = {"b_instance": case.instance_id, "b_task": task_id}
    return {row.assignee_id for row in case.conn.execute(_HOLDERS, params)}


def handlers(case: Case, task_id: str) -> list[int]:
    """Who approved the node's task as its main signers, in signing order (退回 and 撤回 give it back to them)."""
    found = []
    for row in case.conn.execute(_HANDLERS, {"b_instance": case.instance_id, "b_task": task_id}):
        if row.assignee_id not in found:
            found.append(row.assignee_id)
    return found


def approved_before(case: Case, node_id: str) -> bool:
    """Whether someone approved this node earlier in the instance (a direct resubmission may skip it)."""
    params = {"b_instance": case.instance_id, "b_node": node_id}
    return case.conn.execute(_APPROVED_BEFORE, params).first() is not None


def last_approver(case: Case) -> int | None:
    """Who approved the step just before this one (自动去重), or None when the step before was no approval:
    after a 退回 and 重新提交 the corrected application is new to everyone, so nobody's earlier 同意 counts."""
    if case.last_decision is not None:  # this command knows: it started the instance or decided a step
        known = case.last_decision[0] if case.last_decision[1] == "approve" else None
        if not self_check():
            return known
    last = case.conn.execute(_LAST_DONE, {"b_instance": case.instance_id}).first()
    found = last.assignee_id if last is not None and last.decision == "approve" else None
    if case.last_decision is not None:
        assert found == known, f"last decision remembered as {case.last_decision}, stored {tuple(last or ())}"
    return found


# --- due times after the calendar or office hours changed -------------------------------------------------------


def recompute_due_times(core, conn, instance_id: int | None = None) -> int:
    """Recompute the due time of every open approval item (of one instance, or all) from its creation time,
    priority, node limit and paused time; the deadline sweep then plans its steps again. Returns how many
    due times changed."""
    query = (
        select(
            work_item.c.id,
            work_item.c.created_at,
            work_item.c.due_at,
            work_item.c.node_id,
            work_item.c.paused_minutes,
            work_item.c.next_step,
            work_item.c.note,
            instance.c.priority,
            instance.c.definition_id,
        )
        .join(instance, instance.c.id == work_item.c.instance_id)
        .where(work_item.c.status == "open", work_item.c.kind == "approve")
    )
    if instance_id is not None:
        query = query.where(work_item.c.instance_id == instance_id)
    cal = work_calendar(conn)
    changed = 0
    for row in conn.execute(query).all():
        if row.note and row.note.startswith(EXPIRY_TRANSFER_NOTE):
            continue
        node = core.specs.get(conn, row.definition_id).model.nodes.get(row.node_id)
        limit = policy_of(node).time_limit
        due = working_days.deadline(cal, row.created_at, row.priority, limit, row.paused_minutes or 0).due_at
        if due == row.due_at:
            continue
        values = {"due_at": due}
        if row.next_step != "paused":
            values.update(next_step=None, next_step_at=None)
        conn.execute(update(work_item).where(work_item.c.id == row.id).values(**values))
        changed += 1
    return changed


def record(case: Case, type_: str, actor, item=None, **kwargs) -> None:
    """An audit event of the instance, about `item` (its node) when given; `actor` a user or None."""
    audit.record(
        case.conn,
        type_,
        instance_id=case.instance_id,
        work_item_id=item.id if item is not None else None,
        actor_id=actor.id if actor is not None else None,
        node_id=kwargs.pop("node_id", item.node_id if item is not None else None),
        node_name=kwargs.pop("node_name", item.node_name if item is not None else None),
        **kwargs,
    )
