"""A case: one instance, locked and restored for one command, then saved.

Every command is one transaction (DESIGN §2): lock the instance row, restore the SpiffWorkflow state with
the cached spec, act, let the kernel move the instance on (`kernel.routing.advance`), save with an
optimistic version check, commit. `Case` is that working set; its name keeps it apart from the database
session and from the instance row it was read from.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from engine.errors import Conflict, Forbidden, NotFound
from engine.notify import outbox
from engine.org import users
from engine.process import service_tasks
from engine.process.expressions import script_engine
from engine.process.limits import Budget
from engine.process.model import ProcessModel
from engine.process.spec_cache import Compiled
from engine.process.state import dump_state, load_state, unstorable
from engine.store import audit
from engine.store.database import after_commit
from engine.store.fastsql import Prepared
from engine.store.tables import ITEM_ACTIVE, instance, instance_timer, utcnow, work_item
from engine.work.kernel import claims, reading, waits
from engine.work.kernel.failure import ERROR_SUFFIX, WorkflowFailed, enter_error, failed_at

log = logging.getLogger("oaflow.work")

USER_TASK_TYPES = {"userTask"}
DECISIONS = {"approve": "同意", "reject": "不同意"}
STATUS_LABELS = {
    "running": "审批中",
    "approved": "已通过",
    "rejected": "不通过",
    "cancelled": "已撤销",
    "terminated": "已终止",
    "suspended": "已挂起",
    "error": "异常",
}
ENGINE = script_engine()

# The command path's statements, built once and run by engine.store.fastsql (building, cache-keying and
# executing a statement through SQLAlchemy per call cost more than running it: see BENCHMARKS.md).
# Parameters named b_* stand apart from the columns they filter.
_ITEM_BY_ID = Prepared(select(work_item).where(work_item.c.id == bindparam("b_id")))
_INSTANCE_BY_ID_STATEMENT = select(instance).where(instance.c.id == bindparam("b_id"))
_INSTANCE_BY_ID = Prepared(_INSTANCE_BY_ID_STATEMENT)
_INSTANCE_FOR_UPDATE = Prepared(_INSTANCE_BY_ID_STATEMENT.with_for_update())
_INSTANCE_OF_ITEM_FOR_UPDATE = Prepared(
    select(instance)
    .where(
        instance.c.id == select(work_item.c.instance_id).where(work_item.c.id == bindparam("b_item")).scalar_subquery()
    )
    .with_for_update()
)
_INITIATOR = Prepared(select(instance.c.initiator_id).where(instance.c.id == bindparam("b_id")))
_TAKES_PART = Prepared(
    select(work_item.c.id)
    .where(
        work_item.c.instance_id == bindparam("b_instance"),
        work_item.c.assignee_id == bindparam("b_user"),
        work_item.c.status != reading.RECALLED,  # a reader whose 传阅 was recalled no longer sees it
    )
    .limit(1)
)
_SAVE_STATEMENT = update(instance).where(
    instance.c.id == bindparam("b_id"), instance.c.version == bindparam("b_version")
)
_SAVE = Prepared(_SAVE_STATEMENT)
_TIMER_DUE = Prepared(select(instance_timer.c.due_at).where(instance_timer.c.instance_id == bindparam("b_instance")))


def _save_with_current_nodes(aggregate) -> Prepared:
    """The save, with `current_nodes` (the names of the nodes with open items, 、-separated) computed in
    the same statement from the rows this command just wrote."""
    live = (work_item.c.instance_id == bindparam("b_instance"), work_item.c.kind == "approve", ITEM_ACTIVE)
    names = select(work_item.c.node_name).where(*live).distinct().subquery()
    joined = select(aggregate(names.c.node_name, "、")).scalar_subquery()
    return Prepared(_SAVE_STATEMENT.values(current_nodes=func.coalesce(func.substr(joined, 1, 500), "")))


_SAVE_RUNNING = {
    "sqlite": _save_with_current_nodes(func.group_concat),
    "postgresql": _save_with_current_nodes(func.string_agg),
}


@dataclass
class Case:
    """One command's working set: connection, instance row values, workflow and compiled definition."""

    conn: Connection
    compiled: Compiled
    workflow: BpmnWorkflow
    instance_id: int
    initiator: users.User
    data: dict
    version: int
    status: str = "running"
    priority: str = "正常"
    title: str = ""
    jump_to: str | None = None  # after a "direct" 退回: the node the resubmission goes straight back to
    end_reason: str | None = None
    # node id -> users who get that node's items instead of its rule (退回 and 撤回 give the step back
    # to the people who handled it before).
    reassign: dict[str, list[int]] = field(default_factory=dict)
    # node id -> (origin, who caused it) of the items `reassign` gives back: ("send_back", the returner)
    # or ("recall", the approver who took their decision back), so the list can say why an item came back.
    reassign_origin: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    # A page's read-only snapshot of the instance's work items and 催办 times (checks.Snapshot): the
    # checks behind the page's buttons answer from it instead of asking the database again.
    snapshot: object | None = None
    # (assignee, decision) of the instance's newest decision when this command knows it (it started the
    # instance, or decided a step itself), so 自动去重 need not ask: None when unknown.
    last_decision: tuple[int | None, str | None] | None = None
    # Whether an instance_timer row may exist: the version it was loaded with (or started on) has timers.
    # Taken at load, so a migration away from a version with timers still clears the row.
    may_have_timer: bool = True
    # What this command has spent of what one command may do (engine.process.limits).
    budget: Budget = field(default_factory=Budget)
    # The Core the command runs on: a message the instance throws starts other processes (kernel.routing).
    core: object | None = None
    # What the command has to tell its caller besides its result (a claim that went on over its budget).
    warning: str | None = None

    def __post_init__(self) -> None:
        # service-task handlers that act on the system run inside this command's transaction
        initiator = self.initiator.username if self.initiator is not None else None
        context = service_tasks.HandlerContext(
            self.conn, self.instance_id, self.compiled.model.key, initiator, self._record_service_task
        )
        service_tasks.attach(self.workflow, context)

    def _record_service_task(self, node_id: str, node_name: str, message: str) -> None:
        if self.instance_id is not None:
            audit.record(self.conn, "service_task", instance_id=self.instance_id, node_id=node_id, node_name=node_name, message=message)  # fmt: skip  # noqa: E501

    @property
    def model(self) -> ProcessModel:
        return self.compiled.model


