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
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from . import timer_expr
from .errors import DeployProblem

MAX_FILE_BYTES = 2 * 1024 * 1024

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
VENDOR_NS = (
    "http://camunda.org/schema/1.0/bpmn",
    "http://flowable.org/bpmn",
    "http://activiti.org/bpmn",
)
RESERVED_IDS = {"Start", "End", "Root"}

USER_TASK_TAGS = {"userTask", "manualTask"}
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
    def dedupe_approver(self) -> bool:
        return self.properties.get("dedupe_approver", "true").lower() in {"true", "1", "yes"}


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
            if local(prop.tag) == "property" and prop.get("name"):
                props[prop.get("name")] = prop.get("value", prop.text or "")
    return props


def _vendor_attr(element, name: str) -> str | None:
    for ns in VENDOR_NS:
        value = element.get(f"{{{ns}}}{name}")
        if value is not None:
            return value
    return None


_JUEL_VAR = re.compile(r"^\s*[$#]\{\s*([A-Za-z_][\w]*)\s*\}\s*$")


def _vendor_assignees(element) -> list[str]:
    rules = []
    assignee = _vendor_attr(element, "assignee")
    if assignee:
        match = _JUEL_VAR.match(assignee)
        if match:
            var = match.group(1)
            rules.append("initiator" if var in {"initiator", "starter", "applicant"} else f"field:{var}")
        else:
            rules.append(f"user:{assignee.strip()}")
    for user in (_vendor_attr(element, "candidateUsers") or "").split(","):
        if user.strip():
            rules.append(f"user:{user.strip()}")
    for group in (_vendor_attr(element, "candidateGroups") or "").split(","):
        if group.strip():
            rules.append(f"role:{group.strip()}")
    return rules


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
    form = props.get("form") or _vendor_attr(element, "formKey")
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
        problems.append(
            DeployProblem(
                filename,
                root.sourceline,
                local(root.tag),
                f"不是 BPMN 2.0 文档：根元素应为 {{{BPMN_NS}}}definitions",
            )
        )
        return [], problems

    seen: dict[str, int | None] = {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        ident = element.get("id")
        if ident is None:
            continue
        if ident in seen:
            problems.append(
                DeployProblem(filename, element.sourceline, ident, f"元素 id 重复（首次出现在第 {seen[ident]} 行）")
            )
        else:
            seen[ident] = element.sourceline

    models = []
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        models.append(_read_process(process, filename, problems))
    if not models:
        problems.append(DeployProblem(filename, root.sourceline, None, "文件中没有 bpmn:process 流程定义"))
    return models, problems


def _read_process(process, filename: str, problems: list[DeployProblem]) -> ProcessModel:
    key = process.get("id") or ""
    props = _properties(process)
    nodes: dict[str, Node] = {}
    expressions: list[tuple[str, int | None, str, str]] = []
    start_form = None
    for element in process.iter():
        if not isinstance(element.tag, str) or namespace(element.tag) != BPMN_NS:
            continue
        tag = local(element.tag)
        ident = element.get("id")
        if tag == "sequenceFlow":
            if not ident:
                problems.append(
                    DeployProblem(
                        filename,
                        element.sourceline,
                        None,
                        f"顺序流缺少 id（{element.get('sourceRef')} → {element.get('targetRef')}）："
                        "SpiffWorkflow 会静默丢弃它，请为其设置 id",
                    )
                )
            cond = element.find(f"{{{BPMN_NS}}}conditionExpression")
            if cond is not None and (cond.text or "").strip():
                expressions.append((ident or "?", cond.sourceline, "condition", cond.text.strip()))
            continue
        if tag not in FLOW_NODE_TAGS:
            continue
        if ident in RESERVED_IDS:
            problems.append(
                DeployProblem(
                    filename, element.sourceline, ident, f"元素 id '{ident}' 与 SpiffWorkflow 内部名称冲突，请改名"
                )
            )
        nprops = _properties(element)
        node = Node(
            id=ident or "",
            type=tag,
            name=(element.get("name") or ident or "").strip(),
            line=element.sourceline,
            form=_form_name(element, nprops),
            assignee=_split_rules(nprops.get("assignee")) or _vendor_assignees(element),
            cc=_split_rules(nprops.get("cc")),
            properties=nprops,
        )
        nodes[node.id] = node
        if tag == "startEvent" and node.form and start_form is None and element.getparent() is process:
            start_form = node.form
        if tag == "scriptTask":
            script = element.find(f"{{{BPMN_NS}}}script")
            expressions.append((ident, element.sourceline, "script", (script.text if script is not None else "") or ""))
        for name, kind in (("preScript", "script"), ("postScript", "script")):
            for ext in element.iter(f"{{{SPIFF_NS}}}{name}"):
                expressions.append((ident, ext.sourceline, kind, ext.text or ""))
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
    )


def line_of(tree: etree._ElementTree, element_id: str | None) -> int | None:
    if not element_id:
        return None
    found = tree.getroot().xpath("//*[@id=$i]", i=element_id)
    return found[0].sourceline if found else None


class OaflowBpmnParser(SpiffBpmnParser):
    """SpiffWorkflow's own parser family, so specs and the serializer configuration match."""


def spiff_specs(trees: dict[str, etree._ElementTree], process_key: str):
    """Parse every file of a bundle with SpiffWorkflow and return (spec, subprocess_specs)."""
    parser = OaflowBpmnParser()
    for filename, tree in trees.items():
        parser.add_bpmn_xml(tree, filename)
    spec = parser.get_spec(process_key)
    subprocesses = parser.get_subprocess_specs(process_key)
    timer_expr.quote_spec_timers(spec, subprocesses)  # bare `PT5M` as designers write it
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
    return BpmnWorkflowSerializer.configure(config)


_SERIALIZER = BpmnWorkflowSerializer(_registry())


def dump_state(workflow: BpmnWorkflow) -> str:
    dct = _SERIALIZER.to_dict(workflow)
    return orjson.dumps(dct).decode()


def load_state(state: str, spec, subprocess_specs, script_engine) -> BpmnWorkflow:
    dct = orjson.loads(state)
    dct["__specs__"] = (spec, subprocess_specs)
    workflow = _SERIALIZER.from_dict(dct)
    workflow.script_engine = script_engine
    return workflow
