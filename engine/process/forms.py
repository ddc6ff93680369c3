"""JSON Schema forms: checked at deploy, used as the server-side validator, and rendered by the web layer.

A form is JSON Schema (draft 2020-12) plus light UI hints: `x-widget` (textarea, user), `x-placeholder`,
`x-not-before` (a date field that must not precede another). Property order in the file is field order.
`x-computed` declares a field the server computes from other fields (see engine.process.computed);
`x-secrecy` and `x-urgency` mark an official document's 密级 and 紧急程度 (engine.process.document_marks).

A field of type `file` is an uploaded attachment (engine.work.attachments): `{"type": "file", "title": "正文",
"accept": ["docx", "pdf"]}` holds one, `{"type": "array", "items": {"type": "file"}}` several. Its value is
`{"id", "name", "size", "sha256"}`; for JSON Schema validation the type is translated into that object.
`x-budget` marks the department, category and amount of a claim checked against a budget (the process's
`budget` property); `x-default` fills a start form's field with the applicant's name or department.
`x-money: true` marks a number field as an amount of money, shown as ¥120,000.00 and, on printed pages,
with its capital amount (see engine.process.money).
"""

from __future__ import annotations

import math
import re
import threading
from datetime import date

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from engine.errors import FieldError, InvalidData
from engine.process import computed, document_marks, file_types, form_tables, money
from engine.process.model import BUDGET_ROLES

# x-default: a start form's value filled in for the applicant (engine.work.kernel.claims.form_defaults)
DEFAULTS = ("initiator_name", "initiator_department")
SUPPORTED_TYPES = {"string", "number", "integer", "boolean", "array", "file"}
# What a `file` field holds, for JSON Schema: the client names the attachment by id; the server fills in the
# rest from the stored row when it binds the file (engine.work.kernel.attachments).
FILE_VALUE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
        "name": {"type": "string", "maxLength": 255},
        "size": {"type": "integer", "minimum": 0},
        "sha256": {"type": "string", "maxLength": 64},
    },
    "required": ["id"],
    "additionalProperties": False,
}
MAX_STRING = 20000
# Numbers beyond ±2**53 (and NaN/Infinity, which Python's JSON reader accepts) cannot be checked by
# jsonschema's multipleOf nor stored as JSON: refuse them as a field error instead of failing later.
MAX_NUMBER = 2**53


