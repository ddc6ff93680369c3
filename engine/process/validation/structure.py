"""One file's structure: is it BPMN 2.0 at all, are its ids sound, do its references and flows point at
something, can every node be reached, and does it use elements oaflow cannot run.

These checks read only the XML, before any process model is built, so a broken file is named precisely
instead of through SpiffWorkflow's later (and vaguer) errors.
"""

from __future__ import annotations

import re

from lxml import etree

from engine.process.bpmn import BPMN_NS, FLOW_NODE_TAGS, local, namespace
from engine.process.validation.elements import bpmn_children
from engine.process.validation.links import check_links
from engine.process.validation.report import Report
from engine.process.validation.vendor_extensions import check_vendor_extensions

# An XML NCName, as BPMN requires for ids (Unicode letters allowed: 中文 ids are fine).
NCNAME = re.compile(r"^[^\W\d][\w.\-]*$")
GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess"}
# Elements oaflow cannot run, and why (errors: deploying them would mean silently doing something else).
UNSUPPORTED = {
    "complexGateway": "复杂网关（complexGateway）暂不支持，请改用排他/并行/包容网关",
    "businessRuleTask": "业务规则任务（businessRuleTask）需要 DMN 决策表，oaflow 暂不支持",
    "adHocSubProcess": "自由子流程（adHocSubProcess）暂不支持",
    "choreography": "编排图（choreography）不是可执行流程",
    "compensateEventDefinition": "补偿事件（compensateEventDefinition）暂不支持",
}
TIMES = {"timeDuration", "timeDate", "timeCycle"}


def check_document(tree: etree._ElementTree, filename: str, report: Report) -> bool:
    """Is this a BPMN 2.0 document at all? False (with the reason reported) when it is not."""
    root = tree.getroot()
    if local(root.tag) == "definitions" and namespace(root.tag) == BPMN_NS:
        return True
    found = namespace(root.tag)
    if local(root.tag) == "definitions" and not found:
        reason = f'根元素 definitions 没有声明 BPMN 2.0 命名空间（应为 xmlns="{BPMN_NS}"）'
    elif local(root.tag) == "definitions":
        reason = f"根元素 definitions 的命名空间是 {found}，应为 BPMN 2.0 的 {BPMN_NS}"
    else:
        reason = f"根元素是 <{local(root.tag)}>，应为 BPMN 2.0 命名空间 {BPMN_NS} 中的 <definitions>"
    report.error(filename, root.sourceline, local(root.tag), f"不是 BPMN 2.0 文档：{reason}")
    return False


def check_structure(tree: etree._ElementTree, filename: str, report: Report) -> None:
    """Ids, references, connections, gateways and unsupported elements of one (normalized) file."""
    root = tree.getroot()
    _check_ids(root, filename, report)
    running = _running_processes(root)
    definitions = {el.get("id"): el for el in root if isinstance(el.tag, str) and el.get("id")}
    for element in root.iter(f"{{{BPMN_NS}}}*"):
        tag = local(element.tag)
        say = _say(report, element, running)
        if tag in UNSUPPORTED:
            owner = element if tag in FLOW_NODE_TAGS | {"adHocSubProcess", "complexGateway"} else element.getparent()
            say(filename, element.sourceline, owner.get("id"), f"不支持的元素 bpmn:{tag}：{UNSUPPORTED[tag]}")
        if tag in CONTAINERS:
            _check_container(element, filename, say)
        for attr, kind in (
            ("messageRef", "message"),
            ("signalRef", "signal"),
            ("errorRef", "error"),
            ("escalationRef", "escalation"),
        ):
            ref = element.get(attr)
            if ref and (ref not in definitions or local(definitions[ref].tag) != kind):
                owner = element if element.get("id") and tag in FLOW_NODE_TAGS else element.getparent()
                say(
                    filename,
                    element.sourceline,
                    owner.get("id"),
                    f"{attr}='{ref}' 指向不存在的 bpmn:{kind} 定义",
                )
        if tag == "scriptTask":
            script_format = (element.get("scriptFormat") or "").lower()
            if script_format and script_format not in {"python", "text/x-python", "oaflow"}:
                say(
                    filename,
                    element.sourceline,
                    element.get("id"),
                    f"脚本任务使用 {element.get('scriptFormat')} 脚本：oaflow 只执行“变量 = 表达式”形式的安全脚本",
                )
        if tag == "callActivity" and (element.get("calledElement") or "").strip().startswith(("${", "#{")):
            say(
                filename,
                element.sourceline,
                element.get("id"),
                f"调用活动的 calledElement 是表达式（{element.get('calledElement')}）：请写明被调用流程的 id",
            )
        if tag == "timerEventDefinition" and not any(local(c.tag) in TIMES for c in element):
            owner = element.getparent()
            say(
                filename,
                element.sourceline,
                owner.get("id"),
                "计时器事件没有设置时间：请设置 timeDuration、timeDate 或 timeCycle（例如 PT5M）",
            )
    check_links(root, filename, lambda element: _say(report, element, running))
    check_vendor_extensions(root, filename, report)


