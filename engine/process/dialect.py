"""Camunda, Flowable/Activiti and Zeebe attributes, read the way oaflow understands them.

Files from Camunda Modeler, Flowable's designer or bpmn.io deploy unchanged: this module turns their
extension attributes into our node model (assignee rules, forms, external-work handler keys) and rewrites
the few things SpiffWorkflow would read differently (bare ISO-8601 timer values, `camunda:collection`
multi-instance) in the copy of the tree that SpiffWorkflow parses. The stored file is never rewritten here.
"""

from __future__ import annotations

import copy
import re

from lxml import etree

from engine.process import links, timer_values

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
FLOWABLE_NS = "http://flowable.org/bpmn"
ACTIVITI_NS = "http://activiti.org/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
VENDOR_NS = (CAMUNDA_NS, FLOWABLE_NS, ACTIVITI_NS)
VENDOR_PREFIX = {CAMUNDA_NS: "camunda", FLOWABLE_NS: "flowable", ACTIVITI_NS: "activiti", ZEEBE_NS: "zeebe"}

# Whole-expression JUEL variable: ${name} or #{name}.
JUEL_VAR = re.compile(r"^\s*[$#]\{\s*([A-Za-z_][\w]*)\s*\}\s*$")
# Flowable's and Activiti's spelling of "the user who started the instance".
INITIATOR_TOKENS = {"$INITIATOR", "${INITIATOR}", "${initiator}", "#{initiator}"}

# ISO-8601 timer values as designers write them: durations, repeating intervals, dates and date-times.
_NUM = r"\d+([.,]\d+)?"
_ISO_DURATION = rf"-?P(?=\d|T\d)({_NUM}Y)?({_NUM}M)?({_NUM}W)?({_NUM}D)?(T(?=\d)({_NUM}H)?({_NUM}M)?({_NUM}S)?)?"
_ISO_DATETIME = r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
ISO_TIMER = re.compile(
    rf"^(R\d*/({_ISO_DURATION}|{_ISO_DATETIME})(/({_ISO_DURATION}|{_ISO_DATETIME}))?|{_ISO_DURATION}|{_ISO_DATETIME})$",
    re.I,
)
TIMER_TAGS = ("timeDuration", "timeDate", "timeCycle")


def local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def namespace(tag) -> str:
    return (etree.QName(tag).namespace or "") if isinstance(tag, str) else ""


def vendor_attr(element, name: str) -> str | None:
    """`name` in the Camunda, Flowable or Activiti namespace (the first one present)."""
    for ns in VENDOR_NS:
        value = element.get(f"{{{ns}}}{name}")
        if value is not None:
            return value
    return None


def vendor_children(element, name: str) -> list:
    """Extension elements called `name` in any vendor namespace, directly under extensionElements."""
    ext = element.find(f"{{{BPMN_NS}}}extensionElements")
    if ext is None:
        return []
    return [child for child in ext if local(child.tag) == name and namespace(child.tag) in (*VENDOR_NS, ZEEBE_NS)]


def initiator_variable(process) -> str | None:
    """`camunda:initiator` / `flowable:initiator` on a start event: the variable naming the starter."""
    for start in process.iter(f"{{{BPMN_NS}}}startEvent"):
        value = vendor_attr(start, "initiator")
        if value:
            return value.strip()
    return None


def assignee_rules(element, initiator_var: str | None = None) -> list[str]:
    """Camunda/Flowable `assignee`, `candidateUsers`, `candidateGroups` as our assignment rules."""
    rules = []
    assignee = vendor_attr(element, "assignee")
    if assignee and assignee.strip():
        rules.append(_person_rule(assignee.strip(), initiator_var))
    for user in (vendor_attr(element, "candidateUsers") or "").split(","):
        if user.strip():
            rules.append(_person_rule(user.strip(), initiator_var))
    for group in (vendor_attr(element, "candidateGroups") or "").split(","):
        if group.strip():
            match = JUEL_VAR.match(group)
            rules.append(f"field:{match.group(1)}" if match else f"role:{group.strip()}")
    for zeebe in vendor_children(element, "assignmentDefinition"):
        if (zeebe.get("assignee") or "").strip():
            rules.append(_person_rule(_zeebe_value(zeebe.get("assignee")), initiator_var))
        for user in _zeebe_list(zeebe.get("candidateUsers")):
            rules.append(_person_rule(user, initiator_var))
        for group in _zeebe_list(zeebe.get("candidateGroups")):
            match = JUEL_VAR.match(group)
            rules.append(f"field:{match.group(1)}" if match else f"role:{group}")
    return rules


