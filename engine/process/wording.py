"""Process definitions in an administrator's words: an assignee rule as "发起人的部门负责人" or "业务部负责人"
instead of `leader:1` or `dept_leader:业务部` (the grammar is engine.work.assignment's), and what changed
between two versions as old and new values — each node's name, assignee rules, readers, form and
properties, and each condition of the flows. Pure: the callers give the display names of users."""

from __future__ import annotations

import re

from engine.process.model import ProcessModel

_FIELD = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
LEADERS_UP = {1: "发起人的部门负责人", 2: "发起人的分管领导（上两级领导）"}
# What a node property is called on the version pages; the others show their own name.
PROPERTY_LABELS = {
    "sign_mode": "审批方式",
    "operations": "允许的操作",
    "on_reject": "不同意时",
    "resubmit": "退回后重新提交",
    "time_limit": "办理时限",
    "empty_assignee": "找不到审批人时",
    "batch": "允许批量审批",
    "doc_no": "文号",
    "form": "表单",
    "assignee": "审批人",
    "cc": "知会",
}


def rule_in_words(rule: str, names: dict[str, str] | None = None) -> str:
    """One assignee (or 知会) rule as a clerk says it; `names`: display names by username. An unknown rule
    shows as written."""
    kind, _, arg = rule.strip().partition(":")
    arg = arg.strip()
    if kind == "leader":
        levels = int(arg) if arg.isdigit() and int(arg) > 0 else 1
        return LEADERS_UP.get(levels, f"发起人的上 {levels} 级领导")
    if kind == "dept_leader" and arg:
        found = _FIELD.match(arg)
        return f"表单字段“{found.group(1)}”所选部门的负责人" if found else f"{arg}负责人"
    if kind == "role" and arg:
        return f"{arg}（角色）"
    if kind == "user" and arg:
        name = (names or {}).get(arg)
        return f"{name}（{arg}）" if name else arg
    if kind == "field" and arg:
        return f"表单字段“{arg}”中选择的人"
    if kind == "initiator" and not arg:
        return "发起人"
    if kind == "admin" and not arg:
        return "流程管理员"
    return rule


def rules_in_words(rules: list[str], names: dict[str, str] | None = None) -> str:
    return "、".join(rule_in_words(rule, names) for rule in rules)


def usernames_in(models) -> set[str]:
    """The users the models' rules name (`user:…`), for the caller to look up their display names."""
    return {
        rule.partition(":")[2].strip()
        for model in models
        for node in model.nodes.values()
        for rule in [*node.assignee, *node.cc]
        if rule.strip().startswith("user:")
    }


def _node_label(node) -> str:
    return f"“{node.name}”（{node.id}）" if node.name and node.name != node.id else node.id


def _values(node, names) -> dict[str, str]:
    values = {
        "名称": node.name or "",
        "审批人": rules_in_words(node.assignee, names),
        "知会": rules_in_words(node.cc, names),
        "表单": node.form or "",
    }
    for key, value in node.properties.items():
        if key not in ("assignee", "cc", "form"):
            values[PROPERTY_LABELS.get(key, key)] = str(value)
    return values


def changes(old: ProcessModel, new: ProcessModel, names: dict[str, str] | None = None) -> list[dict]:
    """Every changed value of a node both versions have, and every changed, added or removed condition:
    [{"node", "what", "old", "new"}], "" for a value one side lacks."""
    found = []
    for ident in sorted(old.nodes.keys() & new.nodes.keys()):
        before, after = _values(old.nodes[ident], names), _values(new.nodes[ident], names)
        for what in [*before, *[k for k in after if k not in before]]:
            if before.get(what, "") != after.get(what, ""):
                found.append(
                    {
                        "node": _node_label(new.nodes[ident]),
                        "what": what,
                        "old": before.get(what, ""),
                        "new": after.get(what, ""),
                    }
                )
    conditions = [
        {(element, kind): text for element, _line, kind, text in model.expressions if kind == "condition"}
        for model in (old, new)
    ]
    for element, kind in sorted(conditions[0].keys() | conditions[1].keys()):
        before, after = conditions[0].get((element, kind), ""), conditions[1].get((element, kind), "")
        if before != after:
            found.append({"node": element, "what": "条件", "old": before, "new": after})
    return found
