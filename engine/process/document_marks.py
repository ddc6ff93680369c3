"""密级 and 紧急程度: the two form keywords that carry the rules of official documents (公文).

`"x-secrecy": true` marks a field as the document's 密级. A classified document (秘密, 机密, 绝密, with or
without its 保密期限 such as 机密★10年) must not be processed in a networked office system
(《党政机关公文处理工作条例》): forms.validate refuses such a value wherever form data is saved — 发起, a
message start, every step's submission, 重新提交 — naming the field, before anything is stored.

`"x-urgency": true` marks the 紧急程度 field: 特急, 加急 and 平件 set the instance's priority 紧急, 重要 and
正常, whose deadlines are 1, 2 and 3 working days. The kernel applies it at 发起 and whenever a step's
form changes the value (engine.work.kernel.form_data.priority).
"""

from __future__ import annotations

from engine.errors import FieldError

SECRECY = "x-secrecy"
URGENCY = "x-urgency"
CLASSIFIED = ("秘密", "机密", "绝密")
SECRECY_REFUSED = "涉密公文不得在本系统中处理，请按纸质文件流转"
URGENCY_PRIORITY = {"特急": "紧急", "加急": "重要", "平件": "正常"}


def _marked(schema: dict, keyword: str) -> list[str]:
    return [name for name, prop in schema.get("properties", {}).items() if prop.get(keyword) is True]


def is_classified(value) -> bool:
    """秘密 / 机密 / 绝密, also with a 保密期限 (机密★10年); 非密 and anything else is not."""
    return isinstance(value, str) and value.strip().startswith(CLASSIFIED)


def secrecy_errors(schema: dict, values: dict) -> list[FieldError]:
    """One error per 密级 field whose value marks a classified document."""
    return [FieldError(name, SECRECY_REFUSED) for name in _marked(schema, SECRECY) if is_classified(values.get(name))]


def priority_of(schema: dict, values: dict) -> str | None:
    """The priority the form's 紧急程度 field asks for, or None when the form has none (or it is empty)."""
    for name in _marked(schema, URGENCY):
        found = URGENCY_PRIORITY.get(values.get(name))
        if found is not None:
            return found
    return None


def problems(schema: dict) -> list[tuple[str, str]]:
    """(field, message) for each misused keyword, for deploy-time validation."""
    found = []
    props = schema.get("properties", {})
    for keyword in (SECRECY, URGENCY):
        for name, prop in props.items():
            if keyword in prop and prop[keyword] is not True:
                found.append((name, f"字段 '{name}' 的 {keyword} 只能是 true"))
            elif prop.get(keyword) is True and prop.get("type", "string") != "string":
                found.append((name, f"字段 '{name}' 带有 {keyword}，类型必须是 string"))
    urgency = _marked(schema, URGENCY)
    if len(urgency) > 1:
        found.append((urgency[1], f"一个表单只能有一个紧急程度字段（x-urgency），现有：{'、'.join(urgency)}"))
    allowed = "、".join(URGENCY_PRIORITY)
    for name in urgency:
        unknown = "、".join(str(v) for v in props[name].get("enum", []) if v not in URGENCY_PRIORITY)
        if unknown:
            found.append((name, f"紧急程度字段 '{name}' 的选项只能是 {allowed}，不认识：{unknown}"))
    return found
