"""BPMN files as untrusted input: safe XML parsing, our node model, SpiffWorkflow parsing and
state-only serialization.

The node model (form, assignee rule, 知会 readers, …) is read from the XML ourselves, with line numbers,
so the same code understands SpiffWorkflow's `spiffworkflow:properties` and the Camunda/Flowable
attributes designers already use (`camunda:assignee`, `candidateUsers`, `candidateGroups`, `formKey`).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from uuid import UUID

import orjson
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.parser.event_parsers import SpiffReceiveTaskParser, SpiffSendTaskParser
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.defaults import ReceiveTask, SendTask

from engine.errors import DeployProblem
from engine.process import dialect
from engine.process.service_tasks import ExternalTask, ExternalTaskConverter, ExternalTaskParser

MAX_FILE_BYTES = 2 * 1024 * 1024

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
VENDOR_NS = dialect.VENDOR_NS
# SpiffWorkflow names internal task specs `Start` and `End` (and the task tree's `Root`): a BPMN element
# with one of these ids makes the instance fail or skip. They are renamed at deploy (see normalize_ids).
RESERVED_IDS = {"Start", "End", "Root"}
# Attributes and child elements whose value is the id of another element: they follow a rename.
REF_ATTRIBUTES = ("sourceRef", "targetRef", "default", "attachedToRef", "bpmnElement", "sourceElement", "targetElement")
REF_ELEMENTS = {"incoming", "outgoing", "sourceRef", "targetRef", "flowNodeRef"}
EXTERNAL_TAGS = {"serviceTask", "sendTask", "receiveTask"}

FLOW_NODE_TAGS = {
    "startEvent",
    "endEvent",
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "transaction",
    "exclusiveGateway",
    "inclusiveGateway",
    "parallelGateway",
    "eventBasedGateway",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
}


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


def parse_xml(content: bytes, filename: str) -> etree._ElementTree:
    """Parse untrusted XML: no DTD, no entities, no network, bounded size. Raise DeployProblem."""
    if len(content) > MAX_FILE_BYTES:
        raise _problem(filename, None, None, f"文件过大（{len(content) // 1024} KB），上限为 2 MB")
    try:
        tree = etree.ElementTree(etree.fromstring(content, parser=_safe_parser()))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or None
        raise _problem(filename, line, None, f"XML 格式错误：{exc.msg}") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise _problem(filename, 1, None, "文件含有 DOCTYPE/实体声明（可能是 XXE 攻击），出于安全原因拒绝")
    return tree


class ProblemError(Exception):
    def __init__(self, problem: DeployProblem):
        super().__init__(str(problem))
        self.problem = problem


def _problem(file, line, element, message) -> ProblemError:
    return ProblemError(DeployProblem(file=file, line=line, element=element, message=message))


def local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def namespace(tag) -> str:
    return etree.QName(tag).namespace or "" if isinstance(tag, str) else ""


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


# --- ids: generated for id-less flows, renamed where they clash with SpiffWorkflow -----------------


def normalize_ids(tree: etree._ElementTree, filename: str) -> list[DeployProblem]:
    """Make a valid file safe for SpiffWorkflow without changing what it means; return what was changed.

    Sequence flows without an id get a stable one (`Flow_<source>_<target>`), because SpiffWorkflow
    silently drops them and the instance would "complete" without running its tasks. Elements whose id
    is `Start`/`End`/`Root` are renamed (`Start_1` …) together with every reference, diagram included.
    The stored file is this normalized one, so ids, diagram and running instances always agree.
    """
    root = tree.getroot()
    if local(root.tag) != "definitions" or namespace(root.tag) != BPMN_NS:
        return []
    notes: list[DeployProblem] = []
    taken = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}

    def fresh(base: str) -> str:
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate)
        return candidate

    renames: dict[str, str] = {}
    for element in root.iter(f"{{{BPMN_NS}}}*"):
        ident = element.get("id")
        if ident in RESERVED_IDS and local(element.tag) in FLOW_NODE_TAGS:  # only flow nodes become task specs
            new = fresh(f"{ident}_1" if f"{ident}_1" not in taken else ident)
            renames[ident] = new
            element.set("id", new)
            notes.append(
                DeployProblem(
                    filename,
                    element.sourceline,
                    new,
                    f"元素 id '{ident}' 与 SpiffWorkflow 内部名称冲突，已自动改为 '{new}'",
                    severity="warning",
                )
            )
    if renames:
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            for attr in REF_ATTRIBUTES:
                value = element.get(attr)
                if value in renames:
                    element.set(attr, renames[value])
            if local(element.tag) in REF_ELEMENTS and (element.text or "").strip() in renames:
                element.text = renames[element.text.strip()]

    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        if flow.get("id"):
            continue
        source, target = flow.get("sourceRef") or "", flow.get("targetRef") or ""
        base = re.sub(r"[^\w.-]", "_", f"Flow_{source}_{target}")
        new = fresh(base)
        flow.set("id", new)
        notes.append(
            DeployProblem(
                filename,
                flow.sourceline,
                new,
                f"顺序流（{source} → {target}）缺少 id：SpiffWorkflow 会静默丢弃它，已自动生成 id '{new}'",
                severity="warning",
            )
        )
    return notes


# --- our node model ------------------------------------------------------------------------------


def read_models(tree: etree._ElementTree, filename: str) -> tuple[list[ProcessModel], list[DeployProblem]]:
    """Read every process of one file into our model, with the problems we can see in the XML."""
    problems: list[DeployProblem] = []
    root = tree.getroot()
    if local(root.tag) != "definitions" or namespace(root.tag) != BPMN_NS:
        return [], problems
    messages = {m.get("id"): (m.get("name") or m.get("id")) for m in root.iter(f"{{{BPMN_NS}}}message")}
    signals = {s.get("id"): (s.get("name") or s.get("id")) for s in root.iter(f"{{{BPMN_NS}}}signal")}
    models = []
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        models.append(_read_process(process, filename, problems, messages, signals))
    if not models:
        problems.append(DeployProblem(filename, root.sourceline, None, "文件中没有 bpmn:process 流程定义"))
    return models, problems


def _read_process(process, filename: str, problems: list[DeployProblem], messages=None, signals=None) -> ProcessModel:
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
        if tag in EXTERNAL_TAGS and _is_external(element):
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
            for ext in element.iter(f"{{{SPIFF_NS}}}{name}"):
                expressions.append((ident, ext.sourceline, kind, ext.text or ""))
        for loop in element.findall(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics"):
            for part in ("loopCardinality", "completionCondition"):
                found = loop.find(f"{{{BPMN_NS}}}{part}")
                if found is not None and (found.text or "").strip():
                    expressions.append((ident, found.sourceline, part, found.text.strip()))
            collection = dialect.vendor_attr(loop, "collection")
            ref = loop.find(f"{{{BPMN_NS}}}loopDataInputRef")
            if collection or (ref is not None and (ref.text or "").strip()):
                text = collection.strip() if collection else ref.text.strip()
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


def _is_external(element) -> bool:
    """Service tasks always; send/receive tasks only when they carry no BPMN message of their own."""
    if local(element.tag) == "serviceTask":
        return True
    return not element.get("messageRef") and element.find(f"{{{BPMN_NS}}}messageEventDefinition") is None


def line_of(tree: etree._ElementTree, element_id: str | None) -> int | None:
    if not element_id:
        return None
    found = tree.getroot().xpath("//*[@id=$i]", i=element_id)
    return found[0].sourceline if found else None


# --- SpiffWorkflow parsing ---------------------------------------------------------------------------


def _send_parser(process_parser, spec_class, node, nsmap=None, lane=None):
    if _is_external(node):
        return ExternalTaskParser(process_parser, ExternalTask, node, nsmap, lane=lane)
    return SpiffSendTaskParser(process_parser, SendTask, node, nsmap, lane=lane)


def _receive_parser(process_parser, spec_class, node, nsmap=None, lane=None):
    if _is_external(node):
        return ExternalTaskParser(process_parser, ExternalTask, node, nsmap, lane=lane)
    return SpiffReceiveTaskParser(process_parser, ReceiveTask, node, nsmap, lane=lane)


class OaflowBpmnParser(SpiffBpmnParser):
    """SpiffWorkflow's own parser family, so specs and the serializer configuration match; service tasks
    (and send/receive tasks without a message) become external work instead of needing a Spiff operator."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ExternalTaskParser, ExternalTask),
        full_tag("sendTask"): (_send_parser, SendTask),
        full_tag("receiveTask"): (_receive_parser, ReceiveTask),
    }