class FormProblem(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field  # the field the problem is about, when it is about one


def file_fields(schema: dict) -> dict[str, dict]:
    """The form's file fields: {name: {"multiple": bool, "accept": extensions, "title": label}}."""
    found = {}
    properties = schema.get("properties", {})
    for name, prop in properties.items() if isinstance(properties, dict) else ():
        if not isinstance(prop, dict):
            continue
        items = prop.get("items") if prop.get("type") == "array" else None
        own = items if isinstance(items, dict) and items.get("type") == "file" else prop
        if own.get("type") == "file":
            accept = own.get("accept") or prop.get("accept")
            found[name] = {
                "multiple": own is not prop,
                "accept": file_types.accept_list(accept),
                "title": prop.get("title") or name,
            }
    return found


def json_schema(schema: dict) -> dict:
    """The form as plain JSON Schema: each `file` type becomes the object its value is."""
    files = file_fields(schema)
    if not files:
        return schema
    properties = dict(schema.get("properties", {}))
    for name, info in files.items():
        prop = {k: v for k, v in properties[name].items() if k not in ("accept", "items")}
        if info["multiple"]:
            properties[name] = {**prop, "type": "array", "items": FILE_VALUE}
        else:
            properties[name] = {**{k: v for k, v in prop.items() if k != "type"}, **FILE_VALUE}
    return {**schema, "properties": properties}


def _check_files(schema: dict) -> None:
    properties = schema.get("properties", {})
    for name, prop in properties.items() if isinstance(properties, dict) else ():
        own = prop.get("items") if isinstance(prop, dict) and prop.get("type") == "array" else prop
        accept = own.get("accept") if isinstance(own, dict) else None
        if accept is None:
            continue
        if not isinstance(accept, list) or not accept or not all(isinstance(a, str) for a in accept):
            raise FormProblem(f'字段 \'{name}\' 的 accept 必须是文件类型列表，例如 ["docx", "pdf"]', field=name)
        unknown = file_types.unknown_types(accept)
        if unknown:
            raise FormProblem(
                f"字段 '{name}' 的 accept 含有不接受的类型 {'、'.join(unknown)}"
                f"（可用：{'、'.join(file_types.ALLOWED)}）",
                field=name,
            )


def check_schema(schema: dict) -> None:
    """Raise FormProblem when the form is not a usable JSON Schema object form."""
    if not isinstance(schema, dict):
        raise FormProblem("表单必须是 JSON 对象")
    try:
        _check_files(schema)
        Draft202012Validator.check_schema(json_schema(schema))
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(根)"
        raise FormProblem(f"不是有效的 JSON Schema：{path}: {exc.message}") from None
    if schema.get("type", "object") != "object":
        raise FormProblem("表单的 type 必须是 object")
    props = schema.get("properties", {})
    for name, prop in props.items():
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name) or name.startswith("_"):
            raise FormProblem(f"字段名 '{name}' 无效：只能使用字母、数字和下划线，且不能以下划线开头")
        kind = prop.get("type", "string")
        if kind not in SUPPORTED_TYPES:
            raise FormProblem(f"字段 '{name}' 的类型 '{kind}' 不受支持（可用：{', '.join(sorted(SUPPORTED_TYPES))}）")
        other = prop.get("x-not-before")
        if other and other not in props:
            raise FormProblem(f"字段 '{name}' 的 x-not-before 引用了不存在的字段 '{other}'")
        if "x-budget" in prop and prop["x-budget"] not in BUDGET_ROLES:
            raise FormProblem(f"字段 '{name}' 的 x-budget 只能是 {'、'.join(BUDGET_ROLES)}", field=name)
        if "x-default" in prop and prop["x-default"] not in DEFAULTS:
            raise FormProblem(f"字段 '{name}' 的 x-default 只能是 {'、'.join(DEFAULTS)}", field=name)
        if "x-money" in prop and not money.is_money(prop):
            raise FormProblem(f"字段 '{name}' 的 x-money 只能是 true，且只能用于 number 或 integer 字段", field=name)
    for name in schema.get("required", []):
        if name not in props:
            raise FormProblem(f"required 中的字段 '{name}' 未在 properties 中定义")
    found = form_tables.problems(schema) + computed.problems(schema) + document_marks.problems(schema)
    if found:
        raise FormProblem("；".join(message for _, message in found), field=found[0][0])


def field_title(schema: dict, name: str) -> str:
    return schema.get("properties", {}).get(name, {}).get("title") or name


def _cell_message(error, schema: dict, path: list) -> tuple[str, str]:
    """A bad cell of a table, named by row and column: 费用明细第 2 行：金额必须大于 0."""
    field, row = str(path[0]), path[1]
    where = form_tables.row_label(schema, field, row)
    if len(path) == 2 and error.validator == "required":
        missing = re.match(r"'(.+?)' is a required property", error.message)
        col = missing.group(1) if missing else ""
        return field, f"{where}：请填写{form_tables.column_title(schema, field, col)}"
    if len(path) == 2:
        return field, f"{where}：{'含有未定义的列' if error.validator == 'additionalProperties' else '格式不正确'}"
    column = {"properties": form_tables.columns(schema.get("properties", {}).get(field, {}))}
    _, message = _message(error, column, [str(path[2])])
    return field, f"{where}：{message}"


