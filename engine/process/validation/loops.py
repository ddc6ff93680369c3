"""Cycles that can never end: a loop made only of automatic steps (scripts, gateways, manual and plain tasks,
throw events) with no way out of it. Each turn runs at once, so an instance would spin inside one command
until the command's budget stops it (engine.process.limits); when the diagram makes that certain — no step
in the cycle waits for a person or an event, and no flow or boundary event leaves it — the file is refused
at deploy. A cycle with a conditional way out may end, and is left to the run-time budget.
"""

from __future__ import annotations

from lxml import etree

from engine.process.bpmn import BPMN_NS
from engine.process.validation.report import Report

# Steps that run at once, without waiting for anyone or anything.
AUTOMATIC = {
    "task",
    "manualTask",
    "scriptTask",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "complexGateway",
    "intermediateThrowEvent",
}


def check_loops(tree, file: str, report: Report) -> None:
    """Refuse every cycle of automatic steps that no flow or boundary event leaves."""
    for process in tree.getroot().iter(f"{{{BPMN_NS}}}process"):
        if process.get("isExecutable", "true").lower() == "false":
            continue
        nodes = {e.get("id"): e for e in process.iter() if isinstance(e.tag, str) and e.get("id")}
        edges: dict[str, list[str]] = {}
        for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            edges.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
        attached = {b.get("attachedToRef") for b in process.iter(f"{{{BPMN_NS}}}boundaryEvent")}
        for cycle in _cycles(edges):
            if all(_automatic(nodes.get(n)) for n in cycle) and not _leaves(cycle, edges, attached):
                first = min(cycle, key=lambda n: nodes[n].sourceline or 0)
                steps = "、".join(sorted(cycle, key=lambda n: nodes[n].sourceline or 0))
                report.error(
                    file,
                    nodes[first].sourceline,
                    first,
                    f"循环（{steps}）只由自动步骤组成且没有出口，会无休止地运行：请在循环中加入人工审批或等待事件，"
                    "或在网关上加一条离开循环的条件流向",
                )


def _automatic(element) -> bool:
    return element is not None and etree.QName(element.tag).localname in AUTOMATIC


def _leaves(cycle: set[str], edges: dict[str, list[str]], attached: set[str | None]) -> bool:
    return any(n in attached or any(t not in cycle for t in edges.get(n, [])) for n in cycle)


def _cycles(edges: dict[str, list[str]]) -> list[set[str]]:
    """The strongly connected components that hold a cycle (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root in list(edges):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = edges.get(node, [])
            if position < len(targets):
                work.append((node, position + 1))
                target = targets[position]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, []):
                    found.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found
