"""BPMN timer events, fired by the scheduler: boundary and intermediate timers of running instances, and
timer start events that start a new instance on schedule.

Nothing fires inside SpiffWorkflow by itself (its notes): every command's save records the instance's next
timer in `instance_timer` (engine.work.kernel.case), indexed by due time; the scheduler's one-second job
reads the due ones and fires each in its own transaction. There is one way to fire a timer, `fire_instance`,
and our clock decides what is due: the timers due by `now` are made due for the library too, so a test (or
an administrator) that passes a later `now` runs exactly the scheduler's path. The instance lock and a
re-check of the due time under it make each firing happen once, however many schedulers run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from engine.org import users
from engine.process import definitions
from engine.process.limits import TIMER_CYCLE_SECONDS
from engine.process.timer_values import has_timer
from engine.store import audit
from engine.store.tables import definition, instance, instance_timer, timer_start, utcnow
from engine.work import assignment
from engine.work.kernel import case as kernel
from engine.work.kernel import items, routing
from engine.work.kernel.failure import WorkflowFailed, run_engine
from engine.work.kernel.waits import naive_utc, timer_due

log = logging.getLogger("oaflow.timers")


def fire_due(core, now: datetime | None = None, batch: int = 100) -> int:
    """Fire every timer due by `now` (default: the real time): intermediate and boundary timers of running
    instances, then timer start events. Returns how many fired."""
    now = now or utcnow()
    with core.db.read() as conn:
        ids = [
            row.instance_id
            for row in conn.execute(
                select(instance_timer.c.instance_id)
                .join(instance, instance.c.id == instance_timer.c.instance_id)
                .where(instance_timer.c.due_at <= now, instance.c.status == "running")
                .order_by(instance_timer.c.due_at)
                .limit(batch)
            )
        ]
        starts = conn.execute(
            select(timer_start.c.process_key).where(timer_start.c.next_fire_at <= now).limit(1)
        ).first()
    fired = 0
    for instance_id in ids:
        try:
            fired += fire_instance(core, instance_id, now)
        except Exception:
            log.exception("timer of instance %s failed", instance_id)
    if starts is not None:
        fired += fire_start_timers(core, now)
    return fired


def fire_instance(core, instance_id: int, now: datetime | None = None) -> int:
    """Fire the instance's timers due by `now` in one command; returns how many fired (0: none was due, or
    another scheduler fired them a moment ago, or the instance is suspended or ended). When what the timer
    sets off fails, nothing of it is stored and the instance enters the error state (状态 异常), as any
    command's failure does (kernel.case.failing_into_error): the administrators retry it once fixed."""
    now = now or utcnow()
    found = {}
    with kernel.failing_into_error(core, found), core.db.write() as conn:
        case, inst = kernel.lock(core, conn, instance_id)  # the instance lock first
        due = conn.execute(select(instance_timer.c.due_at).where(instance_timer.c.instance_id == instance_id)).scalar()
        if due is None or due > now or inst.status != "running":
            return 0
        found.update(instance_id=instance_id, version=case.version)
        fired = _make_due(case.workflow, now)
        case.workflow.refresh_timers()
        run_engine(case.workflow, case.budget)
        items.sync_items(case, "定时事件到期，已取消")
        if fired:
            audit.record(conn, "timer_fired", instance_id=instance_id, message="定时事件到期，流程自动继续")
        routing.advance(case)
        kernel.save(case)
        if (
            conn.execute(select(instance_timer.c.due_at).where(instance_timer.c.instance_id == instance_id)).scalar()
            == due
        ):
            # Nothing could fire (an unreadable value): look again shortly rather than every second.
            conn.execute(
                update(instance_timer)
                .where(instance_timer.c.instance_id == instance_id)
                .values(due_at=now + timedelta(seconds=60))
            )
        return fired


def _make_due(workflow, now: datetime) -> int:
    """Make the timers due by `now` (naive UTC) due for the library too: it compares with its own clock, which
    a scheduler running a moment early, or a test passing a later `now`, must not depend on. Returns how many."""
    moment = datetime.now(timezone.utc) - timedelta(microseconds=1)
    fired = 0
    for task in workflow.get_tasks(state=TaskState.WAITING):
        if not has_timer(getattr(task.task_spec, "event_definition", None)):
            continue  # a timer alone, or one of the events of an event-based gateway or a multiple event
        at = timer_due(task)
        if at is None or naive_utc(at) > now:
            continue
        value = task._get_internal_data("event_value")
        if isinstance(value, dict):  # a cycle: the next one is counted from this firing
            task._set_internal_data(event_value={**value, "next": min(at, moment).isoformat()})
        else:
            task._set_internal_data(event_value=min(at, moment).isoformat())
        fired += 1
    return fired


# --- timer start events -----------------------------------------------------------------------------


def _start_timers(spec) -> list[tuple[str, TimerEventDefinition]]:
    found = []
    for name, task_spec in spec.task_specs.items():
        event = getattr(task_spec, "event_definition", None)
        if type(task_spec).__name__ == "StartEvent" and isinstance(event, TimerEventDefinition):
            found.append((name, event))
    return found


