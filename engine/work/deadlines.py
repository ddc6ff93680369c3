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
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from engine.errors import Conflict
from engine.notify import outbox
from engine.org import users
from engine.process.policy import NodePolicy, policy_of
from engine.store import audit
from engine.store.tables import instance, reminder, user_account, utcnow, work_item
from engine.time.office_hours import WorkCalendar, work_calendar
from engine.work import signing
from engine.work.kernel import case as kernel
from engine.work.kernel.case import Case
from engine.work.kernel.items import EXPIRY_TRANSFER_NOTE

log = logging.getLogger("oaflow.deadlines")

BATCH = 200
REASON_REMIND = "即将超时，系统自动提醒"
REASON_OVERDUE = "审批超时，系统自动提醒"
REASON_APPROVE = "审批超时，系统自动通过"
REASON_TRANSFER = "审批超时，系统自动转交上级"


# The sweep runs these once per due item: built once (building a statement costs more than running it).
# RETURNING, not rowcount: drivers disagree on rowcount for INSERT … ON CONFLICT DO NOTHING.
_CLAIM = {
    "sqlite": sqlite_insert(reminder).on_conflict_do_nothing().returning(reminder.c.step),
    "postgresql": pg_insert(reminder).on_conflict_do_nothing().returning(reminder.c.step),
}
_CLAIM_MANY = {
    "sqlite": sqlite_insert(reminder).on_conflict_do_nothing().returning(reminder.c.work_item_id, reminder.c.step),
    "postgresql": pg_insert(reminder).on_conflict_do_nothing().returning(reminder.c.work_item_id, reminder.c.step),
}
_SET_STEP = update(work_item).where(work_item.c.id == bindparam("b_id"))
_DEPARTMENT_OF = select(user_account.c.department_id).where(user_account.c.id == bindparam("b_user"))


def _claim(conn: Connection, item_id: int, step: str, now: datetime) -> bool:
    """Record a step; False when it was taken already (by this or another scheduler)."""
    statement = _CLAIM[conn.dialect.name]
    return conn.execute(statement, {"work_item_id": item_id, "step": step, "created_at": now}).first() is not None


def plan(cal: WorkCalendar, due: datetime, policy: NodePolicy, done: set[str], now: datetime):
    """The next step still to take for an item due at `due` (a pure function of the calendar, the node's
    policy and the steps done), and when: (step, naive UTC) or ("done", None)."""
    if "remind" not in done and now < due and policy.remind_minutes > 0:
        return "remind", cal.sub_working_minutes(due, policy.remind_minutes)
    if "overdue" not in done:
        return "overdue", due
    if policy.on_expiry == "remind" and "escalate2" not in done:
        return "escalate2", cal.add_working_minutes(due, cal.hours.minutes_per_day)[0]
    return "done", None


def _leaders_of(conn: Connection, user_id: int) -> list[int]:
    """The people above a user, nearest first (their department leader, 分管领导, …), never the user."""
    dept = conn.execute(_DEPARTMENT_OF, {"b_user": user_id}).scalar()
    return [leader for leader in users.leader_chain(conn, dept) if leader != user_id]


def _lock(query, conn: Connection):
    return query if conn.dialect.name == "sqlite" else query.with_for_update(skip_locked=True, of=work_item)


def _done_steps(conn: Connection, ids: list[int]) -> dict[int, set[str]]:
    done: dict[int, set[str]] = {i: set() for i in ids}
    if ids:
        for row in conn.execute(
            select(reminder.c.work_item_id, reminder.c.step).where(reminder.c.work_item_id.in_(ids))
        ):
            done[row.work_item_id].add(row.step)
    return done


_COLUMNS = (
    work_item.c.id,
    work_item.c.instance_id,
    work_item.c.node_id,
    work_item.c.node_name,
    work_item.c.assignee_id,
    work_item.c.due_at,
    work_item.c.next_step,
    work_item.c.next_step_at,
    instance.c.title,
    instance.c.status.label("instance_status"),
    instance.c.definition_id,
)


def sweep(core, now: datetime | None = None, batch: int = BATCH) -> int:
    """Take every deadline step that is due; return how many steps were taken."""
    now = now or utcnow()
    taken = 0
    deferred: list[int] = []  # automatic actions, each in its own transaction (instance lock first)
    skip: set[int] = set()
    for phase in ("new", "due"):
        while True:
            with core.db.write() as conn:
                query = select(*_COLUMNS).join(instance, instance.c.id == work_item.c.instance_id)
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
                rows = conn.execute(_lock(query.limit(batch), conn)).all()
                if not rows:
                    break
                cal = work_calendar(conn)
                done = _done_steps(conn, [r.id for r in rows])
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