def _zeebe_value(value: str) -> str:
    """A Zeebe attribute as Camunda 7 would write it: `= name` (a FEEL variable) → `${name}`, a literal as is."""
    value = value.strip()
    if value.startswith("="):
        name = value[1:].strip()
        return f"${{{name}}}" if re.match(r"^[A-Za-z_]\w*$", name) else name.strip('"')
    return value


def _zeebe_list(value: str | None) -> list[str]:
    """`a, b`, `= "a, b"` or `= ["a", "b"]` → ["a", "b"]; `= name` → ["${name}"]."""
    text = (value or "").strip()
    if text.startswith("=") and not re.match(r"^=\s*[A-Za-z_]\w*\s*$", text):
        text = text[1:].strip().strip("[]")
        return [part.strip().strip('"') for part in text.split(",") if part.strip().strip('"')]
    if text.startswith("="):
        return [_zeebe_value(text)]
    return [part.strip() for part in text.split(",") if part.strip()]


def _person_rule(value: str, initiator_var: str | None) -> str:
    if value in INITIATOR_TOKENS:
        return "initiator"
    match = JUEL_VAR.match(value)
    if match:
        var = match.group(1)
        if var in {"initiator", "starter", "applicant"} or var == initiator_var:
            return "initiator"
        return f"field:{var}"
    return f"user:{value}"


def form_key(element) -> str | None:
    """`formKey` (Camunda/Flowable) or a Zeebe form definition."""
    key = vendor_attr(element, "formKey")
    if key:
        return key
    for zeebe in vendor_children(element, "formDefinition"):
        for attr in ("formKey", "formId"):
            if (zeebe.get(attr) or "").strip():
                return zeebe.get(attr).strip().removeprefix("camunda-forms:bpmn:")
    return None


# --- formData → JSON Schema ----------------------------------------------------------------------

_FIELD_TYPES = {
    "string": {"type": "string"},
    "long": {"type": "integer"},
    "integer": {"type": "integer"},
    "short": {"type": "integer"},
    "double": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
}


_EMPTY_ENUM = (
    "formField '{name}' 的类型是 enum，但没有任何选项（value）：没有可选的值，表单无法填写；请加入选项或改用其他类型"
)


class FormDataProblem(Exception):
    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def form_data_schema(element) -> dict | None:
    """Camunda `formData` (Flowable/Activiti `formProperty`) as a JSON Schema form; None when absent."""
    fields = []
    for form_data in vendor_children(element, "formData"):
        fields += [f for f in form_data if local(f.tag) == "formField"]
    properties: dict[str, dict] = {}
    required: list[str] = []
    for field in fields:
        _form_field(field, properties, required)
    for prop in vendor_children(element, "formProperty"):
        _form_property(prop, properties, required)
    if not properties:
        return None
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _form_field(field, properties: dict, required: list) -> None:
    name = (field.get("id") or "").strip()
    if not name:
        raise FormDataProblem(field.sourceline, "formField 缺少 id")
    kind = (field.get("type") or "string").strip()
    prop: dict = {"title": (field.get("label") or name).strip()}
    if kind == "enum":
        values = [v for v in field if local(v.tag) == "value"]
        if not [v for v in values if v.get("id")]:
            raise FormDataProblem(field.sourceline, _EMPTY_ENUM.format(name=name))
        prop.update(type="string", enum=[v.get("id") for v in values if v.get("id")])
        names = [v.get("name") or v.get("id") for v in values if v.get("id")]
        if names != prop["enum"]:
            prop["x-enum-titles"] = names
    elif kind in _FIELD_TYPES:
        prop.update(_FIELD_TYPES[kind])
    else:
        raise FormDataProblem(field.sourceline, f"formField '{name}' 的类型 '{kind}' 不受支持")
    default = field.get("defaultValue")
    if default is not None and not default.strip().startswith(("${", "#{")):
        prop["default"] = _typed(default, prop)
    for validation in [c for c in field if local(c.tag) == "validation"]:
        for constraint in [c for c in validation if local(c.tag) == "constraint"]:
            _constraint(name, constraint.get("name"), constraint.get("config"), prop, required)
    properties[name] = prop


