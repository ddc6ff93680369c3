"""Attachments inside a command's transaction: who may use or read an uploaded file, binding the files a
form names to its application (with their version history), and the freeze of `freeze_files`.

Every path that saves form data goes through `take` (发起, a decision's form, 重新提交, a message start) and
an upload of a new version goes through `check_not_frozen` too: the rules live here once.
"""

from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from engine.errors import Conflict, FieldError, InvalidData
from engine.org import users
from engine.process import forms
from engine.process.model import node_id
from engine.process.policy import policy_of
from engine.store.fastsql import Prepared
from engine.store.tables import user_account, utcnow
from engine.store.tables_files import attachment
from engine.time.working_days import local_iso
from engine.work.kernel.case import Case, is_participant

_BY_ID = select(attachment).where(attachment.c.id == bindparam("b_id"))
_ACTIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING
NOT_USABLE = "附件不存在或无权使用，请重新上传"


@dataclass
class Stored:
    """What the upload brought, for a new row."""

    sha256: str
    name: str
    size: int
    extension: str
    media_type: str


def get(conn: Connection, attachment_id: int):
    return conn.execute(_BY_ID, {"b_id": attachment_id}).first()


def value_of(row) -> dict:
    """The value a form field holds for this attachment."""
    return {"id": row.id, "name": row.name, "size": row.size, "sha256": row.sha256}


def may_read(conn: Connection, user: users.User, row) -> bool:
    """The uploader before the file is used; once bound, whoever may see its application."""
    if row.instance_id is None:
        return row.uploaded_by_id == user.id
    return is_participant(conn, row.instance_id, user)


def insert_row(conn: Connection, user_id: int, stored: Stored, **extra) -> int:
    values = {
        "sha256": stored.sha256,
        "name": stored.name,
        "size": stored.size,
        "extension": stored.extension,
        "media_type": stored.media_type,
        "uploaded_by_id": user_id,
        "uploaded_at": utcnow(),
        **extra,
    }
    return conn.execute(insert(attachment).values(**values)).inserted_primary_key[0]


def _copy(conn: Connection, row) -> int:
    """A new row on the same stored content (a file handed on to another application)."""
    stored = Stored(row.sha256, row.name, row.size, row.extension, row.media_type)
    return insert_row(conn, row.uploaded_by_id, stored, uploaded_at=row.uploaded_at, copied_from_id=row.id)


# --- the freeze ------------------------------------------------------------------------------------------


def frozen_fields(case: Case) -> dict[str, str]:
    """{field: node name} for each file field a completed `freeze_files` node holds, while the flow has not
    come back to that node (a 退回 to it, or to a node before it, makes it active or not yet reached)."""
    frozen: dict[str, str] = {}
    for node in case.model.nodes.values():
        names = policy_of(node).freeze_files if node.type == "userTask" else frozenset()
        if not names:
            continue
        tasks = [t for t in case.workflow.get_tasks() if node_id(t.task_spec) == node.id]
        if any(t.state & _ACTIVE for t in tasks) or not any(t.state == TaskState.COMPLETED for t in tasks):
            continue
        for name in names:
            frozen.setdefault(name, node.name or node.id)
    return frozen


def check_not_frozen(case: Case, field: str, title: str) -> None:
    node = frozen_fields(case).get(field)
    if node is not None:
        raise Conflict(f"{title}已在“{node}”环节定稿，不能再修改；如需修改请退回到“{node}”")


# --- binding ---------------------------------------------------------------------------------------------


def _ids(value) -> list[int]:
    values = value if isinstance(value, list) else [value] if value is not None else []
    return [v["id"] for v in values if isinstance(v, dict) and isinstance(v.get("id"), int)]


