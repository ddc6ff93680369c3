"""What a workflow waits on that no work item stands for: BPMN timers (when the next one is due, which the
scheduler indexes), external work, message and signal catches — alone, or several at once behind an
event-based gateway or a (parallel-)multiple event."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition, SignalEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.process.model import ProcessModel, node_id
from engine.process.service_tasks import ExternalTask
from engine.process.timer_values import caught_events, has_timer

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
    """The earliest time a waiting timer of this workflow is due (naive UTC), or None. A timer may stand
    alone, on a boundary, or among the events an event-based gateway or a multiple event waits on."""
    due = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        if not has_timer(getattr(task.task_spec, "event_definition", None)):
            continue
        at = timer_due(task)
        if at is not None:
            due.append(naive_utc(at))
        elif task._get_internal_data("event_value") is not None:
            log.warning("unreadable timer value %r", task._get_internal_data("event_value"))
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
    """External work (STARTED), message/signal catches and timers the workflow waits on: each catch event
    of an event-based gateway, and each event of a (parallel-)multiple event, on its own line."""
    result: list[Waiting] = []
    for task in workflow.get_tasks(state=TaskState.STARTED):
        if isinstance(task.task_spec, ExternalTask):
            element = node_id(task.task_spec)
            node = model.nodes.get(element)
            result.append(Waiting("external", element, node.name if node else element, task.task_spec.handler))
    for task in workflow.get_tasks(state=TaskState.WAITING):
        for element, event in catches(task):
            node = model.nodes.get(element)
            name = node.name if node else element
            if isinstance(event, MessageEventDefinition):
                result.append(Waiting("message", element, name, event.name))
            elif isinstance(event, SignalEventDefinition):
                result.append(Waiting("signal", element, name, event.name))
            elif isinstance(event, TimerEventDefinition):
                due = timer_due(task)
                result.append(Waiting("timer", element, name, due.isoformat() if due else None))
    return result


def catches(task) -> list[tuple[str, object]]:
    """(element, event definition) for each event a waiting task catches. An event-based gateway holds its
    catch events' definitions (SpiffWorkflow moves them there), so each is named by its catch event."""
    definition_ = getattr(task.task_spec, "event_definition", None)
    events = caught_events(definition_)
    if isinstance(task.task_spec, EventBasedGateway) and len(task.task_spec.outputs) == len(events):
        return [(node_id(spec), event) for spec, event in zip(task.task_spec.outputs, events, strict=True)]
    if isinstance(definition_, MultipleEventDefinition) and definition_.parallel:
        seen = task.internal_data.get("seen_events", [])  # a parallel-multiple event waits for the rest only
        events = [e for e in events if not any(s.event_definition == e for s in seen)]
    return [(node_id(task.task_spec), event) for event in events]