def self_check() -> bool:
    """Tests set OAFLOW_SELF_CHECK: what a cache or a snapshot answers is compared with the database's."""
    return bool(os.environ.get("OAFLOW_SELF_CHECK"))


# --- loading ------------------------------------------------------------------------------------------


def lock(core, conn: Connection, instance_id: int) -> tuple[Case, object]:
    """The case of an instance, locked for this command (SQLite: BEGIN IMMEDIATE already holds the
    database's write lock), and the instance row it was read from."""
    inst = conn.execute(_INSTANCE_BY_ID if core.db.is_sqlite else _INSTANCE_FOR_UPDATE, {"b_id": instance_id}).first()
    if inst is None:
        raise NotFound("申请不存在")
    return from_row(core, conn, inst), inst


def read(core, conn: Connection, instance_id: int) -> tuple[Case, object]:
    """The case of an instance for a query: restored, not locked; nothing may be saved from it."""
    inst = conn.execute(_INSTANCE_BY_ID, {"b_id": instance_id}).first()
    if inst is None:
        raise NotFound("申请不存在")
    return from_row(core, conn, inst), inst


def lock_item(core, conn: Connection, item_id: int, user: users.User, *, statuses=("open",)):
    """Lock the item's instance and return (case, item) for an item the user may act on now."""
    if core.db.is_sqlite:  # BEGIN IMMEDIATE already holds the write lock
        item = item_for_actor(conn, item_id, user)
        case, inst = read(core, conn, item.instance_id)
    else:
        # Lock the instance first, then read the item under the lock: a concurrent command may have
        # closed it a moment ago.
        inst = conn.execute(_INSTANCE_OF_ITEM_FOR_UPDATE, {"b_item": item_id}).first()
        item = item_for_actor(conn, item_id, user)
        case = from_row(core, conn, inst)
    if item.assignee_id != user.id:
        raise Conflict("该待办刚刚转给了他人，请刷新")
    if item.kind != "approve":
        raise Conflict("知会无需审批")
    if item.status == "cancelled":
        raise Conflict(f"该待办{item.note or '已取消'}，无需再处理")
    if item.status == "waiting" and "waiting" not in statuses:
        raise Conflict(f"该待办暂不能处理：{item.note or '等待他人处理'}")
    if item.status not in statuses:
        raise Conflict("该待办已处理，无需重复提交")
    if inst.status != "running":
        raise Conflict(f"该申请{STATUS_LABELS.get(inst.status, inst.status)}，不能再办理")
    return case, item