def _value(event: TimerEventDefinition) -> str:
    text = (event.expression or "").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def first_fire(event: TimerEventDefinition, deployed_at: datetime) -> tuple[datetime | None, int | None, float]:
    """(first start time as naive UTC, cycles after it or None for unbounded, seconds between cycles)."""
    value = _value(event)
    base = deployed_at.replace(tzinfo=timezone.utc)
    if isinstance(event, TimeDateEventDefinition):
        return naive_utc(TimerEventDefinition.parse_time_or_duration(value)), 0, 0
    if isinstance(event, DurationTimerEventDefinition):
        delta = TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(value), base)
        return naive_utc(base + delta), 0, 0
    if isinstance(event, CycleTimerEventDefinition):
        parts = value.upper().strip("R").split("/")
        cycles = int(parts[0]) if parts[0] else -1
        if len(parts) == 2:  # R3/PT1H: from deployment
            delta = TimerEventDefinition.get_timedelta_from_start(
                TimerEventDefinition.parse_iso_duration(parts[1]), base
            )
            start = base + delta
        else:
            cycles, start_aware, delta = TimerEventDefinition.parse_iso_recurring_interval(value)
            start = start_aware
        remaining = None if cycles < 0 else max(0, cycles - 1)
        return naive_utc(start), remaining, delta.total_seconds()
    return None, 0, 0


def sync_start_timers(core) -> None:
    """Keep `timer_start` in step with the newest version of every process."""
    with core.db.write() as conn:
        existing = {(row.process_key, row.node_id): row for row in conn.execute(select(timer_start))}
        wanted = set()
        for row in definitions.list_latest(conn):
            compiled = core.specs.from_row(row)
            for node_id, event in _start_timers(compiled.spec):
                key = (row.process_key, node_id)
                wanted.add(key)
                old = existing.get(key)
                if old is not None and old.definition_id == row.id:
                    continue
                try:
                    fire_at, remaining, _interval = first_fire(event, row.deployed_at)
                    error = None
                except Exception as exc:
                    fire_at, remaining, error = None, 0, f"定时表达式无法解析：{exc}"
                values = dict(
                    definition_id=row.id,
                    expression=_value(event)[:200],
                    next_fire_at=fire_at,
                    remaining=remaining,
                    last_error=error,
                )
                if old is None:
                    conn.execute(insert(timer_start).values(process_key=key[0], node_id=key[1], fired=0, **values))
                else:
                    conn.execute(
                        update(timer_start)
                        .where(timer_start.c.process_key == key[0], timer_start.c.node_id == key[1])
                        .values(**values)
                    )
        for key in set(existing) - wanted:
            conn.execute(
                delete(timer_start).where(timer_start.c.process_key == key[0], timer_start.c.node_id == key[1])
            )


def fire_start_timers(core, now: datetime | None = None) -> int:
    """Start one instance for each due timer start event; the next firing is claimed first, so two
    schedulers never start the same one twice."""
    now = now or utcnow()
    due = []
    with core.db.write() as conn:
        query = select(timer_start).where(timer_start.c.next_fire_at <= now).order_by(timer_start.c.next_fire_at)
        if conn.dialect.name != "sqlite":
            query = query.with_for_update(skip_locked=True)
        for row in conn.execute(query.limit(20)).all():
            compiled = core.specs.get(conn, row.definition_id)
            event = dict(_start_timers(compiled.spec)).get(row.node_id)
            next_at, remaining = None, 0
            if isinstance(event, CycleTimerEventDefinition) and (row.remaining is None or row.remaining > 0):
                _first, _rest, interval = first_fire(event, _deployed_at(conn, row.definition_id))
                interval = max(interval, TIMER_CYCLE_SECONDS)  # never a loop, whatever was deployed before
                next_at = row.next_fire_at + timedelta(seconds=interval)
                while next_at <= now:  # the scheduler was down: skip the missed firings, start once
                    next_at += timedelta(seconds=interval)
                remaining = None if row.remaining is None else row.remaining - 1
            conn.execute(
                update(timer_start)
                .where(timer_start.c.process_key == row.process_key, timer_start.c.node_id == row.node_id)
                .values(next_fire_at=next_at, remaining=remaining, fired=row.fired + 1)
            )
            admin = assignment.process_admins(conn, compiled.model.properties.get("admin"))
            due.append((row.process_key, row.node_id, admin[0] if admin else None))
    started = 0
    for process_key, node_id, admin_id in due:
        try:
            start_by_timer(core, process_key, node_id, admin_id)
            started += 1
        except Exception as exc:
            log.exception("timer start of %s failed", process_key)
            with core.db.write() as conn:
                conn.execute(
                    update(timer_start)
                    .where(timer_start.c.process_key == process_key, timer_start.c.node_id == node_id)
                    .values(last_error=str(getattr(exc, "message", exc))[:1000])
                )
    return started


def _deployed_at(conn: Connection, definition_id: int) -> datetime:
    return conn.execute(select(definition.c.deployed_at).where(definition.c.id == definition_id)).scalar()


def start_by_timer(core, process_key: str, node_id: str, admin_id: int | None) -> int:
    """Start an instance whose initiator is the process administrator (property `admin`) or the first
    administrator, its timer start event going at once (its time is now); one transaction."""
    if admin_id is None:
        raise WorkflowFailed("没有可作为发起人的管理员")

    def fire_start_event(workflow):
        for task in workflow.get_tasks(state=TaskState.WAITING):
            if task.task_spec.name != node_id:
                continue
            value = task._get_internal_data("event_value")
            if isinstance(value, dict):
                # A cycle: our timer_start row schedules the repetitions, so this instance runs one cycle.
                task._set_internal_data(event_value={**value, "cycles": 1, "next": "2000-01-01T00:00:00+00:00"})
            else:
                task._set_internal_data(event_fired=True)
        for _ in range(2):  # a cycle start event releases its path first and completes on the next refresh
            workflow.refresh_timers()
            run_engine(workflow)

    with core.db.write() as conn:
        initiator = users.get_user(conn, admin_id)
        case = routing.start_instance(core, conn, initiator, process_key, {}, "正常", prepare=fire_start_event)
        audit.record(
            conn,
            "timer_fired",
            instance_id=case.instance_id,
            node_id=node_id,
            message="定时启动：按流程设定的时间自动发起",
        )
        return case.instance_id
