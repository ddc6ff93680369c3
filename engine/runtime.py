"""Runtime commands: start an instance, complete a work item.

Each command is one transaction (DESIGN §2): lock the instance, restore the SpiffWorkflow state with the
cached spec, act, run engine steps, project READY user tasks into work items, write audit events,
bump `version`, commit. Notifications are written to the outbox in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from . import assignment, audit, bpmn, definitions, forms, org
from .calendar import PRIORITIES, deadline_for
from .db import instance, notification, utcnow, work_item
from .errors import Conflict, FieldError, Forbidden, InvalidData, NotFound, OaflowError
from .expressions import ExpressionError, script_engine

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
    compiled: definitions.Compiled
    workflow: BpmnWorkflow
    instance_id: int
    initiator: org.User
    data: dict
    version: int
    status: str = "running"

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
        user = org.require_user(conn, username)
        row = definitions.latest(conn, process_key)
        compiled = core.specs.from_row(row)
        if not may_start(conn, user, compiled.model):
            raise Forbidden(f"您无权发起“{compiled.model.name}”")
        schema = compiled.form(compiled.model.start_form) or {"type": "object", "properties": {}}
        cleaned = forms.validate(schema, data, user_exists=lambda name: org.find_user(conn, name) is not None)

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
            insert(instance).values(
                definition_id=row.id,
                process_key=row.process_key,
                title=title,
                initiator_id=user.id,
                status="running",
                priority=priority,
                current_nodes="",
                data=orjson.dumps(cleaned).decode(),
                state="{}",
                version=1,
                created_at=now,
                updated_at=now,
            )
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
        session = Session(conn, compiled, workflow, instance_id, user, cleaned, version=1)
        advance(session, priority)
        save(session, priority)
        return {"id": instance_id, "title": title, "status": session.status}


def may_start(conn: Connection, user: org.User, model: bpmn.ProcessModel) -> bool:
    """Process property `starters` (e.g. `role:文书, dept:办公室`) limits who may start; default everyone."""
    rules = [r.strip() for r in re.split(r"[;,，；]", model.properties.get("starters", "")) if r.strip()]
    return user.is_admin or org.matches_any(conn, user, rules)


def _start_node(compiled: definitions.Compiled) -> str | None:
    for node in compiled.model.nodes.values():
        if node.type == "startEvent":
            return node.id
    return None


def complete(core, username: str, item_id: int, data: dict | None, decision: str, opinion: str | None) -> dict:
    """同意 / 不同意: decide a work item with form data and an opinion."""
    opinion = (opinion or "").strip()
    if decision not in DECISIONS:
        raise InvalidData([FieldError("decision", "审批结果必须是 approve（同意）或 reject（不同意）")])
    if decision == "reject" and not opinion:
        raise InvalidData([FieldError("opinion", "不同意时必须填写审批意见")])
    if len(opinion) > 2000:
        raise InvalidData([FieldError("opinion", "审批意见最多 2000 个字")])
    with core.db.write() as conn:
        user = org.require_user(conn, username)
        item = _item_for_actor(conn, item_id, user)
        session, inst = load_session(core, conn, item.instance_id)
        # Read again under the instance lock: a concurrent command may have closed it meanwhile.
        item = conn.execute(select(work_item).where(work_item.c.id == item.id)).first()
        if item.kind != "approve":
            raise Conflict("知会无需审批")
        if item.status == "cancelled":
            raise Conflict(f"该待办{item.note or '已取消'}，无需再处理")
        if item.status != "open":
            raise Conflict("该待办已处理，无需重复提交")
        if inst.status != "running":
            raise Conflict(f"该申请{STATUS_LABELS.get(inst.status, inst.status)}，不能再审批")
        task = _ready_task(session.workflow, item.task_id)
        node = session.model.nodes.get(item.node_id)
        schema = session.compiled.form(node.form if node else None) or {"type": "object", "properties": {}}
        cleaned = forms.validate(schema, data, user_exists=lambda name: org.find_user(conn, name) is not None)

        now = utcnow()
        conn.execute(
            update(work_item)
            .where(work_item.c.id == item.id)
            .values(status="done", decision=decision, opinion=opinion, completed_at=now)
        )
        conn.execute(
            update(work_item)
            .where(
                work_item.c.instance_id == item.instance_id,
                work_item.c.task_id == item.task_id,
                work_item.c.status == "open",
                work_item.c.id != item.id,
            )
            .values(status="cancelled", note="已由他人处理", completed_at=now)
        )
        audit.record(
            conn,
            "approved" if decision == "approve" else "rejected",
            instance_id=item.instance_id,
            work_item_id=item.id,
            actor_id=user.id,
            node_id=item.node_id,
            node_name=item.node_name,
            decision=decision,
            opinion=opinion,
        )
        session.data.update(cleaned)
        task.data.update(cleaned)
        task.data.update(approved=decision == "approve", decision=decision)
        if decision == "approve":
            task.run()
            run_engine(session.workflow)
            advance(session, inst.priority)
        else:
            # 不同意: the node's reject rule; the default ends the instance as 不通过.
            session.workflow.cancel()
            session.status = "rejected"
            close_open_items(session, "流程已结束")
        save(session, inst.priority)
        return {"id": item.instance_id, "status": session.status, "work_item": item.id}


def _item_for_actor(conn: Connection, item_id: int, user: org.User):
    item = conn.execute(select(work_item).where(work_item.c.id == item_id)).first()
    if item is None:
        raise NotFound("待办不存在")
    if item.assignee_id != user.id:
        if is_participant(conn, item.instance_id, user):
            raise Forbidden("这不是您的待办，不能处理")
        raise NotFound("待办不存在")
    return item


def is_participant(conn: Connection, instance_id: int, user: org.User) -> bool:
    if user.is_admin:
        return True
    initiator = conn.execute(select(instance.c.initiator_id).where(instance.c.id == instance_id)).scalar()
    if initiator is None:
        return False
    if initiator == user.id:
        return True
    return (
        conn.execute(
            select(work_item.c.id)
            .where(work_item.c.instance_id == instance_id, work_item.c.assignee_id == user.id)
            .limit(1)
        ).first()
        is not None
    )


def load_session(core, conn: Connection, instance_id: int) -> tuple[Session, object]:
    query = select(instance).where(instance.c.id == instance_id)
    if not core.db.is_sqlite:
        query = query.with_for_update()  # SQLite: BEGIN IMMEDIATE already holds the write lock
    inst = conn.execute(query).first()
    if inst is None:
        raise NotFound("申请不存在")
    compiled = core.specs.get(conn, inst.definition_id)
    workflow = bpmn.load_state(inst.state, compiled.spec, compiled.subprocess_specs, _ENGINE)
    initiator = org.get_user(conn, inst.initiator_id)
    session = Session(
        conn, compiled, workflow, inst.id, initiator, orjson.loads(inst.data), version=inst.version, status=inst.status
    )
    return session, inst


def _ready_task(workflow: BpmnWorkflow, task_id: str):
    from uuid import UUID

    task = workflow.get_task_from_id(UUID(task_id))
    if task is None or task.state != TaskState.READY:
        raise Conflict("该待办对应的流程节点已不在办理中，请刷新")
    return task


def _last_approver(conn: Connection, instance_id: int) -> int | None:
    return conn.execute(
        select(work_item.c.assignee_id)
        .where(
            work_item.c.instance_id == instance_id,
            work_item.c.kind == "approve",
            work_item.c.status == "done",
            work_item.c.decision == "approve",
        )
        .order_by(work_item.c.completed_at.desc(), work_item.c.id.desc())
        .limit(1)
    ).scalar()


def advance(session: Session, priority: str) -> None:
    """Project READY tasks into work items until nothing more moves on its own.

    Plain tasks (bpmn:task, manualTask) pass through, creating 知会 copies when they name readers;
    user tasks get work items, or pass automatically when the same person approved the step before.
    """
    conn = session.conn
    open_tasks = {
        row.task_id
        for row in conn.execute(
            select(work_item.c.task_id).where(
                work_item.c.instance_id == session.instance_id,
                work_item.c.status == "open",
                work_item.c.kind == "approve",
            )
        )
    }
    admin = session.model.properties.get("admin")
    for _round in range(1000):
        moved = False
        for task in session.workflow.get_tasks(state=TaskState.READY, manual=True):
            node = session.model.nodes.get(bpmn.node_id(task.task_spec))  # multi-instance children too
            if node is None or node.type not in USER_TASK_TYPES:
                if node is not None and node.cc:
                    _create_cc(session, node)
                task.run()
                moved = True
                continue
            if str(task.id) in open_tasks:
                continue
            # The task's own data too: a multi-instance child's element variable names its signer.
            res = assignment.resolve(conn, node.assignee, session.initiator, {**session.data, **task.data}, admin)
            for kind, message in res.notes:
                audit.record(
                    conn, kind, instance_id=session.instance_id, node_id=node.id, node_name=node.name, message=message
                )
            last = _last_approver(conn, session.instance_id) if session.model.dedupe_approver else None
            if last is not None and res.user_ids == [last]:
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
                task.data.update(approved=True, decision="approve")
                task.run()
                moved = True
                continue
            _create_items(session, task, node, res.user_ids, priority)
            open_tasks.add(str(task.id))
        if not moved:
            break
        run_engine(session.workflow)
    if session.workflow.is_completed() and session.status == "running":
        session.status = "approved"


def _create_items(session: Session, task, node: bpmn.Node, user_ids: list[int], priority: str) -> None:
    conn = session.conn
    now = utcnow()
    due = deadline_for(conn, now, priority, node)
    for user_id in user_ids:
        conn.execute(
            insert(work_item).values(
                instance_id=session.instance_id,
                task_id=str(task.id),
                node_id=node.id,
                node_name=node.name,
                kind="approve",
                assignee_id=user_id,
                status="open",
                created_at=now,
                due_at=due,
            )
        )
        notify(conn, user_id, session.instance_id, "todo", f"您有新的待办：{node.name}")


def _create_cc(session: Session, node: bpmn.Node) -> None:
    conn = session.conn
    res = assignment.resolve(conn, node.cc, session.initiator, session.data, None, fallback=False)
    now = utcnow()
    names = []
    for user_id in res.user_ids:
        conn.execute(
            insert(work_item).values(
                instance_id=session.instance_id,
                task_id="cc:" + node.id,
                node_id=node.id,
                node_name=node.name,
                kind="cc",
                assignee_id=user_id,
                status="open",
                created_at=now,
            )
        )
        notify(conn, user_id, session.instance_id, "cc", f"知会：{node.name}")
        names.append(org.get_user(conn, user_id).display_name)
    message = f"已知会{'、'.join(names)}" if names else "知会对象不存在，未发送"
    audit.record(conn, "cc", instance_id=session.instance_id, node_id=node.id, node_name=node.name, message=message)


def close_open_items(session: Session, note: str) -> None:
    session.conn.execute(
        update(work_item)
        .where(
            work_item.c.instance_id == session.instance_id,
            work_item.c.status == "open",
            work_item.c.kind == "approve",
        )
        .values(status="cancelled", note=note, completed_at=utcnow())
    )


def notify(conn: Connection, user_id: int, instance_id: int, kind: str, title: str, body: str = "") -> None:
    conn.execute(
        insert(notification).values(
            user_id=user_id, instance_id=instance_id, kind=kind, title=title, body=body, created_at=utcnow()
        )
    )


def save(session: Session, priority: str) -> None:
    """Write the new state with an optimistic version check; finish the instance when it ended."""
    conn = session.conn
    now = utcnow()
    current = [
        row.node_name
        for row in conn.execute(
            select(work_item.c.node_name)
            .where(
                work_item.c.instance_id == session.instance_id,
                work_item.c.status == "open",
                work_item.c.kind == "approve",
            )
            .distinct()
        )
    ]
    values = {
        "state": bpmn.dump_state(session.workflow),
        "status": session.status,
        "data": orjson.dumps(session.data).decode(),
        "current_nodes": "、".join(current)[:500],
        "updated_at": now,
        "version": session.version + 1,
    }
    ended = session.status != "running"
    if ended:
        values["ended_at"] = now
        values["current_nodes"] = ""
    result = conn.execute(
        update(instance)
        .where(instance.c.id == session.instance_id, instance.c.version == session.version)
        .values(**values)
    )
    if result.rowcount != 1:
        raise Conflict("该申请已被他人同时处理，请刷新后重试")
    if ended:
        label = STATUS_LABELS[session.status]
        audit.record(conn, "ended", instance_id=session.instance_id, message=f"流程结束：{label}")
        title = conn.execute(select(instance.c.title).where(instance.c.id == session.instance_id)).scalar()
        notify(conn, session.initiator.id, session.instance_id, "result", f"您的申请“{title}”{label}")
