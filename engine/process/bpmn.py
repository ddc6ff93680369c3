"""BPMN files as untrusted input: safe XML parsing, our node model, SpiffWorkflow parsing and
state-only serialization.

The node model (form, assignee rule, 知会 readers, …) is read from the XML ourselves, with line numbers,
so the same code understands SpiffWorkflow's `spiffworkflow:properties` and the Camunda/Flowable
attributes designers already use (`camunda:assignee`, `candidateUsers`, `candidateGroups`, `formKey`).
"""

from __future__ import annotations

import re

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.event_parsers import SpiffReceiveTaskParser, SpiffSendTaskParser
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import ReceiveTask, SendTask

from engine.errors import DeployProblem
from engine.process import dialect
from engine.process.service_tasks import ExternalTask, ExternalTaskParser
from engine.process.validation.spiff_messages import xml_message

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
        raise _problem(filename, line, None, f"XML 格式错误：{xml_message(exc.msg)}") from None
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
    """An element's tag without its namespace; "" for comments and processing instructions."""
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def namespace(tag) -> str:
    return etree.QName(tag).namespace or "" if isinstance(tag, str) else ""


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


def is_external(element) -> bool:
    """Service tasks always; send/receive tasks only when they carry no BPMN message of their own."""
    if local(element.tag) == "serviceTask":
        return True
    return not element.get("messageRef") and element.find(f"{{{BPMN_NS}}}messageEventDefinition") is None


def _send_parser(process_parser, spec_class, node, nsmap=None, lane=None):
    if is_external(node):
        return ExternalTaskParser(process_parser, ExternalTask, node, nsmap, lane=lane)
    return SpiffSendTaskParser(process_parser, SendTask, node, nsmap, lane=lane)


def _receive_parser(process_parser, spec_class, node, nsmap=None, lane=None):
    if is_external(node):
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


def line_of(tree: etree._ElementTree, element_id: str | None) -> int | None:
    if not element_id:
        return None
    found = tree.getroot().xpath("//*[@id=$i]", i=element_id)
    return found[0].sourceline if found else None
