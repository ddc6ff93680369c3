"""Runtime commands: start an instance, complete a work item.

Each command is one transaction (DESIGN §2): lock the instance, restore the SpiffWorkflow state with the
cached spec, act, run engine steps, project READY user tasks into work items, write audit events,
bump `version`, commit. Notifications are written to the outbox in the same transaction.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from engine.errors import Conflict, FieldError, Forbidden, InvalidData, NotFound, OaflowError
from engine.org import users
from engine.process import bpmn, definitions, forms, spec_cache
from engine.process.expressions import ExpressionError, script_engine
from engine.store import audit
from engine.store.database import after_commit
from engine.store.fastsql import Prepared
from engine.store.tables import ITEM_ACTIVE, instance, notification, utcnow, work_item
from engine.time.working_days import PRIORITIES
from engine.work import assignment

USER_TASK_TYPES = {"userTask"}
DECISIONS = {"approve": "同意", "reject": "不同意"}
STATUS_LABELS = {
    "running": "审批中",
    "approved": "已通过",
    "rejected": "不通过",
    "cancelled": "已撤销",
    "suspended": "已挂起",
    "error": "异常",
}
_ENGINE = script_engine()

# The command path's statements, built once and run by engine.fastsql (building, cache-keying and
# executing a statement through SQLAlchemy per call cost more than running it: see BENCHMARKS.md).
# Parameters named b_* stand apart from the columns they filter.
_INSERT_INSTANCE = Prepared(insert(instance))
_INSERT_ITEM = Prepared(insert(work_item))
_INSERT_NOTIFICATION = Prepared(insert(notification))
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
_LIVE = (
    work_item.c.instance_id == bindparam("b_instance"),
    work_item.c.kind == "approve",
    ITEM_ACTIVE,
)
_LIVE_TASKS = Prepared(select(work_item.c.id, work_item.c.task_id, work_item.c.origin).where(*_LIVE))
_CANCEL_ITEMS = (
    update(work_item)
    .where(work_item.c.id.in_(bindparam("b_ids", expanding=True)))
    .values(status="cancelled", note="流程已变更")
)
_CLOSE_LIVE = Prepared(update(work_item).where(*_LIVE))
_CC_HOLDERS = Prepared(
    select(work_item.c.assignee_id).where(
        work_item.c.instance_id == bindparam("b_instance"),
        work_item.c.kind == "cc",
        work_item.c.task_id == bindparam("b_task"),
    )
)
_INITIATOR = Prepared(select(instance.c.initiator_id).where(instance.c.id == bindparam("b_id")))
_TAKES_PART = Prepared(
    select(work_item.c.id)
    .where(work_item.c.instance_id == bindparam("b_instance"), work_item.c.assignee_id == bindparam("b_user"))
    .limit(1)
)
_SAVE_STATEMENT = update(instance).where(
    instance.c.id == bindparam("b_id"), instance.c.version == bindparam("b_version")
)
_SAVE = Prepared(_SAVE_STATEMENT)


def _save_with_current_nodes(aggregate) -> Prepared:
    """The save, with `current_nodes` (the names of the nodes with open items, 、-separated) computed in
    the same statement from the rows this command just wrote."""
    names = select(work_item.c.node_name).where(*_LIVE).distinct().subquery()
    joined = select(aggregate(names.c.node_name, "、")).scalar_subquery()
    return Prepared(_SAVE_STATEMENT.values(current_nodes=func.coalesce(func.substr(joined, 1, 500), "")))


_SAVE_RUNNING = {
    "sqlite": _save_with_current_nodes(func.group_concat),
    "postgresql": _save_with_current_nodes(func.string_agg),
}


class WorkflowFailed(OaflowError):
    status = 422


def render_title(template: str, values: dict) -> str:
    """`{field}` placeholders only: str.format would allow attribute access on values."""

    def sub(match):
        value = values.get(match.group(1))
        return "" if value is None else str(value)

    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", sub, template)[:500]


@dataclass
class Session:
    """One command's working set: connection, instance row values, workflow and compiled definition."""

    conn: Connection
    compiled: spec_cache.Compiled
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
    # A view's read-only snapshot of the instance's work items and 催办 times (operations.Snapshot): the
    # checks behind the page's buttons answer from it instead of asking the database again.
    snapshot: object | None = None
    # (assignee, decision) of the instance's newest decision when this command knows it (it started the
    # instance, or decided a step itself), so 自动去重 need not ask: None when unknown.
    last_decision: tuple[int | None, str | None] | None = None
    # Whether an instance_timer row may exist: the version it was loaded with (or started on) has timers.
    # Taken at load, so a migration away from a version with timers still clears the row.
    may_have_timer: bool = True

    @property
    def model(self) -> bpmn.ProcessModel:
        return self.compiled.model