def resolve(conn: Connection, user: users.User, schema: dict, data: dict, current: dict, instance_id=None):
    """The form data with each file value as stored, and the (attachment id, field) pairs to bind.

    A file value is the one the field holds already (unchanged), the user's own unbound upload (bound now),
    or a file the user may read elsewhere (a copy is bound: same content, new row); anything else is refused
    naming the field, as is a type the field does not accept."""
    files = forms.file_fields(schema)
    result, pending, errors = dict(data), [], []
    for name, info in files.items():
        if name not in data:
            continue
        kept = set(_ids(current.get(name)))
        values = []
        for attachment_id in _ids(data[name]):
            row = get(conn, attachment_id)
            if row is None or (attachment_id not in kept and not _usable(conn, user, row, instance_id)):
                errors.append(FieldError(name, f"{info['title']}：{NOT_USABLE}"))
                break
            if row.extension not in info["accept"]:
                errors.append(FieldError(name, f"{info['title']}：只接受 {'、'.join(info['accept'])} 文件"))
                break
            if attachment_id not in kept:
                if row.instance_id is not None:
                    row = get(conn, _copy(conn, row))
                pending.append((row.id, name))
            values.append(value_of(row))
        result[name] = values if info["multiple"] else (values[0] if values else None)
    if errors:
        raise InvalidData(errors)
    return {k: v for k, v in result.items() if v is not None}, pending


def _usable(conn: Connection, user: users.User, row, instance_id) -> bool:
    if row.instance_id is None:
        return row.uploaded_by_id == user.id
    return may_read(conn, user, row)


def attach(conn: Connection, instance_id: int, pending: list[tuple[int, str]], data: dict) -> None:
    """Bind the pending uploads to the application, each the next version of its field; what the field no
    longer holds is marked superseded (it stays downloadable)."""
    now = utcnow()
    for attachment_id, name in pending:
        latest = conn.execute(
            select(func.max(attachment.c.version)).where(
                attachment.c.instance_id == instance_id, attachment.c.field == name
            )
        ).scalar()
        conn.execute(
            update(attachment)
            .where(attachment.c.id == attachment_id)
            .values(instance_id=instance_id, field=name, version=(latest or 0) + 1)
        )
    for name in {name for _, name in pending}:
        conn.execute(
            update(attachment)
            .where(
                attachment.c.instance_id == instance_id,
                attachment.c.field == name,
                attachment.c.superseded_at.is_(None),
                attachment.c.id.not_in(_ids(data.get(name)) or [0]),
            )
            .values(superseded_at=now)
        )


def take(case: Case, user: users.User, schema: dict, cleaned: dict) -> dict:
    """The files of a form saved on a running application: checked, refused while frozen, bound."""
    if not forms.file_fields(schema):
        return cleaned
    result, pending = resolve(case.conn, user, schema, cleaned, case.data, case.instance_id)
    titles = forms.file_fields(schema)
    for name in {name for name in result if name in titles}:
        if set(_ids(result[name])) != set(_ids(case.data.get(name))):
            check_not_frozen(case, name, titles[name]["title"])
    attach(case.conn, case.instance_id, pending, result)
    return result


# --- listing ---------------------------------------------------------------------------------------------


_LISTING = Prepared(
    select(attachment, user_account.c.display_name)
    .join(user_account, user_account.c.id == attachment.c.uploaded_by_id)
    .where(attachment.c.instance_id == bindparam("instance_id"))
    .order_by(attachment.c.field, attachment.c.version.desc())
)


def listing(conn: Connection, instance_id: int, schema: dict) -> list[dict]:
    """The application's files by field, in the form's order, each with its versions (newest first)."""
    rows = conn.execute(_LISTING, {"instance_id": instance_id}).all()
    titles = {name: info["title"] for name, info in forms.file_fields(schema).items()}
    order = list(schema.get("properties", {}))
    by_field: dict[str, list] = {}
    for row in rows:
        by_field.setdefault(row.field, []).append(
            {
                **value_of(row),
                "version": row.version,
                "current": row.superseded_at is None,
                "media_type": row.media_type,
                "uploaded_by": row.display_name,
                "uploaded_at": local_iso(row.uploaded_at),
            }
        )
    fields = sorted(by_field, key=lambda f: (order.index(f) if f in order else len(order), f))
    return [{"field": f, "title": titles.get(f, f), "versions": by_field[f]} for f in fields]
