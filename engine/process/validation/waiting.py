"""Waits that could not work as drawn: an event-based gateway, or a multiple event, waiting on more than one
timer. SpiffWorkflow keeps one due time per waiting step, so every timer of it would be due when the first
one computed is, and the gateway could follow the wrong flow. Refused at deploy: use one timer (the
earliest), or a timer on a later step.
"""

from __future__ import annotations

from engine.process.bpmn import BPMN_NS
from engine.process.validation.report import Report

_TIMER = f"{{{BPMN_NS}}}timerEventDefinition"


def check_waiting(tree, file: str, report: Report) -> None:
    """Refuse event-based gateways and multiple events that wait on more than one timer."""
    for process in tree.getroot().iter(f"{{{BPMN_NS}}}process"):
        nodes = {e.get("id"): e for e in process.iter() if isinstance(e.tag, str) and e.get("id")}
        targets: dict[str, list[str]] = {}
        for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            targets.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
        for gateway in process.iter(f"{{{BPMN_NS}}}eventBasedGateway"):
            timers = [t for t in targets.get(gateway.get("id"), []) if _timers(nodes.get(t))]
            if len(timers) > 1:
                report.error(
                    file,
                    gateway.sourceline,
                    gateway.get("id"),
                    f"事件网关后有 {len(timers)} 个定时事件（{'、'.join(timers)}）：最多一个，请只保留最早到期的那个",
                )
        for event in nodes.values():
            if _timers(event) > 1:
                report.error(
                    file, event.sourceline, event.get("id"), "一个事件最多一个定时定义（timerEventDefinition）"
                )


def _timers(element) -> int:
    return 0 if element is None else len(element.findall(_TIMER))
