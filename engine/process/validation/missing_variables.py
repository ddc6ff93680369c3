"""Variables that expressions read but no form field or earlier step provides.

Rather than refuse such a process, oaflow adds the missing field to the generated form of the nearest step
upstream that could supply it (never to a designer's own JSON form), typed from how the expression uses the
name, and warns. When no step can take the field, the warning says who else may provide it (external work,
a message) or that the flow will fail if the variable is still missing when the step is reached. A
`field:` assignee rule without a field gets a user picker on the start form, optional: left empty, the step
goes to the process administrator.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from engine.process import dialect
from engine.process.bpmn import BPMN_NS, local
from engine.process.expressions import ExpressionError, compile_expression, compile_script, variable_names
from engine.process.model import BUDGET_FLAG, ProcessModel, generated_form_name
from engine.process.multi_instance import MULTI_INSTANCE_VARIABLES
from engine.process.validation.elements import bpmn_children, process_element
from engine.process.validation.report import Report
from engine.process.validation.variable_paths import check_paths

# Camunda's multi-instance variables: the engine provides them to expressions on a multi-instance task and
# its instances (engine/process/multi_instance.py).
BUILTIN_VARIABLES = {"approved", "decision", "initiator", "priority", *MULTI_INSTANCE_VARIABLES}
# What a decision sets (同意/不同意): there only after a step someone decides.
DECISIONS = {"approved", "decision"}
# Expressions whose value is a yes or no: a bare name there is a boolean.
CONDITIONS = {"condition", "completionCondition", "loopCondition", "loopConditionBefore"}
# Expressions evaluated before their element's own step runs: the value must come from a step before it.
BEFORE_THE_STEP = {"collection", "loopCardinality", "loopConditionBefore", "timer"}


def provided_variables(model: ProcessModel, tree, form_schemas: dict[str, dict]) -> set[str]:
    """The variables some step provides: form fields, script results, data items, outputs ('*message*': a
    message's payload may provide any)."""
    names = set(BUILTIN_VARIABLES)
    if model.budget_mode is not None:
        names.add(BUDGET_FLAG)  # set at 发起 and 重新提交 (engine.work.kernel.claims)
    for form_name in {n.form for n in model.nodes.values() if n.form} | {model.start_form} - {None}:
        names |= set(form_schemas.get(form_name, {}).get("properties", {}))
    for _element, _line, kind, text in model.expressions:
        if kind == "script":
            try:
                names |= {name for name, _ in compile_script(text)}
            except ExpressionError:
                pass
    process = process_element(tree, model.key)
    if process is not None:
        for element in process.iter(f"{{{BPMN_NS}}}*"):
            names |= set(dialect.output_variables(element))
            if local(element.tag) in {"inputDataItem", "outputDataItem"}:
                names |= {element.get("name"), element.get("id")} - {None}
            if local(element.tag) == "loopDataOutputRef" and element.text:
                names.add(element.text.strip())
            if local(element.tag) == "multiInstanceLoopCharacteristics":
                names |= {(dialect.loop_collection(element) or ("", ""))[1] or ""} - {""}
            if local(element.tag) in {"intermediateCatchEvent", "receiveTask", "boundaryEvent"}:
                if element.find(f".//{{{BPMN_NS}}}messageEventDefinition") is not None or element.get("messageRef"):
                    names.add("*message*")
    return names


def check_variables(model, tree, form_schemas, compiled, report: Report) -> None:
    """One warning per variable that the compiled expressions, or a `field:` assignee rule, read but nothing
    provides; the field is added to a generated form where one can take it (`model` and `form_schemas` change)."""
    provided = provided_variables(model, tree, form_schemas)
    messages_may_provide = "*message*" in provided
    process = process_element(tree, model.key)
    flows = {f.get("id"): f for f in process.iter(f"{{{BPMN_NS}}}sequenceFlow")} if process is not None else {}
    always = BUILTIN_VARIABLES | ({BUDGET_FLAG} if model.budget_mode is not None else set())
    reads = [*compiled, *_rule_conditions(model)]
    check_paths(model, process, form_schemas, reads, provided - {"*message*"}, always, report)
    wanted: dict[str, dict] = {}  # variable → {"provider": node id | None, "hints": [...], "line", "element"}
    for element, line, kind, _text, tree_ in compiled:
        hints = _type_hints(tree_)
        if kind == "collection":
            hints = {name: ("list", None) for name in variable_names(tree_)}
        elif kind not in CONDITIONS and isinstance(tree_.body, ast.Name):  # a bare value, not a yes/no
            hints.pop(tree_.body.id, None)
        if kind in {"loopCardinality", "timer"} and isinstance(tree_.body, ast.Name):  # the whole value
            hints = {tree_.body.id: ("count", 2) if kind == "loopCardinality" else ("duration", "PT1H")}
        for name in variable_names(tree_):
            source = flows[element].get("sourceRef") if kind == "condition" and element in flows else element
            if name in provided and not (name in DECISIONS and _undecided(model, process, source)):
                continue
            before = kind in BEFORE_THE_STEP
            if kind == "timer" and process is not None:  # a boundary timer starts with the task it is attached to
                source = _attached_to(process, element) or source
            entry = wanted.setdefault(
                name, {"sources": [], "hints": [], "line": line, "element": element, "before": before}
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
            if kind == "dept_leader" and var.startswith("{") and var.endswith("}"):
                if var[1:-1] not in provided:
                    report.warn(
                        model.file,
                        node.line,
                        node.id,
                        f"审批人规则 '{rule}' 引用的字段 '{var[1:-1]}' 没有表单字段提供：运行时找不到部门负责人",
                    )
                continue
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
    _check_rule_conditions(model, provided_variables(model, tree, form_schemas), report)


def _check_rule_conditions(model, provided: set[str], report: Report) -> None:
    """An assignee rule's condition (`user:lisi if amount > 10000`) is evaluated when its node opens, on
    the instance's data: every name it reads must be a form field or a variable an earlier step sets, or
    the node could not open. Refused at deploy rather than found when a request reaches the node."""
    for node in model.nodes.values():
        for rule in node.assignee + node.cc:
            _rule, _, condition = rule.partition(" if ")
            if not condition:
                continue
            try:
                names = variable_names(compile_expression(condition))
            except ExpressionError:
                continue  # the rule's syntax check reports it
            for name in names:
                if name not in provided:
                    report.error(
                        model.file,
                        node.line,
                        node.id,
                        f"审批人规则 '{rule}' 的条件使用了字段 '{name}'，但表单中没有这个字段，前序步骤也不提供它："
                        "请在发起表单（或前序步骤的表单）中加入该字段，或修改条件",
                    )


def _rule_conditions(model) -> list[tuple]:
    """An assignee or cc rule's condition, read as its step opens: (node, line, "rule", text, tree)."""
    found = []
    for node in model.nodes.values():
        for rule in node.assignee + node.cc:
            condition = rule.partition(" if ")[2]
            try:
                found.append((node.id, node.line, "rule", condition, compile_expression(condition)))
            except ExpressionError:
                continue  # the rule's syntax check reports it (or there is no condition)
    return found


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
        for child in bpmn_children(container):
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


def _undecided(model: ProcessModel, process, source: str | None) -> bool:
    """True when no step before `source` can have decided: only a start event (or nothing) lies upstream."""
    provider = _provider(model, process, source)
    node = model.nodes.get(provider) if provider else None
    return node is None or node.type == "startEvent"


def _attached_to(process, element_id: str) -> str | None:
    for boundary in process.iter(f"{{{BPMN_NS}}}boundaryEvent"):
        if boundary.get("id") == element_id:
            return boundary.get("attachedToRef")
    return None


def _top_start(model: ProcessModel, process) -> str | None:
    if process is None:
        return None
    for child in bpmn_children(process):
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
    if "count" in kinds:
        return {"type": "integer", "title": name, "minimum": 0, "examples": [2]}
    if "duration" in kinds:
        return {"type": "string", "title": name, "default": "PT1H", "description": "ISO-8601，例如 PT1H、P2D"}
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
