"""Assignee rules at deploy time: is each rule well formed, and do the roles and users it names exist.

The rules are resolved at run time by engine/work/assignment.py; here they are only read, so a typo is
refused when the file is deployed rather than discovered when a request reaches the step. The syntax check
needs no database; the name check runs only when the organisation is at hand, and only warns, because an
unknown name falls back to the process administrator at run time.
"""

from __future__ import annotations

from engine.process.expressions import ExpressionError, compile_expression
from engine.process.model import ProcessModel
from engine.process.validation.report import Report

# The rule kinds engine/work/assignment.py knows how to resolve.
ASSIGNEE_KINDS = {"role", "leader", "user", "initiator", "field", "dept_leader", "admin"}


def check_rule(rule: str) -> str | None:
    """None when the assignment rule is well formed, else the reason."""
    rule, _, condition = rule.partition(" if ")
    if condition:
        try:
            compile_expression(condition)
        except ExpressionError as exc:
            return f"审批人规则的条件无效：{exc}"
    kind, _, arg = rule.strip().partition(":")
    if kind not in ASSIGNEE_KINDS:
        return f"未知的审批人规则 '{rule}'（可用：{', '.join(sorted(ASSIGNEE_KINDS))}）"
    if kind in {"role", "user", "field", "dept_leader"} and not arg.strip():
        return f"审批人规则 '{rule}' 缺少参数，例如 {kind}:名称"
    if kind == "leader" and arg and not (arg.isdigit() and 1 <= int(arg) <= 10):
        return f"审批人规则 '{rule}' 的层级必须是 1 到 10 的整数"
    return None


def check_against_org(model: ProcessModel, node, rule: str, org: tuple[set[str], set[str]], report: Report) -> None:
    """Warn when a well-formed rule names a role or user that does not exist: it would fall back to the
    process administrator at run time, which deploys but is rarely what the designer meant."""
    roles, users = org
    kind, _, arg = rule.split(" if ", 1)[0].partition(":")  # a rule may carry a condition: `role:X if …`
    arg = arg.strip()
    if kind == "role" and arg not in roles:
        report.warn(model.file, node.line, node.id, f"角色 '{arg}' 不存在：运行时找不到审批人，将转交流程管理员")
    elif kind == "user" and ("${" in arg or "#{" in arg):
        report.warn(model.file, node.line, node.id, f"审批人表达式 '{arg}' 无法解析：运行时将转交流程管理员")
    elif kind == "user" and arg not in users:
        report.warn(model.file, node.line, node.id, f"用户 '{arg}' 不存在：运行时将转交流程管理员")
