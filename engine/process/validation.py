"""Deploy-time checks: what SpiffWorkflow only finds at run time, or silently gets wrong.

Every problem names file, line and element (`file:line: element: message`), in Chinese. Errors refuse the
deployment; warnings (severity "warning") are reported and the files deploy. `oaflow validate`, the deploy
API and the admin upload page all get their answer from `definitions.read_bundle`, which calls these.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.errors import DeployProblem
from engine.process import dialect, policy
from engine.process.bpmn import BPMN_NS, FLOW_NODE_TAGS, ProcessModel, generated_form_name, local, namespace
from engine.process.expressions import ExpressionError, compile_expression, compile_script, variable_names

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
    "linkEventDefinition": "链接事件（linkEventDefinition）暂不支持，请直接用顺序流连接",
}
# Vendor extensions that would run Java code or map variables elsewhere: ignored here, so say so.
IGNORED_VENDOR = {
    "executionListener": "执行监听器",
    "taskListener": "任务监听器",
    "field": "字段注入",
    "inputOutput": "输入/输出映射",
    "in": "调用活动的输入变量映射",
    "out": "调用活动的输出变量映射",
    "ioMapping": "输入/输出映射",
}
BUILTIN_VARIABLES = {"approved", "decision", "initiator", "priority"}


@dataclass
class Report:
    problems: list[DeployProblem] = field(default_factory=list)
    warnings: list[DeployProblem] = field(default_factory=list)

    def error(self, file, line, element, message) -> None:
        self.problems.append(DeployProblem(file, line, _shown(element), message))

    def warn(self, file, line, element, message) -> None:
        self.warnings.append(DeployProblem(file, line, _shown(element), message, severity="warning"))


def _shown(element: str | None) -> str | None:
    if element is None:
        return None
    return element if len(element) <= 80 else element[:77] + "…"


# --- the document ---------------------------------------------------------------------------------------


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
    definitions = {el.get("id"): el for el in root if isinstance(el.tag, str) and el.get("id")}
    for element in root.iter(f"{{{BPMN_NS}}}*"):
        tag = local(element.tag)
        if tag in UNSUPPORTED:
            owner = element if tag in FLOW_NODE_TAGS | {"adHocSubProcess", "complexGateway"} else element.getparent()
            report.error(filename, element.sourceline, owner.get("id"), f"不支持的元素 bpmn:{tag}：{UNSUPPORTED[tag]}")
        if tag in CONTAINERS:
            _check_container(element, filename, report)
        for attr, kind in (
            ("messageRef", "message"),
            ("signalRef", "signal"),
            ("errorRef", "error"),
            ("escalationRef", "escalation"),
        ):
            ref = element.get(attr)
            if ref and (ref not in definitions or local(definitions[ref].tag) != kind):
                owner = element if element.get("id") and tag in FLOW_NODE_TAGS else element.getparent()
                report.error(
                    filename,
                    element.sourceline,
                    owner.get("id"),
                    f"{attr}='{ref}' 指向不存在的 bpmn:{kind} 定义",
                )
        if tag == "scriptTask":
            script_format = (element.get("scriptFormat") or "").lower()
            if script_format and script_format not in {"python", "text/x-python", "oaflow"}:
                report.error(
                    filename,
                    element.sourceline,
                    element.get("id"),
                    f"脚本任务使用 {element.get('scriptFormat')} 脚本：oaflow 只执行“变量 = 表达式”形式的安全脚本",
                )
        if tag == "callActivity" and (element.get("calledElement") or "").strip().startswith(("${", "#{")):
            report.error(
                filename,
                element.sourceline,
                element.get("id"),
                f"调用活动的 calledElement 是表达式（{element.get('calledElement')}）：请写明被调用流程的 id",
            )
    _check_vendor_extensions(root, filename, report)


def _check_ids(root, filename: str, report: Report) -> None:
    seen: dict[str, int | None] = {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
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


def _children(container) -> list:
    return [c for c in container if isinstance(c.tag, str) and namespace(c.tag) == BPMN_NS]


def _check_container(container, filename: str, report: Report) -> None:
    """One process or subprocess: its flows point at its own nodes, and every node can be reached."""
    nodes = {c.get("id"): c for c in _children(container) if local(c.tag) in FLOW_NODE_TAGS | GATEWAYS}
    flows = [c for c in _children(container) if local(c.tag) == "sequenceFlow"]
    outgoing: dict[str, list] = {ident: [] for ident in nodes}
    incoming: dict[str, list] = {ident: [] for ident in nodes}
    for flow in flows:
        ident = flow.get("id")
        for attr, index in (("sourceRef", outgoing), ("targetRef", incoming)):
            ref = flow.get(attr)
            if not ref:
                report.error(filename, flow.sourceline, ident, f"顺序流缺少 {attr}")
            elif ref not in nodes:
                report.error(
                    filename, flow.sourceline, ident, f"顺序流的 {attr}='{ref}' 指向本流程（子流程）中不存在的节点"
                )
            else:
                index[ref].append(flow)
    if nodes and not any(local(n.tag) == "startEvent" for n in nodes.values()):
        what = "流程" if local(container.tag) == "process" else "子流程"
        report.error(filename, container.sourceline, container.get("id"), f"{what}没有开始事件（startEvent）")
        return  # without a start, every node would also be "unreachable": one message says it
    for ident, node in nodes.items():
        tag = local(node.tag)
        if tag == "boundaryEvent":
            attached = node.get("attachedToRef")
            if not attached or attached not in nodes:
                message = f"边界事件的 attachedToRef='{attached}' 指向不存在的活动"
                report.error(filename, node.sourceline, ident, message)
            continue
        default = node.get("default")
        if default and default not in {f.get("id") for f in outgoing[ident]}:
            report.error(filename, node.sourceline, ident, f"default='{default}' 不是该节点流出的顺序流")
        if tag == "startEvent":
            if not outgoing[ident]:
                report.error(filename, node.sourceline, ident, "开始事件没有流出的顺序流：流程开始后什么也不会执行")
        elif not incoming[ident] and node.get("isForCompensation") != "true" and not _link_catch(node):
            if tag == "subProcess" and node.get("triggeredByEvent") == "true":
                continue
            report.error(
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
                    report.error(
                        filename,
                        flow.sourceline,
                        flow.get("id"),
                        f"排他网关 {ident} 的分支 {flow.get('id')} 既没有条件也不是默认分支："
                        "请设置条件，或在网关上设 default",
                    )


def _link_catch(node) -> bool:
    return local(node.tag) == "intermediateCatchEvent" and node.find(f"{{{BPMN_NS}}}linkEventDefinition") is not None


def _check_vendor_extensions(root, filename: str, report: Report) -> None:
    for ext in root.iter(f"{{{BPMN_NS}}}extensionElements"):
        owner = ext.getparent()
        for child in ext:
            if not isinstance(child.tag, str) or namespace(child.tag) not in (*dialect.VENDOR_NS, dialect.ZEEBE_NS):
                continue
            what = IGNORED_VENDOR.get(local(child.tag))
            if what is None or (local(child.tag) == "inputOutput" and local(owner.tag) == "serviceTask"):
                continue
            prefix = dialect.VENDOR_PREFIX.get(namespace(child.tag), "")
            report.warn(
                filename,
                child.sourceline,
                owner.get("id"),
                f"已忽略 {prefix}:{local(child.tag)}（{what}）：oaflow 不执行 Java 代码或引擎专有映射",
            )


# --- one process: expressions, timers, forms, assignees, variables ------------------------------------


def check_model(
    model: ProcessModel,
    tree: etree._ElementTree,
    form_schemas: dict[str, dict],
    report: Report,
    org: tuple[set[str], set[str]] | None = None,
) -> None:
    """Expressions compile, forms exist, assignee rules resolve; generate fields for variables no step
    provides. `org` is (role names, usernames) when a database is at hand; without it roles go unchecked."""
    from engine.process.definitions import check_rule

    compiled: list[tuple[str, int | None, str, str, ast.Expression]] = []
    for element, line, kind, text in model.expressions:
        try:
            if kind == "script":
                compile_script(text)
            else:
                compiled.append((element, line, kind, text, compile_expression(text)))
        except ExpressionError as exc:
            what = {
                "script": "脚本任务不符合安全求值器",
                "condition": "条件表达式不安全或无法解析",
                "collection": "多实例的集合（collection / loopDataInputRef）必须是变量名",
            }.get(kind, f"多实例 {kind} 表达式无法解析")
            report.error(model.file, line, element, f"{what}：{exc}")
    _check_timers(model, tree, report)
    _check_forms(model, form_schemas, report)
    for node in model.nodes.values():
        for rule in node.assignee + node.cc:
            reason = check_rule(rule)
            if reason:
                report.error(model.file, node.line, node.id, reason)
            elif org is not None:
                _check_org(model, node, rule, org, report)
        if node.type == "userTask":
            for reason in policy.problems(node, set(model.nodes)):
                report.error(model.file, node.line, node.id, reason)
    _check_variables(model, tree, form_schemas, compiled, report)


def _check_timers(model: ProcessModel, tree, report: Report) -> None:
    process = _process_element(tree, model.key)
    if process is None:
        return
    for tag in dialect.TIMER_TAGS:
        for element in process.iter(f"{{{BPMN_NS}}}{tag}"):
            owner = element.getparent().getparent()
            text = (element.text or "").strip()
            if not text:
                report.error(model.file, element.sourceline, owner.get("id"), f"计时器 {tag} 为空")
                continue
            literal = dialect.timer_literal(text)
            try:
                if literal.startswith("'"):
                    _parse_timer(tag, literal.strip("'"))
                elif _LOOKS_ISO.match(literal):
                    raise ValueError("不是有效的 ISO-8601 值")
                else:
                    compile_expression(literal)
            except (ExpressionError, ValueError, TypeError, AttributeError) as exc:
                report.error(
                    model.file,
                    element.sourceline,
                    owner.get("id"),
                    f"计时器 {tag} 的值 '{text}' 无法识别（应为 ISO-8601，如 PT5M、R3/PT10M、2026-01-01T09:00）：{exc}",
                )


# A bare value that was meant as ISO-8601 but is not valid (PT5X, P1Q …), rather than a variable name.
_LOOKS_ISO = re.compile(r"^([+-]?(R\d*/)?P[\dA-Z.,/]*|\d[\d\-:T.Z+]*)$", re.I)


def _parse_timer(tag: str, value: str) -> None:
    try:
        if tag == "timeCycle":
            TimerEventDefinition.parse_iso_recurring_interval(value)
        elif tag == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
        else:
            TimerEventDefinition.parse_time_or_duration(value)
    except Exception as exc:  # the library raises bare Exception("Invalid duration")
        raise ValueError(str(exc)) from None


def _process_element(tree, key: str):
    for process in tree.getroot().iter(f"{{{BPMN_NS}}}process"):
        if process.get("id") == key:
            return process
    return None


def _check_forms(model: ProcessModel, form_schemas: dict[str, dict], report: Report) -> None:
    for node in model.nodes.values():
        if not node.form or node.form in form_schemas:
            continue
        if node.properties.get("form"):
            report.error(model.file, node.line, node.id, f"找不到表单 '{node.form}'（应为 forms/{node.form}.json）")
        else:
            report.warn(
                model.file,
                node.line,
                node.id,
                f"表单 '{node.form}' 不是 oaflow 的 JSON 表单（Camunda/Flowable 表单不会显示），已忽略",
            )
            node.form = None
    if model.start_form and model.start_form not in form_schemas:
        if model.properties.get("start_form") or _native_start_form(model):
            report.error(model.file, model.line, model.key, f"找不到开始表单 '{model.start_form}'")
        else:
            model.start_form = None


def _native_start_form(model: ProcessModel) -> bool:
    return any(n.type == "startEvent" and n.properties.get("form") for n in model.nodes.values())


def _check_org(model: ProcessModel, node, rule: str, org: tuple[set[str], set[str]], report: Report) -> None:
    roles, users = org
    kind, _, arg = rule.split(" if ", 1)[0].partition(":")  # a rule may carry a condition: `role:X if …`
    arg = arg.strip()
    if kind == "role" and arg not in roles:
        report.warn(model.file, node.line, node.id, f"角色 '{arg}' 不存在：运行时找不到审批人，将转交流程管理员")
    elif kind == "user" and ("${" in arg or "#{" in arg):
        report.warn(model.file, node.line, node.id, f"审批人表达式 '{arg}' 无法解析：运行时将转交流程管理员")
    elif kind == "user" and arg not in users:
        report.warn(model.file, node.line, node.id, f"用户 '{arg}' 不存在：运行时将转交流程管理员")


# --- variables no form or earlier step provides ---------------------------------------------------------


def _provided(model: ProcessModel, tree, form_schemas: dict[str, dict]) -> set[str]:
    names = set(BUILTIN_VARIABLES)
    for form_name in {n.form for n in model.nodes.values() if n.form} | {model.start_form} - {None}:
        names |= set(form_schemas.get(form_name, {}).get("properties", {}))
    for _element, _line, kind, text in model.expressions:
        if kind == "script":
            try:
                names |= {name for name, _ in compile_script(text)}
            except ExpressionError:
                pass
    process = _process_element(tree, model.key)
    if process is not None:
        for element in process.iter(f"{{{BPMN_NS}}}*"):
            names |= set(dialect.output_variables(element))
            if local(element.tag) in {"inputDataItem", "outputDataItem"}:
                names |= {element.get("name"), element.get("id")} - {None}
            if local(element.tag) == "loopDataOutputRef" and element.text:
                names.add(element.text.strip())
            if local(element.tag) == "multiInstanceLoopCharacteristics":
                names |= {dialect.vendor_attr(element, "elementVariable") or ""} - {""}
            if local(element.tag) in {"intermediateCatchEvent", "receiveTask", "boundaryEvent"}:
                if element.find(f".//{{{BPMN_NS}}}messageEventDefinition") is not None or element.get("messageRef"):
                    names.add("*message*")
    return names


def _check_variables(model, tree, form_schemas, compiled, report: Report) -> None:
    provided = _provided(model, tree, form_schemas)
    messages_may_provide = "*message*" in provided
    process = _process_element(tree, model.key)
    flows = {f.get("id"): f for f in process.iter(f"{{{BPMN_NS}}}sequenceFlow")} if process is not None else {}
    wanted: dict[str, dict] = {}  # variable → {"provider": node id | None, "hints": [...], "line", "element"}
    for element, line, kind, _text, tree_ in compiled:
        hints = _type_hints(tree_)
        if kind == "collection":
            hints = {name: ("list", None) for name in variable_names(tree_)}
        for name in variable_names(tree_):
            if name in provided:
                continue
            source = flows[element].get("sourceRef") if kind == "condition" and element in flows else element
            entry = wanted.setdefault(
                name, {"sources": [], "hints": [], "line": line, "element": element, "before": kind == "collection"}
            )
            entry["sources"].append(source)
            entry["hints"].append(hints.get(name))
    for name, entry in wanted.items():
        # A multi-instance collection must be known before the task starts: look before the task itself.
        provider = _provider(model, process, entry["sources"][0], before=entry["before"])
        placed = _place_field(model, form_schemas, provider, name, entry["hints"], required=True)
        suffix = "（消息的内容可能提供它）" if messages_may_provide else ""
        where = _where(model, provider, placed)
        report.warn(
            model.file,
            entry["line"],
            entry["element"],
            f"表达式引用的变量 '{name}' 没有任何表单字段或前序步骤提供{suffix}：{where}",
        )
    start = _top_start(model, process)
    for node in model.nodes.values():
        for rule in node.assignee:
            kind, _, var = rule.split(" if ", 1)[0].strip().partition(":")
            if kind != "field" or var in provided:
                continue
            placed = _place_field(model, form_schemas, start, var, [("user", None)], required=False)
            report.warn(
                model.file,
                node.line,
                node.id,
                f"审批人变量 '{var}' 没有表单字段提供：{_where(model, start, placed, user=True)}",
            )
            provided.add(var)


def _where(model, provider: str | None, placed: bool, *, user: bool = False) -> str:
    if placed:
        node = model.nodes.get(provider)
        is_start = node is not None and node.type == "startEvent"
        label = "发起表单" if is_start else f"“{node.name if node else provider}”的表单"
        if user:
            return f"已在{label}中加入选人字段（留空则转交流程管理员）"
        return f"已在{label}中加入该字段"
    node = model.nodes.get(provider) if provider else None
    if node is not None and node.external:
        return f"将由外部任务“{node.name}”完成时提交的数据提供"
    if node is not None and node.type in {"receiveTask", "intermediateCatchEvent"}:
        return f"将由“{node.name or node.id}”收到的消息内容提供"
    return "运行到这里时若仍没有该变量，流程会报错"


def _type_hints(tree: ast.AST) -> dict[str, tuple[str, object]]:
    """name → (kind, literal) guessed from how the expression uses the name."""
    hints: dict[str, tuple[str, object]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and len(node.comparators) == 1:
            left, right = node.left, node.comparators[0]
            for name_node, other in ((left, right), (right, left)):
                if isinstance(name_node, ast.Name) and isinstance(other, ast.Constant) and other.value is not None:
                    value = other.value
                    kind = "boolean" if isinstance(value, bool) else "string" if isinstance(value, str) else "number"
                    hints.setdefault(name_node.id, (kind, value))
    boolean_spots: list[ast.AST] = [tree.body] if isinstance(tree, ast.Expression) else []
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp):
            boolean_spots += node.values
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            boolean_spots.append(node.operand)
        elif isinstance(node, ast.IfExp):
            boolean_spots.append(node.test)
    for spot in boolean_spots:
        if isinstance(spot, ast.Name):
            hints.setdefault(spot.id, ("boolean", None))
    return hints


def _provider(model: ProcessModel, process, source: str | None, *, before: bool = False) -> str | None:
    """The nearest step upstream of `source` whose completion could supply a variable."""
    if process is None or source is None:
        return None
    incoming: dict[str, list[str]] = {}
    parent_of: dict[str, str] = {}
    attached: dict[str, str] = {}
    for container in [process, *process.iter(f"{{{BPMN_NS}}}subProcess", f"{{{BPMN_NS}}}transaction")]:
        for child in _children(container):
            if local(child.tag) == "sequenceFlow":
                incoming.setdefault(child.get("targetRef"), []).append(child.get("sourceRef"))
            elif child.get("id"):
                if container is not process:
                    parent_of[child.get("id")] = container.get("id")
                if local(child.tag) == "boundaryEvent" and child.get("attachedToRef"):
                    attached[child.get("id")] = child.get("attachedToRef")
    catches = {
        el.get("id")
        for el in process.iter(f"{{{BPMN_NS}}}receiveTask", f"{{{BPMN_NS}}}intermediateCatchEvent")
        if el.get("messageRef") or el.find(f"{{{BPMN_NS}}}messageEventDefinition") is not None
    }
    queue, seen = [source], set()
    while queue:
        current = queue.pop(0)
        if current in seen or current is None:
            continue
        seen.add(current)
        node = model.nodes.get(current)
        looking = not (before and current == source)
        if looking and node is not None and (node.type == "userTask" or node.external or current in catches):
            return current
        if node is not None and node.type == "startEvent":
            if current not in parent_of:
                return current
            queue.append(parent_of[current])  # a subprocess's start: look before the subprocess
            continue
        queue += incoming.get(current, [])
        if current in attached:
            queue.append(attached[current])
    return None


def _top_start(model: ProcessModel, process) -> str | None:
    if process is None:
        return None
    for child in _children(process):
        if local(child.tag) == "startEvent":
            return child.get("id")
    return None


def _place_field(model, form_schemas, provider: str | None, name: str, hints: Iterable, *, required: bool) -> bool:
    """Add `name` to the provider's generated form (never to a designer's own JSON form)."""
    node = model.nodes.get(provider) if provider else None
    if node is None or node.external or node.type not in {"userTask", "startEvent"}:
        return False
    if node.type == "startEvent" and model.start_form and not model.start_form.startswith("auto:"):
        return False
    if node.form and not node.form.startswith("auto:"):
        return False
    if not _field_name_ok(name):
        return False
    form_name = node.form or generated_form_name(model.key, node.id)
    schema = form_schemas.get(form_name) or model.forms.get(form_name) or {"type": "object", "properties": {}}
    schema = {**schema, "properties": dict(schema.get("properties", {}))}
    schema["properties"][name] = _field_for(name, [h for h in hints if h])
    if required:
        schema["required"] = [*schema.get("required", []), name]
    model.forms[form_name] = schema
    form_schemas[form_name] = schema
    node.form = form_name
    if node.type == "startEvent":
        model.start_form = form_name
    return True


def _field_name_ok(name: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9_]*$", name))


def _field_for(name: str, hints: list[tuple[str, object]]) -> dict:
    kinds = [kind for kind, _ in hints]
    if "user" in kinds:
        return {"type": "string", "title": name, "x-widget": "user"}
    if "list" in kinds:
        return {"type": "array", "title": name, "items": {"type": "string"}, "minItems": 1}
    if kinds and all(k == "boolean" for k in kinds):
        return {"type": "boolean", "title": name}
    strings = [value for kind, value in hints if kind == "string"]
    if strings and len(strings) == len(hints):
        return {"type": "string", "title": name, "enum": list(dict.fromkeys(strings))}
    numbers = [value for kind, value in hints if kind == "number"]
    if numbers and len(numbers) == len(hints):
        kind = "integer" if all(isinstance(v, int) for v in numbers) else "number"
        return {"type": kind, "title": name, "examples": list(dict.fromkeys(numbers))}
    return {"type": "string", "title": name}


# --- SpiffWorkflow's own messages, in the users' language ----------------------------------------------

_SPIFF_MESSAGES = [
    (r"No start event found", "流程没有开始事件"),
    (
        r"Exactly one start event is required in a SubWorkflow Task; found (\d+)",
        r"子流程必须有且只有一个开始事件（找到 \1 个）",
    ),
    (r"A SubWorkflow Must contain an End event", "子流程必须包含结束事件"),
    (r"Multiple outgoing flows are not supported", "该类型的节点不支持多条流出的顺序流，请在其后加网关"),
    (r"A loopMaximum or loopCondition must be specified", "循环任务必须设置 loopMaximum 或 loopCondition"),
    (r"Cancel Events may only be used with transactions", "取消事件只能用在事务子流程上"),
    (r"A multiinstance task must specify", "多实例任务必须且只能设置 loopCardinality 或 loopDataInputRef 之一"),
    (r"There is no support implemented for this task type", "不支持该类型的节点"),
    (r"No DMN Diagram available", "业务规则任务需要 DMN 决策表，oaflow 暂不支持"),
    (r"The process '([^']+)' was not found", r"调用的流程 '\1' 不在本次部署的文件中：请把它的 BPMN 文件一起上传"),
]


def spiff_message(message: str) -> str:
    for pattern, chinese in _SPIFF_MESSAGES:
        found = re.search(pattern, message)
        if found:
            return found.expand(chinese)
    return message