def _message(error, schema: dict, path: list | None = None) -> tuple[str, str]:
    path = list(error.absolute_path) if path is None else path
    if len(path) >= 2 and isinstance(path[1], int) and form_tables.is_table(schema.get("properties", {}).get(path[0])):
        return _cell_message(error, schema, path)
    if path and error.validator in ("required", "additionalProperties"):  # inside a file value
        return str(path[0]), f"{field_title(schema, str(path[0]))}的格式不正确"
    if error.validator == "required":
        missing = re.match(r"'(.+?)' is a required property", error.message)
        name = missing.group(1) if missing else ""
        return name, f"请填写{field_title(schema, name)}"
    name = str(path[0]) if path else ""
    title = field_title(schema, name)
    value = error.validator_value
    unit = "行" if form_tables.is_table(schema.get("properties", {}).get(name)) else "项"
    messages = {
        "type": f"{title}的格式不正确",
        "enum": f"{title}必须是以下之一：{'、'.join(map(str, value)) if isinstance(value, list) else value}",
        "exclusiveMinimum": f"{title}必须大于 {value}",
        "minimum": f"{title}不能小于 {value}",
        "exclusiveMaximum": f"{title}必须小于 {value}",
        "maximum": f"{title}不能大于 {value}",
        "multipleOf": f"{title}必须是 {value} 的整数倍",
        "minLength": f"请填写{title}" if value == 1 else f"{title}至少 {value} 个字符",
        "maxLength": f"{title}最多 {value} 个字符",
        "format": f"{title}不是有效的{'日期（YYYY-MM-DD）' if value == 'date' else value}",
        "pattern": f"{title}的格式不正确",
        "additionalProperties": "表单含有未定义的字段",
        "minItems": f"{title}至少填写 {value} {unit}",
        "maxItems": f"{title}最多 {value} {unit}",
    }
    return name, messages.get(error.validator, f"{title}：{error.message}")


def clean(schema: dict, data: dict | None) -> dict:
    """Keep the schema's own fields, trim strings, drop empty optional values."""
    result = {}
    for name, prop in schema.get("properties", {}).items():
        if data is None or data.get(name) is None:
            continue  # null is "not filled in": a required field then says 请填写…
        value = data[name]
        if form_tables.is_table(prop):
            value = form_tables.clean_rows(prop, value)
            if value == [] and name not in schema.get("required", []):
                continue
        if isinstance(value, str):
            value = value.strip()
            kind = prop.get("type", "string")
            if value == "" and name not in schema.get("required", []):
                continue
            if kind in {"number", "integer"} and value != "":
                try:
                    value = int(value) if kind == "integer" else float(value)
                except ValueError:
                    pass  # the validator names the field
            elif kind == "boolean":
                value = value.lower() in {"1", "true", "on", "yes", "是"}
        if value is None and name not in schema.get("required", []):
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        result[name] = value
    return result


def _bad_number(value) -> bool:
    if isinstance(value, list):
        return any(_bad_number(v) for v in value)
    if isinstance(value, dict):  # a table's row
        return any(_bad_number(v) for v in value.values())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not math.isfinite(value) or abs(value) > MAX_NUMBER


_VALIDATORS: dict[int, tuple[dict, Draft202012Validator]] = {}
_VALIDATORS_LOCK = threading.Lock()


def _validator(schema: dict) -> Draft202012Validator:
    """One validator per schema object: building one costs more than validating a small form. The forms
    of a compiled definition live as long as it does, and nothing edits them in place."""
    hit = _VALIDATORS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    validator = Draft202012Validator(json_schema(schema), format_checker=FormatChecker())
    with _VALIDATORS_LOCK:
        if len(_VALIDATORS) >= 1024:
            _VALIDATORS.clear()
        _VALIDATORS[id(schema)] = (schema, validator)  # the schema is kept, so its id is not reused
    return validator


def _compute(schema: dict, cleaned: dict, env, seen: set[str]) -> list[FieldError]:
    """Fill the computed fields into `cleaned` (keeping the form's field order) and check their values
    against their own rules (e.g. a maximum); the errors of both, each field once."""
    derived = computed.computed_fields(schema)
    errors = []
    for error in computed.fill(schema, cleaned, env, bad=set(seen)):
        if error.field not in seen:
            seen.add(error.field)
            errors.append(error)
    order = list(schema.get("properties", {}))
    ordered = sorted(cleaned.items(), key=lambda item: order.index(item[0]))
    cleaned.clear()
    cleaned.update(ordered)
    for name in [n for n in derived if _bad_number(cleaned.get(n)) and n not in seen]:
        seen.add(name)  # a sum past ±2**53 cannot be stored exactly
        errors.append(FieldError(name, f"{field_title(schema, name)}不是有效的数字（超出范围）"))
    failed = {n for n in derived if n not in cleaned and n not in seen}  # arguments missing: they say so
    for error in sorted(_validator(schema).iter_errors(cleaned), key=lambda e: list(e.absolute_path)):
        name, message = _message(error, schema)
        if name in derived and name not in seen and name not in failed:
            seen.add(name)
            errors.append(FieldError(name, message))
    return errors


