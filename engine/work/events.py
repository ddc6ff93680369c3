"""What moves an instance from outside: external work, messages and signals (timers: engine.work.timers).

Each command is one transaction built on the kernel (lock → act on the workflow → run the engine → close
the items the workflow left → advance → save), like the approval commands. Only administrators (the
accounts integrations use) may complete external work, send messages or broadcast signals.
"""

from __future__ import annotations

import logging

import orjson
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition, SignalEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine.errors import Conflict, FieldError, InvalidData, NotFound
from engine.org import users
from engine.process.model import node_id
from engine.process.service_tasks import ExternalTask
from engine.store import audit
from engine.store.tables import definition, instance
from engine.work.kernel import case as kernel
from engine.work.kernel import items, receivers, routing
from engine.work.kernel.case import STATUS_LABELS, Case
from engine.work.kernel.failure import WorkflowFailed, run_engine

log = logging.getLogger("oaflow.external")
MAX_PAYLOAD = 256 * 1024
GATHER_SCAN = 200  # running instances of one process looked at for one waiting at its parallel-multiple start
INTEGRATIONS_ONLY = "只有管理员（或集成账号）可以执行此操作"


def _payload(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidData([FieldError("data", "数据必须是 JSON 对象")])
    if any(not isinstance(key, str) or not key or key.startswith("_") for key in value):
        raise InvalidData([FieldError("data", "变量名必须是非空字符串，且不能以下划线开头")])
    if len(orjson.dumps(value)) > MAX_PAYLOAD:
        raise InvalidData([FieldError("data", "数据过大（上限 256 KB）")])
    return value


def _running_case(core, conn, instance_id: int) -> Case:
    case, inst = kernel.lock(core, conn, instance_id)
    if inst.status != "running":
        raise Conflict(f"该申请{STATUS_LABELS.get(inst.status, inst.status)}，不能再继续")
    return case


def _finish(case: Case) -> dict:
    run_engine(case.workflow, case.budget)
    items.sync_items(case, "流程已越过该节点（事件触发）")
    routing.advance(case)
    kernel.save(case)
    return {"id": case.instance_id, "status": case.status}


def complete_external(core, username: str, instance_id: int, element: str, data: dict | None) -> dict:
    """外部任务完成: the external work waiting at `element` is done; its data becomes process variables."""
    data = _payload(data)
    found = {}
    with kernel.failing_into_error(core, found), core.db.write() as conn:
        user = users.require_admin(conn, username, INTEGRATIONS_ONLY)
        case = _running_case(core, conn, instance_id)
        found.update(instance_id=instance_id, version=case.version, actor_id=user.id)
        tasks = [
            t
            for t in case.workflow.get_tasks(state=TaskState.STARTED)
            if isinstance(t.task_spec, ExternalTask) and node_id(t.task_spec) == element
        ]
        if not tasks:
            raise Conflict(f"该申请没有在节点 {element} 等待的外部任务")
        task = tasks[0]
        task.data.update(data)
        case.data.update({k: v for k, v in data.items() if k in case.data})
        task.complete()
        node = case.model.nodes.get(element)
        audit.record(
            conn,
            "external_completed",
            instance_id=instance_id,
            actor_id=user.id,
            node_id=element,
            node_name=node.name if node else element,
            message=f"外部任务已完成（{task.task_spec.handler or '未指定处理程序'}）",
        )
        return _finish(case)


def send_message(core, username: str, instance_id: int, name: str, payload: dict | None) -> dict:
    """消息: deliver a BPMN message to one instance (receive tasks, message catch and boundary events)."""
    payload = _payload(payload)
    if not isinstance(name, str) or not name.strip():
        raise InvalidData([FieldError("name", "请指定消息名称（name）")])
    found = {}
    with kernel.failing_into_error(core, found), core.db.write() as conn:
        user = users.require_admin(conn, username, INTEGRATIONS_ONLY)
        case = _running_case(core, conn, instance_id)
        found.update(instance_id=instance_id, version=case.version, actor_id=user.id)
        if not receivers.catch(case.workflow, MessageEventDefinition, name, payload):
            raise Conflict(f"该申请当前没有等待消息“{name}”")
        audit.record(conn, "message", instance_id=instance_id, actor_id=user.id, message=f"收到消息“{name}”")
        return _finish(case)


def broadcast_signal(core, username: str, name: str, payload: dict | None) -> dict:
    """信号: every running instance waiting for the signal catches it; signal start events start new ones
    (a parallel-multiple start event only when no instance of its process was waiting for it there)."""
    payload = _payload(payload)
    if not isinstance(name, str) or not name.strip():
        raise InvalidData([FieldError("name", "请指定信号名称（name）")])
    with core.db.read() as conn:
        users.require_admin(conn, username, INTEGRATIONS_ONLY)
        candidates = _instances_mentioning(conn, "signalEventDefinition")
    caught, failed, gathered = [], [], set()
    for instance_id in candidates:
        found = {}
        try:
            with kernel.failing_into_error(core, found), core.db.write() as conn:
                case, inst = kernel.lock(core, conn, instance_id)
                at_start = receivers.waits_at_start(case.workflow, SignalEventDefinition, name)
                if inst.status != "running" or not receivers.catch(case.workflow, SignalEventDefinition, name, payload):
                    continue
                user = users.require_user(conn, username)
                found.update(instance_id=instance_id, version=case.version, actor_id=user.id)
                audit.record(conn, "signal", instance_id=instance_id, actor_id=user.id, message=f"收到信号“{name}”")
                _finish(case)
        except WorkflowFailed:  # that instance is 异常 now; the signal still reaches the others
            failed.append(instance_id)
            continue
        caught.append(instance_id)
        if at_start:
            gathered.add(inst.process_key)
    started, _gathered = _start_by_event(core, username, name, payload, SignalEventDefinition, gathered)
    return {"caught": caught, "started": started, "failed": failed}


def start_by_message(core, username: str, name: str, payload: dict | None) -> dict:
    """Message start event: start an instance of each process whose start event catches `name` (administrators
    and integration accounts only, like every command here). A parallel-multiple start event gathers its
    events: the oldest instance of its process still waiting there for this message catches it instead."""
    with core.db.read() as conn:
        users.require_admin(conn, username, INTEGRATIONS_ONLY)
    payload = _payload(payload)
    if not isinstance(name, str) or not name.strip():
        raise InvalidData([FieldError("name", "请指定消息名称（name）")])
    started, caught = _start_by_event(core, username, name, payload, MessageEventDefinition)
    if not started and not caught:
        raise NotFound(f"没有由消息“{name}”启动的流程")
    return {"started": started, "caught": caught}


def _start_by_event(
    core, username: str, name: str, payload: dict, event_class, gathered: set[str] = frozenset()
) -> tuple[list[int], list[int]]:
    """(instances started, waiting instances that caught the event at their parallel-multiple start)."""
    with core.db.read() as conn:
        targets = receivers.receivers(core, conn, name, payload, event_class)
    started, caught = [], []
    for target in targets:
        if target.gathers:
            if target.process_key in gathered:
                continue
            instance_id = _gather(core, username, target.process_key, name, payload, event_class)
            if instance_id is not None:
                caught.append(instance_id)
                continue

        def catch(workflow, _name=name):
            receivers.catch(workflow, event_class, _name, payload)

        # The start form (if any) checks what it knows of the payload; all of it reaches the instance.
        with core.db.write() as conn:
            user = users.require_user(conn, username)
            case = routing.start_instance(core, conn, user, target.process_key, target.data, None, prepare=catch)
        started.append(case.instance_id)
    return started, caught


def _gather(core, username: str, process_key: str, name: str, payload: dict, event_class) -> int | None:
    """The oldest running instance of the process still waiting at its parallel-multiple start event for
    this message or signal catches it; None when there is none."""
    with core.db.read() as conn:
        ids = (
            conn.execute(
                select(instance.c.id)
                .where(instance.c.process_key == process_key, instance.c.status == "running")
                .order_by(instance.c.id)
                .limit(GATHER_SCAN)
            )
            .scalars()
            .all()
        )
    for instance_id in ids:
        found = {}
        with kernel.failing_into_error(core, found), core.db.write() as conn:
            case, inst = kernel.lock(core, conn, instance_id)
            if inst.status != "running" or not receivers.waits_at_start(case.workflow, event_class, name):
                continue
            user = users.require_user(conn, username)
            found.update(instance_id=instance_id, version=case.version, actor_id=user.id)
            receivers.catch(case.workflow, event_class, name, payload)
            kind = "message" if event_class is MessageEventDefinition else "signal"
            what = "消息" if kind == "message" else "信号"
            audit.record(conn, kind, instance_id=instance_id, actor_id=user.id, message=f"收到{what}“{name}”")
            _finish(case)
            return instance_id
    return None


def _instances_mentioning(conn, marker: str) -> list[int]:
    """Running instances whose definition files contain `marker`: the only ones worth loading."""
    rows = conn.execute(
        select(instance.c.id)
        .join(definition, definition.c.id == instance.c.definition_id)
        .where(instance.c.status == "running", definition.c.bundle.contains(marker, autoescape=True))
        .order_by(instance.c.id)
    )
    return [row.id for row in rows]