class _Writes:
    """The messages and events of deadline steps, and the people they name, for one transaction.
    Written with one statement per table when flushed: a sweep over a thousand due items is a handful
    of round trips, not thousands (the sweep has a budget of one second for 1,000 due items)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.messages: list[dict] = []
        self.events: list[dict] = []
        self.people: dict[int, users.User | None] = {}
        self.chains: dict[int, list[int]] = {}

    def notify(self, user_id: int, kind: str, title: str, **target) -> None:
        self.messages.append({"user_id": user_id, "kind": kind, "title": title, **target})

    def record(self, type_: str, **values) -> None:
        self.events.append({"type_": type_, **values})

    def user(self, user_id: int) -> users.User | None:
        if user_id not in self.people:
            self.people[user_id] = users.get_user(self.conn, user_id)
        return self.people[user_id]

    def load_users(self, ids) -> None:
        wanted = {i for i in ids if i not in self.people}
        found = users.users_by_ids(self.conn, wanted)
        self.people.update({i: found.get(i) for i in wanted})

    def leaders(self, user_id: int) -> list[int]:
        if user_id not in self.chains:
            self.chains[user_id] = _leaders_of(self.conn, user_id)
        return self.chains[user_id]

    def flush(self) -> None:
        outbox.send_many(self.conn, self.messages)
        audit.record_many(self.conn, self.events)
        self.messages, self.events = [], []


def _set_step(conn: Connection, item_id: int, step: str, at: datetime | None) -> None:
    conn.execute(_SET_STEP, {"b_id": item_id, "next_step": step, "next_step_at": at})


def _steps_due(cal, row, policy: NodePolicy, done: set[str], now: datetime):
    """(steps to take now, the next step and when, whether the node's automatic action takes over)."""
    steps, done = [], set(done)
    while True:
        step, at = plan(cal, row.due_at, policy, done, now)
        if step == "done" or at > now:
            return steps, step, at, False
        if step == "overdue" and policy.on_expiry != "remind":
            return steps, step, at, True
        steps.append(step)
        done.add(step)


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
            steps, step, at, automatic = _steps_due(cal, row, policy, done[row.id], now)
            if automatic:
                deferred.append(row.id)
            plans.append((row, steps, step, at))
            for taken_step in steps:
                wanted.append({"work_item_id": row.id, "step": taken_step, "created_at": now})
                if taken_step == "overdue":
                    wanted.append({"work_item_id": row.id, "step": "escalate1", "created_at": now})
    claimed = _claim_many(conn, wanted)
    writes = _Writes(conn)
    writes.load_users({row.assignee_id for row, steps, _s, _a in plans if steps})
    taken = 0
    for row, steps, _step, _at in plans:
        for step in steps:
            if (row.id, step) in claimed:
                taken += _take(writes, cal, row, step, now, claimed={s for i, s in claimed if i == row.id})
    writes.flush()
    conn.execute(_SET_STEP, [{"b_id": row.id, "next_step": step, "next_step_at": at} for row, _s, step, at in plans])
    return taken


def _claim_many(conn: Connection, wanted: list[dict]) -> set[tuple[int, str]]:
    """Record many steps at once; the (item, step) pairs this call took (others were taken before)."""
    if not wanted:
        return set()
    rows = conn.execute(_CLAIM_MANY[conn.dialect.name], wanted)
    return {(row.work_item_id, row.step) for row in rows}


def _advance_item(core, conn, cal, row, done: set[str], now: datetime, deferred: list[int]) -> int:
    """One item in its own savepoint: the way back when a batch failed."""
    if row.instance_status != "running":
        _set_step(conn, row.id, "paused", None)
        return 0
    if row.due_at is None:
        _set_step(conn, row.id, "done", None)
        return 0
    policy = policy_of(core.specs.get(conn, row.definition_id).model.nodes.get(row.node_id))
    writes = _Writes(conn)
    taken = 0
    while True:
        step, at = plan(cal, row.due_at, policy, done, now)
        if step == "done" or at > now:
            _set_step(conn, row.id, step, at)
            break
        if step == "overdue" and policy.on_expiry != "remind":
            _set_step(conn, row.id, step, at)
            deferred.append(row.id)
            break
        if _claim(conn, row.id, step, now):
            taken += _take(writes, cal, row, step, now)
        done.add(step)
    writes.flush()
    return taken


def _take(writes: _Writes, cal: WorkCalendar, row, step: str, now: datetime, claimed: set[str] | None = None) -> int:
    """Notify and audit one claimed step; returns the steps taken (the overdue step brings escalate1).
    `claimed`: the item's steps already claimed by the caller (else escalate1 is claimed here)."""
    assignee = writes.user(row.assignee_id)
    due_text = f"{cal.local(row.due_at):%Y-%m-%d %H:%M}"
    what = f"{row.title}（{row.node_name}）"
    common = dict(instance_id=row.instance_id, work_item_id=row.id, node_id=row.node_id, node_name=row.node_name)
    target = dict(instance_id=row.instance_id, work_item_id=row.id)
    if step == "remind":
        writes.notify(row.assignee_id, "remind", f"待办即将超时：{what}，请于 {due_text} 前办理", **target)
        writes.record("reminded", message=REASON_REMIND, **common)
        return 1
    if step == "overdue":
        writes.notify(row.assignee_id, "overdue", f"待办已超时：{what}，请尽快办理", **target)
        writes.record("overdue", message=REASON_OVERDUE, **common)
        title = f"{assignee.display_name}的待办已超时：{what}，请督促办理"
        if claimed is not None and "escalate1" not in claimed:
            return 1
        return 1 + _escalate(writes, row, assignee, 1, "escalate1", title, now, claimed=claimed is not None)
    if step == "escalate2":
        return _escalate(
            writes,
            row,
            assignee,
            2,
            "escalate2",
            f"{assignee.display_name}的待办超时已逾 1 个工作日：{what}，请督促办理",
            now,
            claimed=True,
        )
    return 0


def _escalate(
    writes: _Writes, row, assignee, level: int, step: str, title: str, now: datetime, claimed: bool = False
) -> int:
    if not claimed and not _claim(writes.conn, row.id, step, now):
        return 0
    leaders = writes.leaders(assignee.id)
    common = dict(instance_id=row.instance_id, work_item_id=row.id, node_id=row.node_id, node_name=row.node_name)
    if len(leaders) < level:
        writes.record("escalated", message=f"审批超时，第 {level} 级督办无上级领导可通知", **common)
        return 1
    leader = writes.user(leaders[level - 1])
    writes.notify(leader.id, "escalated", title, instance_id=row.instance_id, work_item_id=row.id)
    writes.record("escalated", message=f"审批超时，已通知{leader.display_name}督办（第 {level} 级）", **common)
    return 1


# --- automatic actions on expiry ------------------------------------------------------------------


def expire(core, item_id: int, now: datetime | None = None) -> int:
    """The node's automatic action at the due time (on_expiry = approve | transfer), in one transaction that
    locks the instance first, as every command does; the same 同意 and 转办 steps the users' commands take.
    Returns 1 when the step was taken here."""
    now = now or utcnow()
    with core.db.write() as conn:
        instance_id = conn.execute(select(work_item.c.instance_id).where(work_item.c.id == item_id)).scalar()
        if instance_id is None:
            return 0
        case, inst = kernel.lock(core, conn, instance_id)
        item = conn.execute(_lock(select(work_item).where(work_item.c.id == item_id), conn)).first()
        if item is None or item.status != "open" or item.next_step != "overdue" or item.next_step_at > now:
            return 0
        if inst.status != "running":
            _set_step(conn, item.id, "paused", None)
            return 0
        if not _claim(conn, item.id, "overdue", now):
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
            select(*_COLUMNS).join(instance, instance.c.id == work_item.c.instance_id).where(work_item.c.id == item.id)
        ).first()
        cal = work_calendar(conn)
        writes = _Writes(conn)
        taken = _take(writes, cal, row, "overdue", now)
        writes.flush()
        step, at = plan(cal, item.due_at, NodePolicy(), {"remind", "overdue"}, now)
        _set_step(conn, item.id, step, at)
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
    """转办 to the assignee's department leader, for good (代理 applies as for any new item). The new item is
    not escalated again: a chain of automatic transfers helps nobody."""
    task = _ready_task(case, item)
    leaders = _leaders_of(case.conn, item.assignee_id)
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