def spiff_specs(trees: dict[str, etree._ElementTree], process_key: str):
    """Parse every file of a bundle with SpiffWorkflow and return (spec, subprocess_specs)."""
    parser = OaflowBpmnParser()
    for filename, tree in trees.items():
        parser.add_bpmn_xml(dialect.spiff_view(tree), filename)
    spec = parser.get_spec(process_key)
    subprocesses = parser.get_subprocess_specs(process_key)
    return spec, subprocesses


def validation_problem(exc: ValidationException, trees: dict[str, etree._ElementTree], default_file: str):
    filename = getattr(exc, "file_name", None) or default_file
    element = getattr(exc, "id", None) or None
    line = getattr(exc, "line_number", None) or None
    if not line and filename in trees:
        line = line_of(trees[filename], element)
    message = str(exc).split("\n")[0]
    message = re.sub(r"\s*Source Details:.*$", "", message)
    return DeployProblem(filename, line, element, f"BPMN 校验失败：{message}")


# --- state-only serialization -------------------------------------------------------------


class _StateOnlyConverter(BpmnWorkflowConverter):
    """Serialize the workflow's state without its spec; the spec comes from the compiled cache."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec, subprocess_specs = dct.pop("__specs__")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry():
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _StateOnlyConverter
    config[ExternalTask] = ExternalTaskConverter
    return BpmnWorkflowSerializer.configure(config)


REGISTRY = _registry()
_SERIALIZER = BpmnWorkflowSerializer(REGISTRY)


def dump_state(workflow: BpmnWorkflow) -> str:
    dct = _SERIALIZER.to_dict(workflow)
    return orjson.dumps(dct).decode()


def load_state(state: str, spec, subprocess_specs, script_engine) -> BpmnWorkflow:
    dct = orjson.loads(state)
    dct["__specs__"] = (spec, subprocess_specs)
    workflow = _SERIALIZER.from_dict(dct)
    workflow.script_engine = script_engine
    return workflow
