"""The files chosen in a schema form's file fields (a multipart form POST): each new file is uploaded through
the engine, and the field's value joins the form data, with the files the form already held (kept as
checked boxes carrying their value), so a form sent back with an error keeps what was uploaded."""

from __future__ import annotations

from flask import request

from engine.errors import FieldError, InvalidData
from engine.process import forms
from engine.work import attachments

from .inputs import read_json_object


def _held(name: str) -> list[dict]:
    held = []
    for text in request.form.getlist(name):
        try:
            value = read_json_object(text.encode())
        except InvalidData:
            raise InvalidData([FieldError(name, "已上传文件的信息无效，请重新选择文件")]) from None
        held.append(value)
    return held


def with_files(core, username: str, schema: dict, data: dict, values: dict, **form) -> None:
    """Upload the new files of each file field and put the field's value into `data` and `values`.
    `form`: process= (a start form) or work_item_id= (that item's form), naming where the field is."""
    for name, info in forms.file_fields(schema).items():
        held = _held(name)
        for chosen in request.files.getlist(name):
            if chosen.filename:
                uploaded = attachments.upload(core, username, chosen.stream, chosen.filename, field=name, **form)
                held = [*held, uploaded] if info["multiple"] else [uploaded]
                values[name] = held if info["multiple"] else uploaded  # kept should a later file fail
        value = held if info["multiple"] else (held[-1] if held else None)
        values[name] = value
        if value:
            data[name] = value
