"""What a request brings, read for the engine: JSON bodies, uploaded files, the fields of a form (a process's
schema form, or one operation's few fields); and the engine's field errors placed where a page shows them."""

from __future__ import annotations

import json
import math

import orjson
from flask import request

from engine import fields
from engine.errors import FieldError, InvalidData

MAX_DEPTH = 32  # objects and arrays inside one another; no form or payload of ours comes near


def json_body() -> dict:
    """The request's JSON object, read strictly: anything else is a 422 naming the field (or "body")."""
    if not request.is_json:
        raise InvalidData([FieldError("body", "请求体必须是 JSON 对象（Content-Type: application/json）")])
    return read_json_object(request.get_data(cache=True))


def optional_json_body() -> dict:
    """The JSON object sent, or {} when nothing was sent."""
    return json_body() if request.get_data(cache=True) else {}


def read_json_object(raw: bytes) -> dict:
    """Parse a JSON object without recursion errors, refusing NaN/Infinity, invalid UTF-8 and lone surrogates,
    NUL characters, integers past 64 bits and nesting deeper than MAX_DEPTH. A bad value is named by its path
    (holidays[0].start; a form field in "data" by its own name, as the form's validator names it)."""
    body = _loads(raw)
    if not isinstance(body, dict):
        raise InvalidData([FieldError("body", "请求体必须是 JSON 对象（{...}），不能是数组、字符串、数字或 null")])
    _check_values(body)
    return body


def _loads(raw: bytes):
    try:
        return orjson.loads(raw)  # iterative, depth-limited; refuses NaN, lone surrogates, invalid UTF-8
    except orjson.JSONDecodeError as exc:
        reason = str(exc)
    if "depth" in reason or "recursion" in reason.lower():
        raise InvalidData([FieldError("body", f"请求体嵌套层数过多（上限 {MAX_DEPTH} 层）")])
    try:  # only to say which field holds the NaN/Infinity or the lone surrogate (refused below by its path)
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidData([FieldError("body", _syntax_message(reason))]) from None


def _syntax_message(reason: str) -> str:
    where = reason.rpartition("(char ")[2].rstrip(")")
    at = f"（第 {int(where) + 1} 个字符附近）" if where.isdigit() else ""
    if "UTF-8" in reason:
        return f"请求体必须是 UTF-8 编码的文字{at}"
    return f"请求体不是有效的 JSON{at}"


def _check_values(body: dict) -> None:
    """Walk the parsed body without recursion; the first bad value is reported by its path."""
    pending: list[tuple[str, object, int]] = [("", body, 0)]
    while pending:
        path, value, depth = pending.pop()
        if depth > MAX_DEPTH:
            top = path.removeprefix("data.").partition("[")[0].partition(".")[0]
            _refuse(top, f"嵌套层数过多（上限 {MAX_DEPTH} 层）")
        problem = _bad_value(value)
        if problem:
            _refuse(path, problem)
        if isinstance(value, dict):
            for key, inner in value.items():
                if _bad_text(key):
                    _refuse(path, f"的字段名{_bad_text(key)}")
                pending.append((f"{path}.{key}" if path else key, inner, depth + 1))
        elif isinstance(value, list):
            pending.extend((f"{path}[{i}]", inner, depth + 1) for i, inner in enumerate(value))


def _refuse(path: str, problem: str):
    field = path.removeprefix("data.")[:200] or "body"
    raise InvalidData([FieldError(field, f"{field} {problem}")])


def _bad_value(value) -> str | None:
    if isinstance(value, str):
        return _bad_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "必须是有限的数字（不接受 NaN、Infinity）"
    if isinstance(value, int) and not isinstance(value, bool) and not fields.INT64_MIN <= value <= fields.INT64_MAX:
        return "超出整数范围（64 位）"
    return None


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "不能含有 NUL 字符（\\u0000）"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "含有无效的 Unicode 字符（孤立的代理字符 \\ud800–\\udfff）"
    return None


def refuse_nul() -> None:
    """Before any view: NUL in the address, the query or a form field (PostgreSQL cannot store it) is a 422
    naming where it is, on every route at once."""
    if "\x00" in request.path:
        raise InvalidData([FieldError("path", "地址中不能含有 NUL 字符")])
    sources = [request.args]
    if request.method != "GET" and not request.is_json:
        sources.append(request.form)
    for source in sources:
        for name, value in source.items(multi=True):
            if "\x00" in str(name) or "\x00" in str(value):
                field = str(name).replace("\x00", "")
                raise InvalidData([FieldError(field, f"{field} 不能含有 NUL 字符")])


