"""Who receives a message or a signal that starts processes: the newest active version of each process whose
top-level start event catches it, and how a workflow catches one.

A message arrives from outside (`POST /api/v1/messages`, engine.work.events) or is thrown by a running
instance — a send task or a message throw event no one inside it catches (kernel.routing.advance delivers
those, 公文分发 among them, with `deliver_thrown`). Both start the same receivers with the same rules: the
start form checks the part of the payload it defines, and the whole payload reaches the new workflow.
"""

from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.engine import Connection

from engine.errors import FieldError, InvalidData
from engine.org import users
from engine.process import definitions
from engine.process.expressions import ExpressionError
from engine.process.limits import BudgetExceeded
from engine.process.timer_values import caught_events
from engine.store import audit
from engine.work import assignment
from engine.work.kernel import waits
from engine.work.kernel.engine_messages import in_chinese
from engine.work.kernel.failure import failed_at


@dataclass(frozen=True)
class Receiver:
    process_key: str
    data: dict  # the payload's fields that the start form defines
    admin_id: int | None  # the process administrator: the initiator when an instance throws the message
    gathers: bool = False  # a parallel-multiple start event: its events gather into one waiting instance


def receivers(core, conn: Connection, name: str, payload: dict, event_class) -> list[Receiver]:
    """The processes whose top-level start event catches the message (or signal) `name`."""
    kind = "messages" if event_class is MessageEventDefinition else "signals"
    found = []
    for row in definitions.list_latest(conn):
        compiled = core.specs.from_row(row)
        if name in getattr(compiled.model, kind):
            fields = (compiled.form(compiled.model.start_form) or {}).get("properties", {})
            admins = assignment.process_admins(conn, compiled.model.properties.get("admin"))
            found.append(
                Receiver(
                    row.process_key,
                    {k: v for k, v in payload.items() if k in fields},
                    admins[0] if admins else None,
                    gathers=_gathers(compiled.spec),
                )
            )
    return found


def _gathers(spec) -> bool:
    return any(
        isinstance(task_spec, StartEvent)
        and isinstance(task_spec.event_definition, MultipleEventDefinition)
        and task_spec.event_definition.parallel
        for task_spec in spec.task_specs.values()
    )


def waits_at_start(workflow, event_class, name: str) -> bool:
    """Whether the workflow still waits at its parallel-multiple start event for this message or signal."""
    return any(
        isinstance(task.task_spec, StartEvent) and isinstance(event, event_class) and event.name == name
        for task in workflow.get_tasks(state=TaskState.WAITING)
        for _element, event in waits.catches(task)
    )


def catch(workflow, event_class, name: str, payload: dict) -> int:
    """Deliver a message/signal to one workflow; the payload lands in the catching task's data. A task
    waiting on several events (an event-based gateway, a multiple event) catches it when one of them is it."""
    targets = [
        t
        for t in workflow.get_tasks(state=TaskState.WAITING)
        if any(
            isinstance(event, event_class) and event.name == name
            for event in caught_events(getattr(t.task_spec, "event_definition", None))
        )
    ]
    for task in targets:
        task.data.update(payload)
    if targets:
        try:
            workflow.catch(BpmnEvent(event_class(name), payload))
        except ExpressionError as exc:  # a correlation property read from the payload: the sender's to fix
            message = f"无法从消息“{name}”的内容求出关联属性：{exc}"
            raise InvalidData([FieldError("payload", message)]) from None
        except Exception as exc:  # what catching it set off in the instance
            raise failed_at(in_chinese(str(exc), type(exc).__name__), *_element(targets[0])) from None
    return len(targets)


def _element(task) -> tuple[str, str]:
    spec = task.task_spec
    return spec.bpmn_id or spec.name, spec.bpmn_name or spec.bpmn_id or spec.name


def thrown_messages(workflow) -> list[tuple[str, dict]]:
    """Take the messages the workflow threw and nothing inside it caught: (name, payload) each, in order.
    Other events it could not handle (signals) stay where they are."""
    taken, kept = [], []
    for event in workflow.bpmn_events:
        if isinstance(event.event_definition, MessageEventDefinition):
            payload = event.payload if isinstance(event.payload, dict) else {}
            taken.append((event.event_definition.name, payload))
        else:
            kept.append(event)
    workflow.bpmn_events = kept
    return taken


def deliver_thrown(case, start_instance) -> None:
    """The messages the instance threw that nothing inside it caught start the processes that catch them, in
    this command's transaction and on its budget: 公文分发 starts a 收文 at each receiving unit. Each new
    instance's initiator is its process administrator, as for a timer start. `start_instance` is
    kernel.routing's, which calls this once the instance has moved on."""
    for name, payload in thrown_messages(case.workflow):
        started = []
        for target in receivers(case.core, case.conn, name, payload, MessageEventDefinition):
            try:
                case.budget.message_started()
            except BudgetExceeded as exc:
                raise failed_at(exc.what, None) from None

            def prepare(workflow, _name=name, _payload=payload):
                catch(workflow, MessageEventDefinition, _name, _payload)

            admin = users.get_user(case.conn, target.admin_id)
            try:
                new = start_instance(
                    case.core,
                    case.conn,
                    admin,
                    target.process_key,
                    target.data,
                    None,
                    prepare=prepare,
                    budget=case.budget,
                )
            except InvalidData as exc:  # what this instance sent: its administrators fix the definitions
                raise failed_at(f"消息“{name}”无法启动“{target.process_key}”：{exc.message}", None) from None
            started.append(f"“{new.title}”")
        text = f"已启动{'、'.join(started)}" if started else "没有流程接收"
        audit.record(case.conn, "message", instance_id=case.instance_id, message=f"发出消息“{name}”，{text}")