def run_engine(workflow: BpmnWorkflow) -> None:
    try:
        workflow.do_engine_steps()
    except ExpressionError as exc:
        raise WorkflowFailed(f"流程执行失败：{exc}") from None
    except Exception as exc:  # a condition that named an unknown variable, a gateway with no way out …
        message = getattr(exc, "message", None) or str(exc)
        raise WorkflowFailed(f"流程执行失败：{message.splitlines()[0] if message else exc}") from None


def start(
    core, username: str, process_key: str, data: dict | None, priority: str | None = None, *, prepare=None
) -> dict:
    """发起: start an instance of the newest active version of a process.

    `prepare(workflow)` (optional) acts on the new workflow before it moves on, e.g. a message start event
    catching its message (engine.external)."""
    priority = priority or "正常"
    if priority not in PRIORITIES:
        raise InvalidData([FieldError("priority", f"紧急程度必须是：{'、'.join(PRIORITIES)}")])
    with core.db.write() as conn:
        user = users.require_user(conn, username)
        row = definitions.latest_head(conn, process_key)
        compiled = core.specs.get(conn, row.id)
        if not may_start(conn, user, compiled.model):
            raise Forbidden(f"您无权发起“{compiled.model.name}”")
        schema = compiled.form(compiled.model.start_form) or {"type": "object", "properties": {}}
        cleaned = forms.validate(schema, data, user_exists=lambda name: users.find_user(conn, name) is not None)

        workflow = BpmnWorkflow(compiled.spec, compiled.subprocess_specs, script_engine=_ENGINE)
        workflow.task_tree.data.update(cleaned)
        workflow.task_tree.data.update(initiator=user.username, priority=priority)
        run_engine(workflow)
        if prepare is not None:
            prepare(workflow)
            run_engine(workflow)

        title = render_title(
            compiled.model.title_template, {**cleaned, "initiator_name": user.display_name, "priority": priority}
        )
        now = utcnow()
        instance_id = conn.execute(
            _INSERT_INSTANCE,
            {
                "definition_id": row.id,
                "process_key": row.process_key,
                "title": title,
                "initiator_id": user.id,
                "status": "running",
                "priority": priority,
                "current_nodes": "",
                "data": orjson.dumps(cleaned).decode(),
                "state": "{}",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            },
        ).inserted_primary_key[0]
        audit.record(
            conn,
            "started",
            instance_id=instance_id,
            actor_id=user.id,
            node_id=_start_node(compiled),
            node_name="发起申请",
            message=f"{user.display_name}发起了“{title}”（{priority}）",
        )
        session = Session(
            conn,
            compiled,
            workflow,
            instance_id,
            user,
            cleaned,
            version=1,
            priority=priority,
            title=title,
            may_have_timer=compiled.has_timers,
            last_decision=(None, None),  # nobody has decided anything yet
        )
        advance(session)
        save(session)
        keep_after_commit(core, session)
        return {"id": instance_id, "title": title, "status": session.status}


def may_start(conn: Connection, user: users.User, model: bpmn.ProcessModel) -> bool:
    """Process property `starters` (e.g. `role:文书, dept:办公室`) limits who may start; default everyone."""
    rules = [r.strip() for r in re.split(r"[;,，；]", model.properties.get("starters", "")) if r.strip()]
    return user.is_admin or users.matches_any(conn, user, rules)


def _start_node(compiled: spec_cache.Compiled) -> str | None:
    for node in compiled.model.nodes.values():
        if node.type == "startEvent":
            return node.id
    return None