def _form_property(field, properties: dict, required: list) -> None:
    """Flowable/Activiti `formProperty`: id, name, type, required, readable/writable."""
    name = (field.get("id") or "").strip()
    if not name:
        raise FormDataProblem(field.sourceline, "formProperty 缺少 id")
    kind = (field.get("type") or "string").strip()
    prop: dict = {"title": (field.get("name") or name).strip()}
    if kind == "enum":
        prop.update(type="string", enum=[v.get("id") for v in field if local(v.tag) == "value" and v.get("id")])
        if not prop["enum"]:
            raise FormDataProblem(field.sourceline, _EMPTY_ENUM.format(name=name))
    else:
        prop.update(_FIELD_TYPES.get(kind, {"type": "string"}))
    if (field.get("required") or "").lower() == "true":
        required.append(name)
    if (field.get("writable") or "true").lower() == "false":
        prop["readOnly"] = True
    properties[name] = prop


def _typed(value: str, prop: dict):
    try:
        if prop.get("type") == "integer":
            return int(value)
        if prop.get("type") == "number":
            return float(value)
    except ValueError:
        return value
    if prop.get("type") == "boolean":
        return value.strip().lower() == "true"
    return value


def _constraint(name: str, kind: str | None, config: str | None, prop: dict, required: list) -> None:
    if kind == "required":
        required.append(name)
    elif kind == "readonly":
        prop["readOnly"] = True
    elif kind in {"minlength", "maxlength"} and config and config.strip().isdigit():
        prop["minLength" if kind == "minlength" else "maxLength"] = int(config)
    elif kind in {"min", "max"} and config:
        try:
            prop["minimum" if kind == "min" else "maximum"] = float(config) if "." in config else int(config)
        except ValueError:
            pass


# --- external work (service tasks that name a Java class, a connector, an expression, a topic) ------------


def service_handler(element) -> tuple[str, str] | None:
    """(kind, key) naming what a service/send task would call elsewhere, or None when it names nothing.

    The key is what a Python handler registers under (entry point group `oaflow.service_tasks`).
    """
    topic = vendor_attr(element, "topic")
    if topic:
        return "topic", topic.strip()
    for attr in ("class", "delegateExpression", "expression"):
        value = vendor_attr(element, attr)
        if value:
            match = JUEL_VAR.match(value)
            return attr, (match.group(1) if match else value.strip())
    for connector in vendor_children(element, "connector"):
        ident = [c for c in connector if local(c.tag) == "connectorId"]
        if ident and (ident[0].text or "").strip():
            return "connector", ident[0].text.strip()
    for zeebe in vendor_children(element, "taskDefinition"):
        if (zeebe.get("type") or "").strip():
            return "type", zeebe.get("type").strip().lstrip("=").strip()
    ext = element.find(f"{{{BPMN_NS}}}extensionElements")
    if ext is not None:
        for operator in ext.iter(f"{{{SPIFF_NS}}}serviceTaskOperator"):
            if operator.get("id"):
                return "operator", operator.get("id")
    kind = vendor_attr(element, "type")
    if kind:
        return "type", kind.strip()
    return None


