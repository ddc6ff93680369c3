"""Which variables are there on every path to an element: a must-reach check on the flow graph.

A variable some step provides is not there everywhere: a form on one exclusive branch, a script after the
gateway that reads it. For each flow element the check computes the variables provided on *every* path from
the process start to it (a forward "must be provided" data flow, solved to its greatest fixpoint so loops
cause no false alarm): alternatives (exclusive, inclusive, event-based branches) meet in what they all
provide, the branches a parallel gateway joins are all taken, boundary events start from the task they are
attached to, event subprocesses from the start of their container, a subprocess's steps from the subprocess.
Steps whose result is open (a message's payload, external work, a call activity, a service or rule task)
provide anything, so they never cause an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.process import dialect
from engine.process.bpmn import BPMN_NS, FLOW_NODE_TAGS, local
from engine.process.expressions import ExpressionError, compile_script, variable_names
from engine.process.model import ProcessModel

ANY = None  # "every variable": what a step with an open result provides; the start value of the fixpoint
OPEN_RESULT = {"serviceTask", "businessRuleTask", "callActivity"}
CONTAINERS = {"subProcess", "transaction", "adHocSubProcess"}
HALTING = {"errorEventDefinition", "escalationEventDefinition", "cancelEventDefinition", "terminateEventDefinition"}


@dataclass
class FlowGraph:
    tags: dict[str, str] = field(default_factory=dict)
    incoming: dict[str, list[str]] = field(default_factory=dict)
    gen: dict[str, frozenset | None] = field(default_factory=dict)  # what each element provides (None: any)
    entry: dict[str, str | None] = field(default_factory=dict)  # start/boundary → where its path begins
    ends: dict[str, list[str]] = field(default_factory=dict)  # subprocess → its normal end events
    top_starts: list[str] = field(default_factory=list)


def flow_graph(model: ProcessModel, process, form_schemas: dict[str, dict]) -> FlowGraph:
    graph = FlowGraph()
    scripts: dict[str, set[str]] = {}
    for element, _line, kind, text in model.expressions:
        if kind == "script":
            try:
                scripts.setdefault(element, set()).update(name for name, _ in compile_script(text))
            except ExpressionError:
                pass
    _walk(model, process, process, None, graph, scripts, form_schemas)
    return graph


def _walk(model, process, container, container_start, graph: FlowGraph, scripts, form_schemas) -> None:
    """Record the elements of one process or subprocess; `container_start` is where the container's own
    path begins (None: the process's start)."""
    links: dict[str, list[str]] = {}
    catches: dict[str, list[str]] = {}
    for child in container:
        if not isinstance(child.tag, str) or not child.get("id"):
            continue
        tag, ident = local(child.tag), child.get("id")
        if tag == "sequenceFlow":
            graph.incoming.setdefault(child.get("targetRef"), []).append(child.get("sourceRef"))
            continue
        if tag not in FLOW_NODE_TAGS | CONTAINERS:
            continue
        graph.tags[ident] = tag
        graph.gen[ident] = _provides(model, child, tag, scripts.get(ident, set()), form_schemas)
        if tag == "startEvent":
            if container is process:
                graph.top_starts.append(ident)
                graph.entry[ident] = None
            else:
                graph.entry[ident] = container_start
        if tag == "boundaryEvent":
            graph.entry[ident] = child.get("attachedToRef")
        for definition in child.findall(f"{{{BPMN_NS}}}linkEventDefinition"):
            named = links if tag == "intermediateThrowEvent" else catches
            named.setdefault(definition.get("name") or "", []).append(ident)
        if tag in CONTAINERS:
            event_sub = child.get("triggeredByEvent") == "true"
            # An event subprocess may start once its container runs; a subprocess's steps when it starts.
            inner_start = (container_start or "*process*") if event_sub else ident
            _walk(model, process, child, inner_start, graph, scripts, form_schemas)
            if not event_sub:
                graph.ends[ident] = [
                    e.get("id")
                    for e in child.findall(f"{{{BPMN_NS}}}endEvent")
                    if e.get("id") and not any(local(d.tag) in HALTING for d in e)
                ]
    for name, targets in catches.items():
        for target in targets:
            graph.incoming.setdefault(target, []).extend(links.get(name, []))


def _provides(model: ProcessModel, element, tag: str, assigned: set[str], form_schemas) -> frozenset | None:
    node = model.nodes.get(element.get("id"))
    if tag in OPEN_RESULT or (node is not None and node.external):
        return ANY
    if tag in {"receiveTask", "intermediateCatchEvent", "boundaryEvent", "startEvent"} and (
        element.get("messageRef") or element.find(f"{{{BPMN_NS}}}messageEventDefinition") is not None
    ):
        return ANY  # the message's payload may provide any variable
    names = set(assigned) | set(dialect.output_variables(element))
    if node is not None and node.form:
        names |= set(form_schemas.get(node.form, {}).get("properties", {}))
    if node is not None and node.type == "startEvent" and element.getparent() is not None:
        if model.start_form and local(element.getparent().tag) == "process":
            names |= set(form_schemas.get(model.start_form, {}).get("properties", {}))
    for item in element.iter(f"{{{BPMN_NS}}}inputDataItem", f"{{{BPMN_NS}}}outputDataItem"):
        names |= {item.get("name"), item.get("id")} - {None}
    for ref in element.iter(f"{{{BPMN_NS}}}loopDataOutputRef"):
        names |= {(ref.text or "").strip()} - {""}
    for loop in element.findall(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics"):
        names |= {(dialect.loop_collection(loop) or ("", ""))[1] or ""} - {""}
    return frozenset(names)


def provided_on_every_path(graph: FlowGraph, base: frozenset) -> tuple[dict, dict]:
    """(before, after): element → the variables provided on every path to it, before and after it runs
    (None: unreachable from any start, so anything)."""
    before: dict[str, frozenset | None] = dict.fromkeys(graph.tags, ANY)
    after: dict[str, frozenset | None] = dict.fromkeys(graph.tags, ANY)
    changed = True
    while changed:
        changed = False
        for ident, tag in graph.tags.items():
            value = _before(graph, ident, tag, base, before, after)
            out = _union(value, graph.gen[ident])
            if tag in CONTAINERS and ident in graph.ends:
                out = _union(out, _meet([after[e] for e in graph.ends[ident]]))
            if value != before[ident] or out != after[ident]:
                before[ident], after[ident], changed = value, out, True
    return before, after


def _before(graph: FlowGraph, ident, tag, base, before, after):
    if ident in graph.entry:
        origin = graph.entry[ident]
        if origin is None:
            return base
        if origin == "*process*":
            return _meet([after[s] for s in graph.top_starts]) if graph.top_starts else base
        if tag == "boundaryEvent":
            return before.get(origin, ANY)  # the task it is attached to may not have provided anything yet
        return _union(before.get(origin, ANY), graph.gen.get(origin))  # with the subprocess's element variable
    sources = [after.get(s, ANY) for s in graph.incoming.get(ident, []) if s in graph.tags]
    if not sources:
        return ANY  # reached by no flow: never runs from here
    if tag == "parallelGateway" and len(sources) > 1:
        known = [s for s in sources if s is not ANY]
        return ANY if len(known) < len(sources) else frozenset().union(*known)
    return _meet(sources)


def _meet(values: list) -> frozenset | None:
    known = [v for v in values if v is not ANY]
    if not known:
        return ANY
    return frozenset.intersection(*known)


def _union(a, b):
    return ANY if a is ANY or b is ANY else a | b


def missing_path(graph: FlowGraph, before, after, target: str, name: str, *, include_target: bool) -> list[str]:
    """One path from a start to `target` on which nothing provides `name` (element ids, start first)."""
    path, current, seen = [target], target, {target}
    while True:
        if current in graph.entry:
            origin = graph.entry[current]
            if origin is None:
                break
            step = graph.top_starts[0] if origin == "*process*" and graph.top_starts else origin
            if step == "*process*" or step in seen:
                break
        else:
            candidates = [s for s in graph.incoming.get(current, []) if s in graph.tags and s not in seen]
            lacking = [s for s in candidates if after[s] is not ANY and name not in after[s]]
            if not lacking:
                break
            step = lacking[0]
        path.append(step)
        seen.add(step)
        current = step
    path.reverse()
    return path if include_target else path[:-1]


# Expressions evaluated before their element's own step runs (the rest may read what the step provides).
READ_BEFORE = {"collection", "loopCardinality", "loopConditionBefore", "timer", "rule"}


def check_paths(model: ProcessModel, process, form_schemas, compiled, provided: set[str], always, report) -> None:
    """A located error for each variable an expression reads that some step provides, but not on every path
    to the expression: it names the variable, one path where it is missing and the form to add it to.
    `always` are the variables there from the start (built-in ones). A process another one in the file calls
    starts with the caller's data, so there is nothing to check on its paths."""
    if process is None or any(
        call.get("calledElement") == model.key for call in process.getroottree().iter(f"{{{BPMN_NS}}}callActivity")
    ):
        return
    graph = flow_graph(model, process, form_schemas)
    attributed = frozenset().union(*(g for g in graph.gen.values() if g is not ANY))
    base = frozenset(always) | (frozenset(provided) - attributed)  # provided by no element in particular
    before, after = provided_on_every_path(graph, base)
    flows = {f.get("id"): f.get("sourceRef") for f in process.iter(f"{{{BPMN_NS}}}sequenceFlow")}
    done: set[tuple[str, str]] = set()
    for element, line, kind, _text, tree in compiled:
        at = flows.get(element, element) if kind == "condition" else element
        if at not in graph.tags:
            continue
        first = kind in READ_BEFORE
        there = before[at] if first else after[at]
        for name in variable_names(tree):
            if there is ANY or name in there or name not in provided or (name, element) in done:
                continue
            done.add((name, element))
            path = missing_path(graph, before, after, at, name, include_target=not first)
            # A boundary timer starts with its task: the field goes on a form before that task.
            passed = {at, graph.entry.get(at)} if first else set()
            report.error(model.file, line, element, _message(model, name, path, passed))


def _message(model: ProcessModel, name: str, path: list[str], passed: set) -> str:
    """The error's text: the variable, one path where it is missing, and the form of the last step on that
    path that has one (the step itself when the value is read after it, e.g. a completion condition)."""
    shown = [_label(model, ident) for ident in path]
    if len(shown) > 8:
        shown = [*shown[:3], "…", *shown[-4:]]
    steps = [
        model.nodes[i]
        for i in path
        if i in model.nodes and i not in passed and model.nodes[i].type in {"userTask", "startEvent"}
    ]
    if steps:
        step = steps[-1]
        label = "发起表单" if step.type == "startEvent" else f"“{step.name or step.id}”的表单"
        advice = f"请在{label}中加入该字段"
    else:
        advice = "请在这条路径上的某个步骤中提供它"
    return (
        f"表达式引用的变量 '{name}' 只在部分路径上提供：在路径 {' → '.join(shown)} 上没有任何步骤提供它，"
        f"运行到这里会出错：{advice}"
    )


def _label(model: ProcessModel, ident: str) -> str:
    node = model.nodes.get(ident)
    return (node.name or ident) if node is not None else ident