def complete(
    core,
    username: str,
    item_id: int,
    data: dict | None,
    decision: str,
    opinion: str | None,
    signature: str | None = None,
) -> dict:
    """同意 / 不同意 (or 重新提交 on a returned application): decide a work item."""
    opinion = check_opinion(opinion, required=decision == "reject", what="不同意时")
    if decision not in DECISIONS:
        raise InvalidData([FieldError("decision", "审批结果必须是 approve（同意）或 reject（不同意）")])
    with core.db.write() as conn:
        user = users.require_user(conn, username)
        session, item = open_item_session(core, conn, item_id, user)
        if item.origin == "resubmit":
            if decision != "approve":
                raise Conflict("退回的申请请修改后重新提交，或撤销申请")
            from engine.work import operations

            operations.resubmit(session, item, user, data)
        elif item.origin == "delegate":
            raise Conflict("这是委派给您的待办：请填写意见后点击“办理完成”，由委派人决定")
        else:
            from engine.work import opinions, signing

            policy = signing.policy_for(session, item)
            if decision == "approve" and policy.opinion_required and not opinion:
                raise InvalidData([FieldError("opinion", "本节点要求填写审批意见")])
            if decision == "reject" and policy.sign_mode == "collect":
                raise Conflict("意见征集节点不能否决：请填写意见后提交")
            task = ready_task(session.workflow, item.task_id)
            node = session.model.nodes.get(item.node_id)
            schema = session.compiled.form(node.form if node else None) or EMPTY_FORM
            cleaned = forms.validate(schema, data, user_exists=lambda name: users.find_user(conn, name) is not None)
            image = opinions.check_signature(signature)
            session.data.update(cleaned)
            task.data.update(cleaned)
            signing.decide(session, task, item, user, decision, opinion, image)
        save(session)
        return {"id": item.instance_id, "status": session.status, "work_item": item.id}


EMPTY_FORM = {"type": "object", "properties": {}}


def check_opinion(opinion: str | None, *, required: bool, what: str) -> str:
    text = (opinion or "").strip()
    if required and not text:
        raise InvalidData([FieldError("opinion", f"{what}必须填写意见")])
    if len(text) > 2000:
        raise InvalidData([FieldError("opinion", "意见最多 2000 个字")])
    return text


def open_item_session(core, conn: Connection, item_id: int, user: users.User, *, statuses=("open",)):
    """Lock the item's instance and return (session, item) for an item the user may act on now."""
    if core.db.is_sqlite:  # BEGIN IMMEDIATE already holds the write lock
        item = item_for_actor(conn, item_id, user)
        session, inst = load_session(core, conn, item.instance_id)
    else:
        # Lock the instance first, then read the item under the lock: a concurrent command may have
        # closed it a moment ago.
        inst = conn.execute(_INSTANCE_OF_ITEM_FOR_UPDATE, {"b_item": item_id}).first()
        item = item_for_actor(conn, item_id, user)
        session = _session(core, conn, inst)
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
    return session, item


def item_for_actor(conn: Connection, item_id: int, user: users.User):
    item = conn.execute(_ITEM_BY_ID, {"b_id": item_id}).first()
    if item is None:
        raise NotFound("待办不存在")
    if item.assignee_id != user.id:
        if is_participant(conn, item.instance_id, user):
            raise Forbidden("这不是您的待办，不能处理")
        raise NotFound("待办不存在")
    return item


def is_participant(conn: Connection, instance_id: int, user: users.User, initiator_id: int | None = None) -> bool:
    """Whether the user may see the instance: its initiator, anyone with a work item on it, administrators.
    `initiator_id`: the caller read the instance row already."""
    if user.is_admin:
        return True
    initiator = initiator_id if initiator_id is not None else conn.execute(_INITIATOR, {"b_id": instance_id}).scalar()
    if initiator is None:
        return False
    if initiator == user.id:
        return True
    return conn.execute(_TAKES_PART, {"b_instance": instance_id, "b_user": user.id}).first() is not None


