"""What a request brings, read for the engine: JSON bodies, uploaded files, the fields of a form (a process's
schema form, or one operation's few fields); and the engine's field errors placed where a page shows them."""

from __future__ import annotations

from flask import request

from engine.errors import FieldError, InvalidData


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidData([FieldError("body", "请求体必须是 JSON 对象（Content-Type: application/json）")])
    return body


def optional_json_body() -> dict:
    """The JSON object sent, or {} when nothing was sent."""
    return json_body() if request.data else {}


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
        if kind == "boolean":
            raw[name] = data[name] = request.form.get(name) is not None
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
