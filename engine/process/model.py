"""Our model of a process, read from the BPMN XML ourselves, with line numbers: the nodes with their form,
assignee rules, 知会 readers and extension properties, the expressions to check, the forms Camunda's formData
describes. The same code understands SpiffWorkflow's `spiffworkflow:properties` and the Camunda/Flowable
attributes designers already use (`camunda:assignee`, `candidateUsers`, `candidateGroups`, `formKey`).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from lxml import etree

from engine.errors import DeployProblem
from engine.process import dialect
from engine.process.bpmn import BPMN_NS, EXTERNAL_TAGS, FLOW_NODE_TAGS, SPIFF_NS, is_external, local, namespace


@dataclass
class Node:
    id: str
    type: str
    name: str
    line: int | None
    form: str | None = None
    assignee: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    # External work: the key a Python handler registers under (class, topic, connector …), if any.
    service: str | None = None
    external: bool = False


@dataclass
class ProcessModel:
    key: str
    name: str
    file: str
    line: int | None
    executable: bool
    properties: dict[str, str]
    start_form: str | None
    nodes: dict[str, Node]
    expressions: list[tuple[str, int | None, str, str]]  # (element, line, kind, text)
    # JSON Schema forms made from Camunda formData / Flowable formProperty, by generated form name.
    forms: dict[str, dict] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)  # names of messages a start event catches
    signals: list[str] = field(default_factory=list)  # names of signals a start event catches

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ProcessModel:
        data = dict(data)
        data["nodes"] = {k: Node(**v) for k, v in data["nodes"].items()}
        data["expressions"] = [tuple(e) for e in data["expressions"]]
        return cls(**data)

    @property
    def title_template(self) -> str:
        return self.properties.get("title") or "{initiator_name}的" + self.name

    @property
    def start_event(self) -> str | None:
        """The id of the process's start event (the first one listed)."""
        return next((n.id for n in self.nodes.values() if n.type == "startEvent"), None)

    @property
    def dedupe_approver(self) -> bool:
        return self.properties.get("dedupe_approver", "true").lower() in {"true", "1", "yes"}

    @property
    def budget_mode(self) -> str | None:
        """`budget`: claims are checked against a department's budget (engine.work.kernel.claims); over it,
        `refuse` stops the claim, `warn` lets it go on with BUDGET_FLAG set. None: no budget control."""
        mode = self.properties.get("budget")
        return mode if mode in BUDGET_MODES else None


BUDGET_MODES = ("refuse", "warn")
BUDGET_FLAG = "budget_over"  # in the data of a claim that went on over its budget: a gateway may route on it
BUDGET_ROLES = ("department", "category", "amount")  # the start form's fields marked x-budget


def node_id(task_spec) -> str:
    """The BPMN element id behind a task spec (a multi-instance child is named `id [child]`)."""
    return getattr(task_spec, "bpmn_id", None) or task_spec.name


def generated_form_name(process_key: str, element_id: str) -> str:
    return f"auto:{process_key}:{element_id}"


def _properties(element) -> dict[str, str]:
    """spiffworkflow:properties and camunda/flowable:properties of one element."""
    props: dict[str, str] = {}
    ext = element.find(f"{{{BPMN_NS}}}extensionElements")
    if ext is None:
        return props
    for container in ext:
        if local(container.tag) != "properties":
            continue
        for prop in container:
            name = prop.get("name") or prop.get("id")  # Camunda writes name=, older Activiti files id=
            if local(prop.tag) == "property" and name:
                props[name] = prop.get("value", prop.text or "")
    return props


def _split_rules(value: str | None) -> list[str]:
    """Rules are separated by ; or newlines, or by commas when no rule carries an `if` condition
    (a condition may itself contain commas: `dept_leader:办公室 if kind in ['a', 'b']`)."""
    rules = []
    for part in re.split(r"[;；\n]", value or ""):
        if " if " in part:
            rules.append(part.strip())
        else:
            rules.extend(p.strip() for p in re.split(r"[,，]", part))
    return [rule for rule in rules if rule]


def _form_name(element, props: dict[str, str]) -> str | None:
    form = props.get("form") or dialect.form_key(element)
    if not form:
        return None
    form = form.strip()
    if form.endswith(".json"):
        form = form[:-5]
    return form.rsplit("/", 1)[-1]


def read_models(tree: etree._ElementTree, filename: str) -> tuple[list[ProcessModel], list[DeployProblem]]:
    """Read every process of one file into our model, with the problems we can see in the XML."""
    problems: list[DeployProblem] = []
    root = tree.getroot()
    if local(root.tag) != "definitions" or namespace(root.tag) != BPMN_NS:
        return [], problems
    messages = {m.get("id"): (m.get("name") or m.get("id")) for m in root.iter(f"{{{BPMN_NS}}}message")}
    signals = {s.get("id"): (s.get("name") or s.get("id")) for s in root.iter(f"{{{BPMN_NS}}}signal")}
    retrievals = _retrieval_expressions(root)
    models = []
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        models.append(_read_process(process, filename, problems, messages, signals, retrievals))
    if not models:
        problems.append(DeployProblem(filename, root.sourceline, None, "文件中没有 bpmn:process 流程定义"))
    return models, problems


def _retrieval_expressions(root) -> dict[str, list[tuple[int | None, str]]]:
    """Message id → the correlation properties' retrieval expressions for it (line, text): evaluated on the
    sending step's data when the message is thrown."""
    found: dict[str, list[tuple[int | None, str]]] = {}
    for retrieval in root.iter(f"{{{BPMN_NS}}}correlationPropertyRetrievalExpression"):
        for formal in retrieval.iter(f"{{{BPMN_NS}}}messagePath", f"{{{BPMN_NS}}}formalExpression"):
            if (formal.text or "").strip() and retrieval.get("messageRef"):
                found.setdefault(retrieval.get("messageRef"), []).append((formal.sourceline, formal.text.strip()))
    return found