def validate(schema: dict, data: dict | None, user_exists=None, env: computed.Env | None = None) -> dict:
    """Validate submitted data; return the cleaned data or raise InvalidData naming each bad field.

    Computed fields (`x-computed`) are worked out here, from the other cleaned fields and the working
    calendar in `env`: what the client sent for them is dropped, so every caller that saves form data gets
    the server's value."""
    if data is not None and not isinstance(data, dict):
        raise InvalidData([FieldError("data", "表单数据必须是 JSON 对象")])
    derived = computed.computed_fields(schema)
    cleaned = clean(schema, {k: v for k, v in (data or {}).items() if k not in derived})
    unknown = sorted(set(data or {}) - set(schema.get("properties", {})))
    errors: list[FieldError] = [FieldError(name, "表单中没有这个字段") for name in unknown]
    validator = _validator(schema)
    seen = set()
    for name in [n for n, v in cleaned.items() if _bad_number(v)]:
        errors.append(FieldError(name, f"{field_title(schema, name)}不是有效的数字（超出范围）"))
        seen.add(name)
    for error in document_marks.secrecy_errors(schema, cleaned):  # before `enum`: the rule says why
        errors.append(error)
        seen.add(error.field)
    checkable = {n: v for n, v in cleaned.items() if n not in seen}
    for error in sorted(validator.iter_errors(checkable), key=lambda e: list(e.absolute_path)):
        name, message = _message(error, schema)
        if name in seen or name in derived:
            continue  # a computed field is checked once it has its value, below
        seen.add(name)
        errors.append(FieldError(name, message))
    if derived:
        errors += _compute(schema, cleaned, env, seen)
    for name, prop in schema.get("properties", {}).items():
        value = cleaned.get(name)
        if value is None or name in seen:
            continue
        if isinstance(value, str) and len(value) > MAX_STRING:
            errors.append(FieldError(name, f"{field_title(schema, name)}过长"))
        other = prop.get("x-not-before")
        if other and other not in seen and isinstance(cleaned.get(other), str):
            try:
                if date.fromisoformat(value) < date.fromisoformat(cleaned[other]):
                    errors.append(FieldError(name, f"{field_title(schema, name)}不能早于{field_title(schema, other)}"))
            except ValueError:
                pass
        if prop.get("x-widget") == "user" and user_exists is not None and not user_exists(value):
            errors.append(FieldError(name, f"{field_title(schema, name)}：用户 '{value}' 不存在"))
    if errors:
        raise InvalidData(errors)
    return cleaned


def computed_values(schema: dict, data, env: computed.Env) -> tuple[dict, list[FieldError]]:
    """A preview of the computed fields for a form being filled in: ({field: value or None}, the errors
    about them or their arguments). Missing fields are not errors here: the form is not finished yet."""
    derived = computed.computed_fields(schema)
    if not isinstance(data, dict):
        data = {}
    cleaned = clean(schema, {k: v for k, v in data.items() if k not in derived})
    arguments = {arg.partition(".")[0] for spec in derived.values() for arg in spec.get("args", [])}
    errors: list[FieldError] = []
    seen = {n for n, v in cleaned.items() if _bad_number(v)}
    errors += [FieldError(n, f"{field_title(schema, n)}不是有效的数字（超出范围）") for n in seen & arguments]
    for error in _validator(schema).iter_errors({n: v for n, v in cleaned.items() if n not in seen}):
        name, message = _message(error, schema)
        if error.validator != "required" and name in arguments and name not in seen:
            seen.add(name)
            errors.append(FieldError(name, message))
    errors += [e for e in computed.fill(schema, cleaned, env, bad=seen) if e.field not in seen]
    return {name: cleaned.get(name) for name in derived}, errors