def output_variables(element) -> list[str]:
    """Variables a vendor task declares it sets: outputParameter names and resultVariable."""
    names = []
    ext = element.find(f"{{{BPMN_NS}}}extensionElements")
    if ext is not None:
        for node in ext.iter():
            if local(node.tag) == "outputParameter" and node.get("name") and namespace(node.tag) in VENDOR_NS:
                names.append(node.get("name"))
            if local(node.tag) == "output" and namespace(node.tag) == ZEEBE_NS and node.get("target"):
                names.append(node.get("target"))
    result = vendor_attr(element, "resultVariable") or vendor_attr(element, "resultVariableName")
    if result:
        names.append(result)
    if ext is not None:  # SpiffWorkflow's operator names what its handler sets
        names += [
            op.get("resultVariable")
            for op in ext.iter(f"{{{SPIFF_NS}}}serviceTaskOperator")
            if op.get("resultVariable")
        ]
    return names


# --- the copy of the tree SpiffWorkflow parses -------------------------------------------------------


def timer_literal(text: str) -> str | None:
    """A timer expression as SpiffWorkflow evaluates it: bare ISO values quoted, `${x}` → `x`, FEEL `=x` → `x`.

    None when the text is neither a quoted string, an ISO value, nor an expression we can pass through."""
    value = (text or "").strip()
    if value.startswith("="):  # Zeebe FEEL
        value = value[1:].strip()
    if ISO_TIMER.match(value):
        quoted = timer_values.quote_bare(value)  # one reading of bare values: naive times are office time
        if quoted != value:
            return repr(quoted[1:-1])
        return repr(value.upper() if not re.match(r"^\d{4}-", value) else value)
    match = re.match(r"^[$#]\{(.*)\}$", value, re.S)
    if match:
        return match.group(1).strip()
    return value


def spiff_view(tree: etree._ElementTree) -> etree._ElementTree:
    """The tree SpiffWorkflow should parse: same ids and lines, vendor dialect spelled its way."""
    view = copy.deepcopy(tree)
    root = view.getroot()
    for tag in TIMER_TAGS:
        for element in root.iter(f"{{{BPMN_NS}}}{tag}"):
            if element.text and element.text.strip():
                element.text = timer_literal(element.text)
    for loop in root.iter(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics"):
        _vendor_collection(loop)
    links.rewrite(root)
    return view


def loop_collection(loop) -> tuple[str, str | None] | None:
    """(collection, element variable) a vendor multi-instance names: `camunda:collection="${list}"
    camunda:elementVariable="x"` or Zeebe's `<zeebe:loopCharacteristics inputCollection="= list"
    inputElement="x">`; None when it names none. The collection is returned as written (minus `${}`/`=`)."""
    collection = vendor_attr(loop, "collection")
    if collection:
        match = JUEL_VAR.match(collection)
        item = vendor_attr(loop, "elementVariable")
        return (match.group(1) if match else collection.strip()), (item.strip() if item else None)
    for zeebe in vendor_children(loop, "loopCharacteristics"):
        text = (zeebe.get("inputCollection") or "").strip()
        if text:
            item = (zeebe.get("inputElement") or "").strip()
            return text.lstrip("=").strip(), item or None
    return None


def _vendor_collection(loop) -> None:
    """A vendor collection (loop_collection) → loopDataInputRef / inputDataItem, as BPMN says it."""
    found = loop_collection(loop)
    if not found or loop.find(f"{{{BPMN_NS}}}loopDataInputRef") is not None:
        return
    name, item = found
    cardinality = loop.find(f"{{{BPMN_NS}}}loopCardinality")
    if cardinality is not None:
        loop.remove(cardinality)
    ref = etree.Element(f"{{{BPMN_NS}}}loopDataInputRef")
    ref.text = name
    loop.insert(0, ref)
    if item:
        data_item = etree.Element(f"{{{BPMN_NS}}}inputDataItem", id=item, name=item)
        loop.insert(1, data_item)