def int_arg(name: str, default: int | None, *, low: int = 1, high: int = fields.INT64_MAX) -> int | None:
    """An integer query parameter (?page=2), within [low, high]: otherwise a 422 naming it."""
    text = request.args.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise InvalidData([FieldError(name, f"{name} 必须是整数")]) from None
    if not low <= value <= high:
        raise InvalidData([FieldError(name, f"{name} 必须在 {low} 到 {high} 之间")])
    return value


def uploaded_files() -> dict[str, bytes]:
    files = {f.filename: f.read() for f in request.files.getlist("files") if f.filename}
    for name, storage in request.files.items():
        if name != "files" and storage.filename:
            files[storage.filename] = storage.read()
    return files


def form_values(*names) -> dict:
    return {name: request.form.get(name, "") for name in names}


def chosen_user(username: str) -> str:
    """A one-person picker must name someone (the engine would report user '' as unknown)."""
    if not username.strip():
        raise InvalidData([FieldError("to_user", "请选择一个人")])
    return username


def defaults(schema: dict) -> dict:
    return {name: prop["default"] for name, prop in schema.get("properties", {}).items() if "default" in prop}


def _number(text: str, kind: str):
    try:
        return int(text) if kind == "integer" else float(text)
    except ValueError:
        return text  # the validator names the field


def submitted(schema: dict) -> tuple[dict, dict]:
    """Read the schema's fields from the posted form: (data for the engine, raw values to re-render).

    Empty fields are left out so a required one gets "请填写…" rather than a format error."""
    data, raw = {}, {}
    for name, prop in schema.get("properties", {}).items():
        kind = prop.get("type", "string")
        if kind == "file" or (kind == "array" and prop.get("items", {}).get("type") == "file"):
            continue  # uploaded files: webapp.uploads
        if kind == "boolean":
            raw[name] = data[name] = request.form.get(name) is not None
        elif kind == "array" and prop.get("items", {}).get("type") == "object":
            raw[name] = _table_rows(name, prop)
            if raw[name]:
                data[name] = raw[name]
        elif kind == "array":
            items = prop.get("items", {})
            if "enum" in items:
                values = [v for v in request.form.getlist(name) if v != ""]
            else:  # one value per line in a textarea
                values = [line.strip() for line in request.form.get(name, "").splitlines() if line.strip()]
            raw[name] = values
            if items.get("type") in {"number", "integer"}:
                values = [_number(v, items["type"]) for v in values]
            if values:
                data[name] = values
        else:
            value = request.form.get(name, "")
            raw[name] = value
            if value.strip():
                data[name] = value
    return data, raw


MAX_ROW_INDEX = 999  # a table's rows in a browser form: <field>-<row>-<column>, the row from 0


def _table_rows(name: str, prop: dict) -> list[dict]:
    """A table field's rows from the posted form, in row order; a row's unchecked boxes are false."""
    columns = prop.get("items", {}).get("properties", {})
    rows: dict[int, dict] = {}
    for key in request.form:
        index, _, column = key.removeprefix(name + "-").partition("-")
        if not key.startswith(name + "-") or column not in columns or not index.isdigit():
            continue
        if int(index) <= MAX_ROW_INDEX:
            rows.setdefault(int(index), {})[column] = request.form.get(key, "")
    for row in rows.values():
        for column, spec in columns.items():
            if spec.get("type") == "boolean":
                row[column] = column in row
    return [rows[i] for i in sorted(rows)]


def schema_fields(schema: dict, *own) -> set[str]:
    """The fields a page shows for a schema form, and its own (priority, opinion …)."""
    return set(schema.get("properties", {})) | set(own)


def field_errors(exc: InvalidData, fields) -> dict[str, str]:
    """Field → message for the fields the page shows; anything else goes to '_' (the banner)."""
    errors: dict[str, str] = {}
    general = []
    for error in exc.errors:
        if error.field in fields:
            errors.setdefault(error.field, error.message)
        else:
            general.append(error.message)
    if general:
        errors["_"] = "；".join(general)
    return errors


def error_text(exc: InvalidData) -> str:
    """The messages of every field error, for a flash."""
    return "；".join(e.message for e in exc.errors)
