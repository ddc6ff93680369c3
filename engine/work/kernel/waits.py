"""What a workflow waits on that no work item stands for: BPMN timers (when the next one is due, which the
scheduler indexes), external work, message and signal catches."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition, SignalEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.process.model import ProcessModel, node_id
from engine.process.service_tasks import ExternalTask

log = logging.getLogger("oaflow.work")


TIMER_TYPES = {
    "TimeDateEventDefinition",
    "DurationTimerEventDefinition",
    "CycleTimerEventDefinition",
    "TimerEventDefinition",
}


def naive_utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def next_timer(workflow: BpmnWorkflow) -> datetime | None:
    """The earliest time a waiting timer of this workflow is due (naive UTC), or None."""
    due = []
    for event in workflow.waiting_events():
        if event.event_type not in TIMER_TYPES or not event.value:
            continue
        try:
            value = event.value if isinstance(event.value, str) else event.value.get("next")
            due.append(naive_utc(TimerEventDefinition.get_datetime(value)))
        except Exception:  # a value we cannot read must not stop the command that saved it
            log.warning("unreadable timer value %r", event.value)
    return min(due) if due else None


def timer_due(task) -> datetime | None:
    """When a waiting timer task is due (aware), or None."""
    value = task._get_internal_data("event_value")
    if value is None:
        return None
    try:
        if isinstance(value, dict):  # cycle timer
            return datetime.fromisoformat(value["next"]) if value.get("cycles") != 0 else None
        return TimerEventDefinition.get_datetime(value)
    except (ValueError, KeyError, TypeError):
        return None


@dataclass
class Waiting:
    """One thing an instance waits for that no work item stands for."""

    kind: str  # external | message | signal | timer
    element: str
    name: str
    detail: str | None = None  # handler key, message/signal name, or the timer's due time (ISO, UTC)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "element": self.element, "name": self.name, "detail": self.detail}


def waiting(workflow, model: ProcessModel) -> list[Waiting]:
    """External work (STARTED), message/signal catches and timers the workflow waits on."""
    result: list[Waiting] = []
    for task in workflow.get_tasks(state=TaskState.STARTED):
        if isinstance(task.task_spec, ExternalTask):
            element = node_id(task.task_spec)
            node = model.nodes.get(element)
            result.append(Waiting("external", element, node.name if node else element, task.task_spec.handler))
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition_ = getattr(task.task_spec, "event_definition", None)
        if definition_ is None:
            continue
        element = node_id(task.task_spec)
        node = model.nodes.get(element)
        name = node.name if node else element
        if isinstance(definition_, MessageEventDefinition):
            result.append(Waiting("message", element, name, definition_.name))
        elif isinstance(definition_, SignalEventDefinition):
            result.append(Waiting("signal", element, name, definition_.name))
        elif isinstance(definition_, TimerEventDefinition):
            due = timer_due(task)
            result.append(Waiting("timer", element, name, due.isoformat() if due else None))
    return result
