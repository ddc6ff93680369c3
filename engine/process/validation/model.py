"""One process's node model: what SpiffWorkflow would only find when a step is reached.

Expressions and scripts must pass the safe evaluator, timers must be ISO-8601 values or expressions, named
forms must exist, assignee rules must parse (and name existing roles and users when the organisation is at
hand), approval policies must be coherent. Last, variables that conditions read but nothing provides get
form fields (missing_variables), which is why this check runs after the forms are known.
"""

from __future__ import annotations

import ast
import re

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.process import dialect, policy
from engine.process.bpmn import BPMN_NS
from engine.process.expressions import ExpressionError, check_cardinality, compile_expression, compile_script
from engine.process.model import BUDGET_MODES, BUDGET_ROLES, ProcessModel
from engine.process.timer_values import period_problem
from engine.process.validation.assignees import check_against_org, check_rule
from engine.process.validation.elements import process_element
from engine.process.validation.missing_variables import check_variables, provided_variables
from engine.process.validation.report import Report


def check_model(
    model: ProcessModel,
    tree: etree._ElementTree,
    form_schemas: dict[str, dict],
    report: Report,
    org: tuple[set[str], set[str]] | None = None,
) -> None:
    """Expressions compile, forms exist, assignee rules resolve; generate fields for variables no step
    provides. `org` is (role names, usernames) when a database is at hand; without it roles go unchecked."""
    compiled: list[tuple[str, int | None, str, str, ast.Expression]] = []
    for element, line, kind, text in model.expressions:
        try:
            if kind == "script":
                for _name, step in compile_script(text):  # what each line reads must be there when it runs
                    compiled.append((element, line, kind, step, compile_expression(step)))
            else:
                parsed = compile_expression(text)
                if kind == "loopCardinality":
                    _check_cardinality(parsed)
                compiled.append((element, line, kind, text, parsed))
        except ExpressionError as exc:
            what = {
                "script": "脚本任务不符合安全求值器",
                "condition": "条件表达式不安全或无法解析",
                "collection": "多实例的集合（collection / loopDataInputRef）必须是变量名",
                "loopCardinality": "多实例数量（loopCardinality）不可用",
                "loopCondition": "循环条件（loopCondition）不安全或无法解析",
                "loopConditionBefore": "循环条件（loopCondition）不安全或无法解析",
                "correlation": "消息关联的取值表达式（correlationPropertyRetrievalExpression）无法解析",
            }.get(kind, f"多实例 {kind} 表达式无法解析")
            report.error(model.file, line, element, f"{what}：{exc}")
    _check_timers(model, tree, report, compiled)
    _check_forms(model, form_schemas, report)
    for node in model.nodes.values():
        for rule in node.assignee + node.cc:
            reason = check_rule(rule)
            if reason:
                report.error(model.file, node.line, node.id, reason)
            elif org is not None:
                check_against_org(model, node, rule, org, report)
        if node.type == "userTask":
            form = form_schemas.get(node.form) if node.form else None
            for reason in policy.problems(node, set(model.nodes)) + policy.batch_problems(node, form):
                report.error(model.file, node.line, node.id, reason)
        if node.type == "endEvent":
            for reason in policy.end_problems(node):
                report.error(model.file, node.line, node.id, reason)
    _check_doc_prefix(model, tree, form_schemas, report)
    _check_budget(model, form_schemas, report)
    check_variables(model, tree, form_schemas, compiled, report)


def _check_doc_prefix(model: ProcessModel, tree, form_schemas: dict[str, dict], report: Report) -> None:
    """A node that allocates the 发文字号 needs the 机关代字: some step must provide `doc_prefix`."""
    allocating = [n for n in model.nodes.values() if n.type == "userTask" and policy.policy_of(n).allocates_doc_no]
    if not allocating:
        return
    provided = provided_variables(model, tree, form_schemas)
    if "doc_prefix" in provided or "*message*" in provided:
        return
    for node in allocating:
        report.error(
            model.file,
            node.line,
            node.id,
            "doc_no=allocate 需要机关代字：请在表单中加入字段 doc_prefix（例如 示例办发），或由数据提供 doc_prefix",
        )


def _check_budget(model: ProcessModel, form_schemas: dict[str, dict], report: Report) -> None:
    """`budget` is refuse or warn, and its start form marks the claim's department, category and amount."""
    value = model.properties.get("budget")
    if value is None:
        return
    if model.budget_mode is None:
        report.error(model.file, None, model.key, f"budget 只能是 {' 或 '.join(BUDGET_MODES)}（不是 '{value}'）")
        return
    props = form_schemas.get(model.start_form or "", {}).get("properties", {})
    marked = {p.get("x-budget") for p in props.values() if isinstance(p, dict)}
    missing = [role for role in BUDGET_ROLES if role not in marked]
    if missing:
        report.error(
            model.file,
            None,
            model.key,
            f"budget 需要开始表单用 x-budget 标出字段：{'、'.join(missing)}（部门名称、费用类型、报销金额）",
        )


def _check_cardinality(tree: ast.Expression) -> None:
    """A literal loopCardinality must be within the limit; a computed one is held to it at run time."""
    try:
        value = ast.literal_eval(tree)
    except (ValueError, SyntaxError, TypeError):
        return
    check_cardinality(value)


def _check_timers(model: ProcessModel, tree, report: Report, compiled: list) -> None:
    """Timer values are ISO-8601 or expressions; an expression is added to `compiled`, so the variables it
    reads are looked for like a condition's."""
    process = process_element(tree, model.key)
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
            constant = _string_constant(literal)
            try:
                if constant is not None:
                    _parse_timer(tag, constant)
                elif _LOOKS_ISO.match(literal):
                    raise ValueError("不是有效的 ISO-8601 值")
                else:
                    compiled.append(
                        (owner.get("id"), element.sourceline, "timer", literal, compile_expression(literal))
                    )
            except (ExpressionError, ValueError, TypeError, AttributeError) as exc:
                report.error(
                    model.file,
                    element.sourceline,
                    owner.get("id"),
                    f"计时器 {tag} 的值 '{text}' 无法识别（应为 ISO-8601，如 PT5M、R3/PT10M、2026-01-01T09:00）：{exc}",
                )
                continue
            problem = period_problem(tag, constant) if constant is not None else None
            if problem:
                report.error(
                    model.file, element.sourceline, owner.get("id"), f"计时器 {tag} 的值 '{text}' 不可用：{problem}"
                )


def _string_constant(literal: str) -> str | None:
    """The string a timer expression is when it is a quoted literal ('PT5M', "R/PT0S"), else None."""
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) else None


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
