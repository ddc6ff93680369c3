"""The deadline ladder of a work item (超时): 即将超时 before the due time, 已超时 and the department leader at
it, one level up a working day later — when each step is due, and its messages and events, each once.

Exactly once: every step taken is a `reminder` row whose primary key is (work item, step), inserted in the
same transaction as its notifications and events, so any number of schedulers may sweep at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from engine.notify import outbox
from engine.org import users
from engine.process.policy import NodePolicy
from engine.store import audit
from engine.store.tables import instance, reminder, user_account, work_item
from engine.time.office_hours import WorkCalendar

REASON_REMIND = "即将超时，系统自动提醒"


REASON_OVERDUE = "审批超时，系统自动提醒"


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


SET_STEP = update(work_item).where(work_item.c.id == bindparam("b_id"))


_DEPARTMENT_OF = select(user_account.c.department_id).where(user_account.c.id == bindparam("b_user"))


def claim(conn: Connection, item_id: int, step: str, now: datetime) -> bool:
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


def leaders_of(conn: Connection, user_id: int) -> list[int]:
    """The people above a user, nearest first (their department leader, 分管领导, …), never the user."""
    dept = conn.execute(_DEPARTMENT_OF, {"b_user": user_id}).scalar()
    return [leader for leader in users.leader_chain(conn, dept) if leader != user_id]


def lock_rows(query, conn: Connection):
    return query if conn.dialect.name == "sqlite" else query.with_for_update(skip_locked=True, of=work_item)


def done_steps(conn: Connection, ids: list[int]) -> dict[int, set[str]]:
    done: dict[int, set[str]] = {i: set() for i in ids}
    if ids:
        for row in conn.execute(
            select(reminder.c.work_item_id, reminder.c.step).where(reminder.c.work_item_id.in_(ids))
        ):
            done[row.work_item_id].add(row.step)
    return done


COLUMNS = (
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


class Writes:
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
            self.chains[user_id] = leaders_of(self.conn, user_id)
        return self.chains[user_id]

    def flush(self) -> None:
        outbox.send_many(self.conn, self.messages)
        audit.record_many(self.conn, self.events)
        self.messages, self.events = [], []


def set_step(conn: Connection, item_id: int, step: str, at: datetime | None) -> None:
    conn.execute(SET_STEP, {"b_id": item_id, "next_step": step, "next_step_at": at})


def steps_due(cal, row, policy: NodePolicy, done: set[str], now: datetime):
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


def claim_many(conn: Connection, wanted: list[dict]) -> set[tuple[int, str]]:
    """Record many steps at once; the (item, step) pairs this call took (others were taken before)."""
    if not wanted:
        return set()
    rows = conn.execute(_CLAIM_MANY[conn.dialect.name], wanted)
    return {(row.work_item_id, row.step) for row in rows}


def take(writes: Writes, cal: WorkCalendar, row, step: str, now: datetime, claimed: set[str] | None = None) -> int:
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
    writes: Writes, row, assignee, level: int, step: str, title: str, now: datetime, claimed: bool = False
) -> int:
    if not claimed and not claim(writes.conn, row.id, step, now):
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
