"""附件: uploading a file (for a form, or as a new version of an application's file), downloading one, and
listing an application's files with their versions.

An upload is received into a temporary file and checked before anything is kept: the name's type against
the allowlist and the field's `accept`, the content against the name, the size against the limit
(OAFLOW_MAX_UPLOAD_MB, default 20), the virus scanner when one is configured. Only then is the content kept
(once per SHA-256, engine.store.blobs) and its row written. A form then names the upload by id; saving the
form binds it to the application (engine.work.kernel.attachments).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine import fields
from engine.errors import FieldError, InvalidData, NotFound
from engine.org import users
from engine.process import definitions, file_types, forms
from engine.store import audit, virus_scan
from engine.store.tables import instance
from engine.work import checks
from engine.work.kernel import attachments as rules
from engine.work.kernel import case as kernel
from engine.work.kernel.case import instance_command, is_participant

DEFAULT_MAX_MB = 20
NOT_FOUND = "附件不存在，或您无权下载"
GENERAL = {"title": "附件", "accept": file_types.ALLOWED, "multiple": False}


def max_upload_mb() -> int:
    """The upload size limit in MB: OAFLOW_MAX_UPLOAD_MB, default 20."""
    try:
        return max(1, int(os.environ.get("OAFLOW_MAX_UPLOAD_MB") or DEFAULT_MAX_MB))
    except ValueError:
        return DEFAULT_MAX_MB


@dataclass(frozen=True)
class Download:
    path: Path
    name: str
    media_type: str
    size: int


def upload(
    core,
    username: str,
    stream,
    filename,
    *,
    field=None,
    instance_id=None,
    process=None,
    work_item_id=None,
) -> dict:
    """上传附件 → {id, name, size, sha256}. `field` with `process` (its start form) or `work_item_id` (that
    item's form) is checked against that field; with `instance_id` the file is the field's new version on
    that running application at once (by whoever holds an open work item on it, unless the field is frozen)."""
    field = fields.optional_text(field, "field", "字段", max_length=64)
    if instance_id is not None:
        instance_id = fields.identifier(instance_id, "instance_id", "申请编号")
        if not field:
            raise InvalidData([FieldError("field", "上传新版本时请指定字段（field）")])
    if work_item_id is not None:
        work_item_id = fields.identifier(work_item_id, "work_item_id", "待办编号")
    with core.db.read() as conn:
        user = users.require_user(conn, username)
        target = _field_of(core, conn, user, field, instance_id, process, work_item_id)
    name_field = field or "file"
    name = file_types.clean_name(filename, name_field, target["title"])
    extension = file_types.check_extension(name, target["accept"], name_field, target["title"])
    limit = max_upload_mb()
    received = core.files.receive(stream, limit * 1024 * 1024, f"{target['title']}：文件过大（上限 {limit} MB）")
    try:
        file_types.check_content(extension, received.head, received.path, name_field, target["title"])
        virus_scan.scan(received.path, name_field, target["title"])
        stored = rules.Stored(received.sha256, name, received.size, extension, file_types.MEDIA_TYPES[extension])
        if instance_id is None:
            with core.db.write() as conn:
                user = users.require_user(conn, username)
                core.files.keep(received)
                return rules.value_of(rules.get(conn, rules.insert_row(conn, user.id, stored, field=field)))
        return _new_version(core, username, instance_id, field, target, received, stored)
    finally:
        core.files.discard(received)  # nothing left behind once kept, or when refused


def _field_of(core, conn, user: users.User, field, instance_id, process, work_item_id) -> dict:
    """The form field the upload is for: its title, accepted types and whether it holds several files."""
    if instance_id is not None:
        inst = conn.execute(select(instance).where(instance.c.id == instance_id)).first()
        if inst is None or not is_participant(conn, instance_id, user, initiator_id=inst.initiator_id):
            raise NotFound("申请不存在，或您无权查看")
        compiled = core.specs.get(conn, inst.definition_id)
        schema = compiled.form(compiled.model.start_form)
    elif work_item_id is not None:
        item = kernel.item_for_actor(conn, work_item_id, user)
        compiled = core.specs.get(
            conn, conn.execute(select(instance.c.definition_id).where(instance.c.id == item.instance_id)).scalar()
        )
        node = compiled.model.nodes.get(item.node_id)
        schema = compiled.form(
            compiled.model.start_form if item.origin == "resubmit" else (node.form if node else None)
        )
    elif process is not None:
        if not isinstance(process, str):
            raise InvalidData([FieldError("process", "流程标识必须是文字")])
        compiled = core.specs.get(conn, definitions.latest_head(conn, process).id)
        schema = compiled.form(compiled.model.start_form)
    else:
        return GENERAL
    if not field:
        raise InvalidData([FieldError("field", "请指定附件对应的表单字段（field）")])
    found = forms.file_fields(schema or {}).get(field)
    if found is None:
        raise InvalidData([FieldError("field", f"表单中没有附件字段 '{field}'")])
    return found


def _new_version(core, username: str, instance_id: int, field: str, target: dict, received, stored) -> dict:
    with instance_command(core, username, instance_id) as (case, _inst, user):
        checks.check_new_version(case, user)
        rules.check_not_frozen(case, field, target["title"])
        core.files.keep(received)
        row = rules.get(case.conn, rules.insert_row(case.conn, user.id, stored))
        value = rules.value_of(row)
        current = case.data.get(field)
        held = (current if isinstance(current, list) else []) + [value] if target["multiple"] else value
        rules.attach(case.conn, instance_id, [(row.id, field)], {field: held})
        case.data[field] = held
        for task in case.workflow.get_tasks(state=TaskState.READY):
            task.data[field] = held
        version = rules.get(case.conn, row.id).version
        audit.record(
            case.conn,
            "attachment",
            instance_id=instance_id,
            actor_id=user.id,
            message=f"上传了{target['title']}第 {version} 版：{stored.name}",
        )
        return value


def download(core, user: users.User, attachment_id: int) -> Download:
    """下载附件: the uploader before it is used, then the participants of its application; else NotFound."""
    with core.db.read() as conn:
        row = rules.get(conn, attachment_id)
        if row is None or not rules.may_read(conn, user, row):
            raise NotFound(NOT_FOUND)
    path = core.files.path(row.sha256)
    if not path.is_file():
        raise NotFound("附件的内容已不在文件目录中，请联系管理员")
    return Download(path, row.name, row.media_type, row.size)


def instance_files(core, user: users.User, instance_id: int) -> list[dict]:
    """An application's files by field, each with its versions (participants only)."""
    with core.db.read() as conn:
        inst = conn.execute(select(instance).where(instance.c.id == instance_id)).first()
        if inst is None or not is_participant(conn, instance_id, user, initiator_id=inst.initiator_id):
            raise NotFound("申请不存在，或您无权查看")
        compiled = core.specs.get(conn, inst.definition_id)
        return rules.listing(conn, instance_id, compiled.form(compiled.model.start_form) or {})