def load_session(core, conn: Connection, instance_id: int, *, lock: bool = True) -> tuple[Session, object]:
    # SQLite: BEGIN IMMEDIATE already holds the write lock
    query = _INSTANCE_FOR_UPDATE if lock and not core.db.is_sqlite else _INSTANCE_BY_ID
    inst = conn.execute(query, {"b_id": instance_id}).first()
    if inst is None:
        raise NotFound("申请不存在")
    return _session(core, conn, inst), inst


def _session(core, conn: Connection, inst) -> Session:
    """The command's session for an instance row read (and locked) by the caller."""
    compiled = core.specs.get(conn, inst.definition_id)
    workflow = core.workflows.take(inst.id, inst.version, compiled)
    if workflow is None:
        workflow = bpmn.load_state(inst.state, compiled.spec, compiled.subprocess_specs, _ENGINE)
    elif self_check():
        _verify_cached(workflow, inst)
    initiator = users.get_user(conn, inst.initiator_id)
    session = Session(
        conn,
        compiled,
        workflow,
        inst.id,
        initiator,
        orjson.loads(inst.data),
        version=inst.version,
        status=inst.status,
        priority=inst.priority,
        title=inst.title,
        jump_to=inst.jump_to,
        end_reason=inst.end_reason,
        may_have_timer=compiled.has_timers,
    )
    keep_after_commit(core, session)
    return session


def self_check() -> bool:
    """Tests set OAFLOW_SELF_CHECK: what a cache or a snapshot answers is compared with the database's."""
    return bool(os.environ.get("OAFLOW_SELF_CHECK"))


def _verify_cached(workflow: BpmnWorkflow, inst) -> None:
    """Self-check (tests): a workflow taken from the cache must equal the stored state."""
    if orjson.loads(bpmn.dump_state(workflow)) != orjson.loads(inst.state):
        raise AssertionError(f"cached workflow of instance {inst.id} differs from its stored state (v{inst.version})")


def keep_after_commit(core, session: Session) -> None:
    """Once the command's transaction commits, keep the session's workflow for the instance's next
    command (engine.workflow_cache). Not inside a savepoint: a rolled-back savepoint would leave a
    workflow that no longer matches the stored state."""
    if session.conn.in_nested_transaction():
        return
    after_commit(
        session.conn,
        lambda: core.workflows.put(session.instance_id, session.version, session.compiled, session.workflow),
    )


def ready_task(workflow: BpmnWorkflow, task_id: str):
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except (ValueError, KeyError):
        task = None
    if task is None or task.state != TaskState.READY:
        raise Conflict("该待办对应的流程节点已不在办理中，请刷新")
    return task


def advance(session: Session, priority: str | None = None) -> None:
    """Project READY tasks into work items until nothing more moves on its own.

    Plain tasks (bpmn:task, manualTask) pass through, creating 知会 copies when they name readers;
    user tasks get work items (signing.open_node), or pass on their own (same approver as the step
    before, nobody to ask and the node says skip, or a "direct" resubmission on its way back).
    """
    from engine.work import signing

    open_tasks = sync_items(session)
    for _round in range(1000):
        moved = False
        for task in session.workflow.get_tasks(state=TaskState.READY, manual=True):
            node = session.model.nodes.get(bpmn.node_id(task.task_spec))  # multi-instance children too
            if node is None or node.type not in USER_TASK_TYPES:
                if node is not None and node.cc:
                    create_cc(session, node.id, node.name, node.cc)
                task.run()
                moved = True
                continue
            if str(task.id) in open_tasks:
                continue
            if session.jump_to and session.jump_to != node.id and not signing.approved_before(session, node.id):
                # The route no longer leads back to the node that returned it: review normally from here.
                session.jump_to = None
            if session.jump_to and session.jump_to != node.id:
                audit.record(
                    session.conn,
                    "skipped",
                    instance_id=session.instance_id,
                    node_id=node.id,
                    node_name=node.name,
                    message="退回后重新提交：直接回到退回的节点，本节点不再审批",
                )
                signing.pass_task(session, task)
                moved = True
                continue
            if session.jump_to == node.id:
                session.jump_to = None
            if signing.open_node(session, task, node):
                moved = True
            else:
                open_tasks.add(str(task.id))
        if not moved:
            break
        run_engine(session.workflow)
    if session.workflow.is_completed() and session.status == "running":
        session.status = "approved"
        session.jump_to = None