@contextlib.contextmanager
def item_command(core, username: str, item_id: int, *, statuses=("open",)) -> Iterator[tuple[Case, object, users.User]]:
    """The shape of a command on a work item: one transaction, the instance locked, the item the user's to
    act on now (`statuses`), the case saved when the body is done. When the engine fails on what the
    command caused, nothing of it is stored and the instance enters the error state (`failing_into_error`)."""
    found = {}
    with failing_into_error(core, found):
        with core.db.write() as conn:
            user = users.require_user(conn, username)
            case, item = lock_item(core, conn, item_id, user, statuses=statuses)
            found.update(instance_id=case.instance_id, version=case.version, actor_id=user.id)
            yield case, item, user
            save(case)


@contextlib.contextmanager
def instance_command(core, username: str, instance_id: int) -> Iterator[tuple[Case, object, users.User]]:
    """The shape of a command on an instance the user takes part in: one transaction, the instance locked,
    the case saved when the body is done; the engine failing puts the instance in the error state."""
    found = {}
    with failing_into_error(core, found):
        with core.db.write() as conn:
            user = users.require_user(conn, username)
            try:
                case, inst = lock(core, conn, instance_id)
            except NotFound:
                raise NotFound("申请不存在，或您无权查看") from None
            if not is_participant(conn, instance_id, user, initiator_id=inst.initiator_id):
                raise NotFound("申请不存在，或您无权查看")
            found.update(instance_id=case.instance_id, version=case.version, actor_id=user.id)
            yield case, inst, user
            save(case)


@contextlib.contextmanager
def failing_into_error(core, found: dict) -> Iterator[None]:
    """Around a command's transaction on a running instance (`found`: its instance_id, the version it was
    locked at, the acting user's id, filled in once locked): when the engine fails, the transaction has
    rolled back and the instance enters the error state in one of its own; the caller hears why."""
    try:
        yield
    except WorkflowFailed as exc:
        if found and enter_error(core, found["instance_id"], found["version"], exc, found.get("actor_id")):
            exc.message = exc.args[0] + ERROR_SUFFIX
            exc.args = (exc.message,)
        raise


def item_for_actor(conn: Connection, item_id: int, user: users.User):
    """The work item, when it is the user's: another participant's is forbidden, anyone else's not found."""
    item = conn.execute(_ITEM_BY_ID, {"b_id": item_id}).first()
    if item is None:
        raise NotFound("待办不存在")
    if item.assignee_id != user.id:
        if is_participant(conn, item.instance_id, user):
            raise Forbidden("这不是您的待办，不能处理")
        raise NotFound("待办不存在")
    return item


def work_item_row(conn: Connection, item_id: int):
    return conn.execute(_ITEM_BY_ID, {"b_id": item_id}).first()


def is_participant(conn: Connection, instance_id: int, user: users.User, initiator_id: int | None = None) -> bool:
    """Whether the user may see the instance: its initiator, anyone with a work item on it (知会 and 传阅
    readers too, unless their 传阅 was recalled), administrators.
    `initiator_id`: the caller read the instance row already."""
    if user.is_admin:
        return True
    initiator = initiator_id if initiator_id is not None else conn.execute(_INITIATOR, {"b_id": instance_id}).scalar()
    if initiator is None:
        return False
    if initiator == user.id:
        return True
    return conn.execute(_TAKES_PART, {"b_instance": instance_id, "b_user": user.id}).first() is not None


