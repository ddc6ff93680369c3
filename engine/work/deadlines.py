"""The deadline sweep (超时): remind, mark overdue, escalate, or act automatically on expiry.

For each open approval item, in working time on the office calendar:
  remind     `remind_hours` (default 2) working hours before the due time: 即将超时 to the assignee;
  overdue    at the due time: 已超时 to the assignee and the item's escalation to their department
             leader (step `escalate1`) — or the node's automatic action (`on_expiry`: approve | transfer);
  escalate2  one working day later: escalation one more level up.

Exactly once: every step taken is a `reminder` row whose primary key is (work item, step), inserted in
the same transaction as its notifications and events; rows are claimed with `FOR UPDATE SKIP LOCKED` on
PostgreSQL (SQLite's BEGIN IMMEDIATE serializes writers), so any number of scheduler processes can sweep.

Cheap: the sweep reads only items whose next step is due (`next_step_at`, indexed with status) and the
few new items whose next step is not planned yet — never every open item.
"""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine.errors import Conflict
from engine.notify import outbox
from engine.org import deciders, users
from engine.process.policy import NodePolicy, policy_of
from engine.store.tables import instance, utcnow, work_item
from engine.time.office_hours import work_calendar
from engine.work import escalation, signing
from engine.work.kernel import case as kernel
from engine.work.kernel.case import Case
from engine.work.kernel.items import EXPIRY_TRANSFER_NOTE

log = logging.getLogger("oaflow.deadlines")


BATCH = 200


REASON_APPROVE = "审批超时，系统自动通过"


REASON_TRANSFER = "审批超时，系统自动转交上级"


def sweep(core, now: datetime | None = None, batch: int = BATCH) -> int:
    """Take every deadline step that is due; return how many steps were taken."""
    now = now or utcnow()
    taken = 0
    deferred: list[int] = []  # automatic actions, each in its own transaction (instance lock first)
    skip: set[int] = set()
    for phase in ("new", "due"):
        while True:
            with core.db.write() as conn:
                query = select(*escalation.COLUMNS).join(instance, instance.c.id == work_item.c.instance_id)
                if phase == "new":
                    query = query.where(
                        work_item.c.status == "open", work_item.c.kind == "approve", work_item.c.next_step.is_(None)
                    ).order_by(work_item.c.id)
                else:
                    query = query.where(work_item.c.status == "open", work_item.c.next_step_at <= now).order_by(
                        work_item.c.next_step_at
                    )
                if skip:
                    query = query.where(work_item.c.id.notin_(skip))
                rows = conn.execute(escalation.lock_rows(query.limit(batch), conn)).all()
                if not rows:
                    break
                cal = work_calendar(conn)
                done = escalation.done_steps(conn, [r.id for r in rows])
                try:
                    # The whole batch with one statement per kind of write (claims, messages, events, plans).
                    with conn.begin_nested():
                        taken += _advance_batch(core, conn, cal, rows, done, now, deferred)
                except Exception:
                    log.warning("deadline batch failed; taking its items one by one", exc_info=True)
                    deferred = [i for i in deferred if i not in {r.id for r in rows}]
                    for row in rows:
                        try:
                            with conn.begin_nested():
                                taken += _advance_item(core, conn, cal, row, done[row.id], now, deferred)
                        except Exception:  # one broken item must not block the others
                            log.exception("deadline step failed for work item %s", row.id)
                            skip.add(row.id)
                skip.update(deferred)
    for item_id in deferred:
        try:
            taken += expire(core, item_id, now)
        except Exception:
            log.exception("automatic action failed for work item %s", item_id)
    return taken


def _advance_batch(core, conn, cal, rows, done, now: datetime, deferred: list[int]) -> int:
    plans, wanted = [], []
    for row in rows:
        if row.instance_status != "running":
            # 挂起 (or ended without closing the item): the clock stops until resume() plans again.
            plans.append((row, [], "paused", None))
        elif row.due_at is None:
            plans.append((row, [], "done", None))
        else:
            policy = policy_of(core.specs.get(conn, row.definition_id).model.nodes.get(row.node_id))
            steps, step, at, automatic = escalation.steps_due(cal, row, policy, done[row.id], now)
            if automatic:
                deferred.append(row.id)
            plans.append((row, steps, step, at))
            for taken_step in steps:
                wanted.append({"work_item_id": row.id, "step": taken_step, "created_at": now})
                if taken_step == "overdue":
                    wanted.append({"work_item_id": row.id, "step": "escalate1", "created_at": now})
    claimed = escalation.claim_many(conn, wanted)
    writes = escalation.Writes(conn)
    writes.load_users({row.assignee_id for row, steps, _s, _a in plans if steps})
    taken = 0
    for row, steps, _step, _at in plans:
        for step in steps:
            if (row.id, step) in claimed:
                taken += escalation.take(writes, cal, row, step, now, claimed={s for i, s in claimed if i == row.id})
    writes.flush()
    conn.execute(
        escalation.SET_STEP, [{"b_id": row.id, "next_step": step, "next_step_at": at} for row, _s, step, at in plans]
    )
    return taken