def sync_items(session: Session) -> set[str]:
    """Close open items whose SpiffWorkflow task is no longer READY (reset, cancelled, migrated);
    return the task ids that still have open or waiting items."""
    ready = {str(t.id) for t in session.workflow.get_tasks(state=TaskState.READY, manual=True)}
    stale, active = [], set()
    for row in session.conn.execute(_LIVE_TASKS, {"b_instance": session.instance_id}):
        if row.task_id in ready or row.origin == "resubmit":
            active.add(row.task_id)
        else:
            stale.append(row.id)
    if stale:
        session.conn.execute(_CANCEL_ITEMS, {"b_ids": stale, "completed_at": utcnow()})
    return active


def create_cc(session: Session, node_id: str, node_name: str, rules: list[str], actor_id=None, message=None):
    """知会: read-only copies in 抄送我的; people who already have one for this node are skipped."""
    conn = session.conn
    res = assignment.resolve(conn, rules, session.initiator, session.data, None, fallback=False)
    task_id = "cc:" + node_id
    already = {
        row.assignee_id for row in conn.execute(_CC_HOLDERS, {"b_instance": session.instance_id, "b_task": task_id})
    }
    now = utcnow()
    names = []
    for user_id in res.user_ids:
        if user_id in already:
            continue
        conn.execute(
            _INSERT_ITEM,
            {
                "instance_id": session.instance_id,
                "task_id": task_id,
                "node_id": node_id,
                "node_name": node_name,
                "kind": "cc",
                "assignee_id": user_id,
                "status": "open",
                "opinion": message,
                "created_at": now,
                "added_by_id": actor_id,
            },
        )
        notify(conn, user_id, session.instance_id, "cc", f"知会：{session.title or node_name}")
        names.append(users.get_user(conn, user_id).display_name)
    text = f"已知会{'、'.join(names)}" if names else "知会对象不存在或已知会，未发送"
    if message:
        text += f"：{message}"
    audit.record(
        conn,
        "cc",
        instance_id=session.instance_id,
        actor_id=actor_id,
        node_id=node_id,
        node_name=node_name,
        message=text,
    )
    return names


def close_open_items(session: Session, note: str) -> None:
    session.conn.execute(
        _CLOSE_LIVE,
        {"b_instance": session.instance_id, "status": "cancelled", "note": note, "completed_at": utcnow()},
    )


def notify(conn: Connection, user_id: int, instance_id: int, kind: str, title: str, body: str = "") -> None:
    conn.execute(
        _INSERT_NOTIFICATION,
        {
            "user_id": user_id,
            "instance_id": instance_id,
            "kind": kind,
            "title": title,
            "body": body,
            "created_at": utcnow(),
        },
    )


def save(session: Session, priority: str | None = None) -> None:
    """Write the new state with an optimistic version check; finish the instance when it ended."""
    conn = session.conn
    now = utcnow()
    values = {
        "state": bpmn.dump_state(session.workflow),
        "status": session.status,
        "data": orjson.dumps(session.data).decode(),
        "title": session.title,
        "updated_at": now,
        "version": session.version + 1,
        "jump_to": session.jump_to,
        "end_reason": session.end_reason,
    }
    ended = session.status not in ("running", "suspended")
    if ended:
        values["ended_at"] = now
        values["current_nodes"] = ""
        values["jump_to"] = None
        statement = _SAVE
    else:
        statement = _SAVE_RUNNING[conn.dialect.name]
        values["b_instance"] = session.instance_id
    result = conn.execute(statement, {"b_id": session.instance_id, "b_version": session.version, **values})
    if result.rowcount != 1:
        raise Conflict("该申请已被他人同时处理，请刷新后重试")
    session.version += 1
    from engine.work import timers

    timers.track(session)
    if ended:
        label = STATUS_LABELS[session.status]
        reason = f"（{session.end_reason}）" if session.end_reason else ""
        audit.record(conn, "ended", instance_id=session.instance_id, message=f"流程结束：{label}{reason}")
        notify(conn, session.initiator.id, session.instance_id, "result", f"您的申请“{session.title}”{label}")