def _thrown_message(element) -> str | None:
    """The message a throwing event or send task sends, if any."""
    tag = local(element.tag)
    if tag == "sendTask":
        return element.get("messageRef")
    if tag in {"intermediateThrowEvent", "endEvent"}:
        definition = element.find(f"{{{BPMN_NS}}}messageEventDefinition")
        return definition.get("messageRef") if definition is not None else None
    return None


def _read_process(
    process, filename: str, problems: list[DeployProblem], messages=None, signals=None, retrievals=None
) -> ProcessModel:
    key = process.get("id") or ""
    props = _properties(process)
    if "dedupe_approver" not in props and next(process.iter(f"{{{SPIFF_NS}}}*"), None) is None:
        # 审批人去重 is an oaflow convention: a file from another tool (which never asks for it) keeps one
        # work item per user task, as its own engine would — even when every task falls to the administrator.
        props["dedupe_approver"] = "false"
    nodes: dict[str, Node] = {}
    expressions: list[tuple[str, int | None, str, str]] = []
    generated: dict[str, dict] = {}
    start_form = None
    start_messages: list[str] = []
    start_signals: list[str] = []
    initiator_var = dialect.initiator_variable(process)
    for element in process.iter():
        if not isinstance(element.tag, str) or namespace(element.tag) != BPMN_NS:
            continue
        tag = local(element.tag)
        ident = element.get("id")
        if tag == "sequenceFlow":
            cond = element.find(f"{{{BPMN_NS}}}conditionExpression")
            if cond is not None and (cond.text or "").strip():
                expressions.append((ident or "?", cond.sourceline, "condition", cond.text.strip()))
            continue
        if tag not in FLOW_NODE_TAGS:
            continue
        nprops = _properties(element)
        node = Node(
            id=ident or "",
            type=tag,
            name=(element.get("name") or ident or "").strip(),
            line=element.sourceline,
            form=_form_name(element, nprops),
            assignee=_split_rules(nprops.get("assignee")) or dialect.assignee_rules(element, initiator_var),
            cc=_split_rules(nprops.get("cc")),
            properties=nprops,
        )
        if tag in EXTERNAL_TAGS and is_external(element):
            found = dialect.service_handler(element)
            node.external = True
            node.service = found[1] if found else None
        if not nprops.get("form"):
            try:
                schema = dialect.form_data_schema(element)
            except dialect.FormDataProblem as exc:
                problems.append(DeployProblem(filename, exc.line, ident, exc.message))
                schema = None
            if schema is not None:
                node.form = generated_form_name(key, node.id)
                generated[node.form] = schema
        nodes[node.id] = node
        top_start = tag == "startEvent" and element.getparent() is process
        if top_start and node.form and start_form is None:
            start_form = node.form
        if top_start:
            for definition in element.iter(f"{{{BPMN_NS}}}messageEventDefinition"):
                ref = definition.get("messageRef")
                start_messages.append((messages or {}).get(ref, ref or ""))
            for definition in element.iter(f"{{{BPMN_NS}}}signalEventDefinition"):
                ref = definition.get("signalRef")
                start_signals.append((signals or {}).get(ref, ref or ""))
        for conditional in element.findall(f"{{{BPMN_NS}}}conditionalEventDefinition"):
            found = conditional.find(f"{{{BPMN_NS}}}condition")
            if found is not None and (found.text or "").strip():
                expressions.append((ident, found.sourceline, "condition", found.text.strip()))
        if tag == "scriptTask":
            script = element.find(f"{{{BPMN_NS}}}script")
            expressions.append((ident, element.sourceline, "script", (script.text if script is not None else "") or ""))
        for name, kind in (("preScript", "script"), ("postScript", "script")):
            # Its own extensionElements only: a subprocess must not report the scripts of the tasks inside it.
            for ext in element.findall(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}{name}"):
                expressions.append((ident, ext.sourceline, kind, ext.text or ""))
        for line, text in (retrievals or {}).get(_thrown_message(element) or "", []):
            expressions.append((ident, line, "correlation", text))
        for loop in element.findall(f"{{{BPMN_NS}}}standardLoopCharacteristics"):
            found = loop.find(f"{{{BPMN_NS}}}loopCondition")
            if found is not None and (found.text or "").strip():
                kind = "loopConditionBefore" if loop.get("testBefore") == "true" else "loopCondition"
                expressions.append((ident, found.sourceline, kind, found.text.strip()))
        for loop in element.findall(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics"):
            for part in ("loopCardinality", "completionCondition"):
                found = loop.find(f"{{{BPMN_NS}}}{part}")
                if found is not None and (found.text or "").strip():
                    expressions.append((ident, found.sourceline, part, found.text.strip()))
            vendor = dialect.loop_collection(loop)
            ref = loop.find(f"{{{BPMN_NS}}}loopDataInputRef")
            if vendor or (ref is not None and (ref.text or "").strip()):
                text = vendor[0] if vendor else ref.text.strip()
                expressions.append((ident, loop.sourceline, "collection", text))
    return ProcessModel(
        key=key,
        name=(process.get("name") or key).strip(),
        file=filename,
        line=process.sourceline,
        executable=process.get("isExecutable", "true").lower() != "false",
        properties=props,
        start_form=start_form or props.get("start_form"),
        nodes=nodes,
        expressions=expressions,
        forms=generated,
        messages=[m for m in start_messages if m],
        signals=[s for s in start_signals if s],
    )