def from_row(core, conn: Connection, inst) -> Case:
    """The case of an instance row read (and locked) by the caller."""
    compiled = core.specs.get(conn, inst.definition_id)
    workflow = core.workflows.take(inst.id, inst.version, compiled)
    if workflow is None:
        workflow = load_state(inst.state, compiled.spec, compiled.subprocess_specs, ENGINE)
    elif self_check():
        _verify_cached(workflow, inst)
    case = Case(
        conn,
        compiled,
        workflow,
        inst.id,
        users.get_user(conn, inst.initiator_id),
        orjson.loads(inst.data),
        version=inst.version,
        status=inst.status,
        priority=inst.priority,
        title=inst.title,
        jump_to=inst.jump_to,
        end_reason=inst.end_reason,
        may_have_timer=compiled.has_timers,
        core=core,
    )
    keep_after_commit(core, case)
    return case


def _verify_cached(workflow: BpmnWorkflow, inst) -> None:
    """Self-check (tests): a workflow taken from the cache must equal the stored state."""
    if orjson.loads(dump_state(workflow)) != orjson.loads(inst.state):
        raise AssertionError(f"cached workflow of instance {inst.id} differs from its stored state (v{inst.version})")


def keep_after_commit(core, case: Case) -> None:
    """Once the command's transaction commits, keep the case's workflow for the instance's next command
    (engine.work.cache). Not inside a savepoint: a rolled-back savepoint would leave a workflow that no
    longer matches the stored state."""
    if case.conn.in_nested_transaction():
        return
    after_commit(case.conn, lambda: core.workflows.put(case.instance_id, case.version, case.compiled, case.workflow))


def ready_task(workflow: BpmnWorkflow, task_id: str):
    """The READY task a work item stands for; Conflict when the process has moved on from it."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except (ValueError, KeyError):
        task = None
    if task is None or task.state != TaskState.READY:
        raise Conflict("该待办对应的流程节点已不在办理中，请刷新")
    return task


# --- saving ------------------------------------------------------------------------------------------


def save(case: Case) -> None:
    """Write the new state with an optimistic version check; finish the instance when it ended."""
    conn = case.conn
    now = utcnow()
    try:
        state, data = dump_state(case.workflow), orjson.dumps(case.data).decode()
    except TypeError as exc:  # a value JSON cannot hold (orjson.JSONEncodeError): a handler's, a library's
        raise failed_at(f"流程数据含有无法保存的值（{unstorable(exc)}）", None) from None
    values = {
        "state": state,
        "status": case.status,
        "data": data,
        "title": case.title,
        "priority": case.priority,  # a step's 紧急程度 may change it (form_data.priority)
        "updated_at": now,
        "version": case.version + 1,
        "jump_to": case.jump_to,
        "end_reason": case.end_reason,
    }
    ended = case.status not in ("running", "suspended", "error")
    if ended:
        values["ended_at"] = now
        values["current_nodes"] = ""
        values["jump_to"] = None
        statement = _SAVE
    else:
        statement = _SAVE_RUNNING[conn.dialect.name]
        values["b_instance"] = case.instance_id
    result = conn.execute(statement, {"b_id": case.instance_id, "b_version": case.version, **values})
    if result.rowcount != 1:
        raise Conflict("该申请已被他人同时处理，请刷新后重试")
    case.version += 1
    _track_timer(case)
    if ended:
        label = STATUS_LABELS[case.status]
        reason = f"（{case.end_reason}）" if case.end_reason else ""
        audit.record(conn, "ended", instance_id=case.instance_id, message=f"流程结束：{label}{reason}")
        claims.settle(conn, case.model, case.instance_id, case.status)
        reading.close_unread(conn, case.instance_id)
        outbox.send(conn, case.initiator.id, "result", f"您的申请“{case.title}”{label}", instance_id=case.instance_id)


def _track_timer(case: Case) -> None:
    """Record the instance's next timer in `instance_timer`, within the command's transaction."""
    conn = case.conn
    due = waits.next_timer(case.workflow) if case.status == "running" else None
    if due is None and not case.may_have_timer:
        return  # the instance's version has no timer event, so it has no row here: spare the query
    key = instance_timer.c.instance_id == case.instance_id
    existing = conn.execute(_TIMER_DUE, {"b_instance": case.instance_id}).first()
    if due is None:
        if existing is not None:
            conn.execute(delete(instance_timer).where(key))
    elif existing is None:
        conn.execute(insert(instance_timer).values(instance_id=case.instance_id, due_at=due))
    elif existing.due_at != due:
        conn.execute(update(instance_timer).where(key).values(due_at=due))