def _advance_item(core, conn, cal, row, done: set[str], now: datetime, deferred: list[int]) -> int:
    """One item in its own savepoint: the way back when a batch failed."""
    if row.instance_status != "running":
        escalation.set_step(conn, row.id, "paused", None)
        return 0
    if row.due_at is None:
        escalation.set_step(conn, row.id, "done", None)
        return 0
    policy = policy_of(core.specs.get(conn, row.definition_id).model.nodes.get(row.node_id))
    writes = escalation.Writes(conn)
    taken = 0
    while True:
        step, at = escalation.plan(cal, row.due_at, policy, done, now)
        if step == "done" or at > now:
            escalation.set_step(conn, row.id, step, at)
            break
        if step == "overdue" and policy.on_expiry != "remind":
            escalation.set_step(conn, row.id, step, at)
            deferred.append(row.id)
            break
        if escalation.claim(conn, row.id, step, now):
            taken += escalation.take(writes, cal, row, step, now)
        done.add(step)
    writes.flush()
    return taken


def expire(core, item_id: int, now: datetime | None = None) -> int:
    """The node's automatic action at the due time (on_expiry = approve | transfer), in one transaction that
    locks the instance first, as every command does; the same 同意 and 转办 steps the users' commands take.
    Returns 1 when the step was taken here."""
    now = now or utcnow()
    found = {}  # the automatic 同意 failing in the engine puts the instance in 异常, as any command's failure
    with kernel.failing_into_error(core, found), core.db.write() as conn:
        instance_id = conn.execute(select(work_item.c.instance_id).where(work_item.c.id == item_id)).scalar()
        if instance_id is None:
            return 0
        case, inst = kernel.lock(core, conn, instance_id)
        found.update(instance_id=instance_id, version=case.version)
        item = conn.execute(escalation.lock_rows(select(work_item).where(work_item.c.id == item_id), conn)).first()
        if item is None or item.status != "open" or item.next_step != "overdue" or item.next_step_at > now:
            return 0
        if inst.status != "running":
            escalation.set_step(conn, item.id, "paused", None)
            return 0
        if not escalation.claim(conn, item.id, "overdue", now):
            return 0
        policy = policy_of(case.model.nodes.get(item.node_id))
        acted = (policy.on_expiry == "approve" and _auto_approve(case, item)) or (
            policy.on_expiry == "transfer" and _transfer_to_leader(case, item)
        )
        if acted:
            kernel.save(case)
            return 1
        # No way to act (the task moved on, or nobody above to take it): remind and escalate as usual.
        row = conn.execute(
            select(*escalation.COLUMNS)
            .join(instance, instance.c.id == work_item.c.instance_id)
            .where(work_item.c.id == item.id)
        ).first()
        cal = work_calendar(conn)
        writes = escalation.Writes(conn)
        taken = escalation.take(writes, cal, row, "overdue", now)
        writes.flush()
        step, at = escalation.plan(cal, item.due_at, NodePolicy(), {"remind", "overdue"}, now)
        escalation.set_step(conn, item.id, step, at)
        return taken


def _ready_task(case: Case, item):
    try:
        task = case.workflow.get_task_from_id(UUID(item.task_id))
    except ValueError:
        return None
    return task if task is not None and task.state == TaskState.READY else None


def _auto_approve(case: Case, item) -> bool:
    """同意 on the assignee's behalf with the fixed reason: the node's sign mode decides what follows."""
    task = _ready_task(case, item)
    if task is None:
        return False
    signing.decide(case, task, item, None, "approve", REASON_APPROVE, automatic=REASON_APPROVE)
    outbox.send(
        case.conn,
        item.assignee_id,
        "auto_approved",
        f"您的待办“{case.title}（{item.node_name}）”已超时，系统已自动通过",
        instance_id=case.instance_id,
        work_item_id=item.id,
    )
    return True


def _transfer_to_leader(case: Case, item) -> bool:
    """转办 to the assignee's nearest leader who is not the applicant, for good (代理 applies as for any new
    item). The new item is
    not escalated again: a chain of automatic transfers helps nobody."""
    task = _ready_task(case, item)
    # The nearest leader who may decide: never the applicant (engine.org.deciders).
    leaders = [
        u for u in escalation.leaders_of(case.conn, item.assignee_id) if deciders.may_decide(case.initiator.id, u)
    ]
    if task is None or not leaders:
        return False
    old = users.get_user(case.conn, item.assignee_id)
    leader = users.get_user(case.conn, leaders[0])
    try:
        signing.hand_over(
            case,
            task,
            item,
            leader,
            by=None,
            opinion=f"{old.display_name} → {leader.display_name}",
            message=REASON_TRANSFER,
            note=f"{EXPIRY_TRANSFER_NOTE}，原办理人：{old.display_name}"[:200],
            next_step="done",
        )
    except Conflict:  # the leader signs at this node already: remind and escalate instead
        return False
    outbox.send(
        case.conn,
        old.id,
        "transferred",
        f"您的待办“{case.title}（{item.node_name}）”已超时，系统已转交{leader.display_name}办理",
        instance_id=case.instance_id,
        work_item_id=item.id,
    )
    return True