def _running_processes(root) -> set[str]:
    """The processes that run: executable ones, and any a call activity of the file calls."""
    called = {c.get("calledElement") for c in root.iter(f"{{{BPMN_NS}}}callActivity")}
    return {
        p.get("id")
        for p in root.iter(f"{{{BPMN_NS}}}process")
        if p.get("isExecutable", "true").lower() != "false" or p.get("id") in called
    }


def _say(report: Report, element, running: set[str]):
    """How a problem at `element` is reported: an error when it would run, a warning in a descriptive pool
    (a process with isExecutable="false" that nothing calls: it is documentation, and never runs)."""
    process = element if local(element.tag) == "process" else next(element.iterancestors(f"{{{BPMN_NS}}}process"), None)
    if process is None or process.get("id") in running:
        return report.error

    def warn(file, line, ident, message):
        report.warn(file, line, ident, f'{message}（描述性流程 isExecutable="false"，不会运行，仅作提示）')

    return warn


def _check_ids(root, filename: str, report: Report) -> None:
    seen: dict[str, int | None] = {}
    for element in root.iter(f"{{{BPMN_NS}}}*"):  # other namespaces (ADONIS, Spiff operators) have their own rules
        ident = element.get("id")
        if ident is None:
            continue
        if not NCNAME.match(ident):
            report.error(
                filename,
                element.sourceline,
                ident,
                f"<{local(element.tag)}> 的 id 不是合法的 XML 名称（须以字母或下划线开头，只含字母、数字、_ - .）",
            )
        if ident in seen:
            report.error(filename, element.sourceline, ident, f"元素 id 重复（首次出现在第 {seen[ident]} 行）")
        else:
            seen[ident] = element.sourceline


def _check_container(container, filename: str, say) -> None:
    """One process or subprocess: its flows point at its own nodes, and every node can be reached."""
    nodes = {c.get("id"): c for c in bpmn_children(container) if local(c.tag) in FLOW_NODE_TAGS | GATEWAYS}
    flows = [c for c in bpmn_children(container) if local(c.tag) == "sequenceFlow"]
    outgoing: dict[str, list] = {ident: [] for ident in nodes}
    incoming: dict[str, list] = {ident: [] for ident in nodes}
    for flow in flows:
        ident = flow.get("id")
        for attr, index in (("sourceRef", outgoing), ("targetRef", incoming)):
            ref = flow.get(attr)
            if not ref:
                say(filename, flow.sourceline, ident, f"顺序流缺少 {attr}")
            elif ref not in nodes:
                say(filename, flow.sourceline, ident, f"顺序流的 {attr}='{ref}' 指向本流程（子流程）中不存在的节点")
            else:
                index[ref].append(flow)
    if nodes and not any(local(n.tag) == "startEvent" for n in nodes.values()):
        what = "流程" if local(container.tag) == "process" else "子流程"
        say(filename, container.sourceline, container.get("id"), f"{what}没有开始事件（startEvent）")
        return  # without a start, every node would also be "unreachable": one message says it
    for ident, node in nodes.items():
        tag = local(node.tag)
        if tag == "boundaryEvent":
            attached = node.get("attachedToRef")
            if not attached or attached not in nodes:
                message = f"边界事件的 attachedToRef='{attached}' 指向不存在的活动"
                say(filename, node.sourceline, ident, message)
            continue
        default = node.get("default")
        if default and default not in {f.get("id") for f in outgoing[ident]}:
            say(filename, node.sourceline, ident, f"default='{default}' 不是该节点流出的顺序流")
        if tag == "startEvent":
            if not outgoing[ident]:
                say(filename, node.sourceline, ident, "开始事件没有流出的顺序流：流程开始后什么也不会执行")
        elif not incoming[ident] and node.get("isForCompensation") != "true" and not _link_catch(node):
            if tag == "subProcess" and node.get("triggeredByEvent") == "true":
                continue
            say(
                filename,
                node.sourceline,
                ident,
                "节点没有流入的顺序流，永远不会执行：请用顺序流把它连到流程中",
            )
        if tag == "exclusiveGateway" and len(outgoing[ident]) > 1:
            for flow in outgoing[ident]:
                cond = flow.find(f"{{{BPMN_NS}}}conditionExpression")
                has_condition = cond is not None and (cond.text or "").strip()
                if not has_condition and flow.get("id") != default:
                    say(
                        filename,
                        flow.sourceline,
                        flow.get("id"),
                        f"排他网关 {ident} 的分支 {flow.get('id')} 既没有条件也不是默认分支："
                        "请设置条件，或在网关上设 default",
                    )


def _link_catch(node) -> bool:
    return local(node.tag) == "intermediateCatchEvent" and node.find(f"{{{BPMN_NS}}}linkEventDefinition") is not None
