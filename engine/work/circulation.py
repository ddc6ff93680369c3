"""传阅: circulating a 公文 to leaders and departments to read or comment (批示), recalling the readers who
have not read yet, and a reader's 已阅 / 批示. Circulation never holds the flow up, except at a node with
`require_read` (checks.check_read_before_completing)."""

from __future__ import annotations

from engine import fields
from engine.errors import Conflict, FieldError, InvalidData
from engine.org import users
from engine.store import audit
from engine.store.tables import utcnow
from engine.work import checks
from engine.work.kernel import case as kernel
from engine.work.kernel import items, reading
from engine.work.kernel.case import instance_command

MAX_MESSAGE = 200  # work_item.note, where the reader sees it
MAX_COMMENT = 2000


def circulate(core, username: str, instance_id: int, usernames, departments=None, message=None) -> dict:
    """传阅: send the document to the people chosen and the members of the departments chosen (not to the
    circulator; a reader who has not read it yet is not sent it twice). Returns the reader list."""
    message = fields.optional_text(message, "message", "附言", max_length=MAX_MESSAGE)
    with instance_command(core, username, instance_id) as (case, inst, user):
        node_id, node_name = checks.check_circulate(case, inst, user)
        chosen = _chosen(case.conn, usernames, departments, user)
        added = items.create_read_items(case, node_id, node_name, [u.id for u in chosen], user.id, message)
        names = [u.display_name for u in chosen if u.id in added]
        text = f"传阅给{'、'.join(names)}" if names else "所选人员都在传阅中，未重复发送"
        items.record(
            case,
            "circulated",
            user,
            node_id=node_id,
            node_name=node_name,
            message=text + (f"：{message}" if message else ""),
        )
        return {
            "id": instance_id,
            "added": [u.username for u in chosen if u.id in added],
            "circulation": reading.readers(case.conn, instance_id),
        }


def _chosen(conn, usernames, departments, circulator: users.User) -> list[users.User]:
    """The people named and the departments' members, each once, without the circulator."""
    members = users.department_members(conn, departments, "departments")
    if usernames in (None, "", []) and departments not in (None, "", []):
        named = []
    else:
        named = users.pick(conn, usernames, "users", exclude=circulator.id)
    chosen = {u.id: u for u in named + members if u.id != circulator.id}
    if not chosen:
        raise InvalidData([FieldError("departments", "所选部门中没有可以传阅的人员")])
    return list(chosen.values())


def recall_readers(core, username: str, instance_id: int, usernames) -> dict:
    """撤回传阅: take the document back from readers who have not read it; a reader who has read it stays
    (409 naming them, and nobody is recalled)."""
    with instance_command(core, username, instance_id) as (case, inst, user):
        recallable = {i.assignee_id: i for i in checks.check_recall_readers(case, inst, user)}
        people = users.pick(case.conn, usernames, "users")
        readers = {r["username"]: r for r in reading.readers(case.conn, instance_id)}
        strangers = [p.display_name for p in people if p.username not in readers]
        if strangers:
            raise InvalidData([FieldError("users", f"{'、'.join(strangers)}不在传阅名单中")])
        done = [p.display_name for p in people if p.id not in recallable and not readers[p.username]["open"]]
        if done:
            raise Conflict(f"{'、'.join(done)}已阅，不能撤回传阅")
        others = [p.display_name for p in people if p.id not in recallable]
        if others:
            raise Conflict(f"{'、'.join(others)}不是您传阅的，不能撤回")
        now = utcnow()
        for person in people:
            items.set_item(case, recallable[person.id].id, status=reading.RECALLED, completed_at=now)
        names = "、".join(p.display_name for p in people)
        items.record(case, "circulation_recalled", user, node_id=None, node_name=None, message=f"撤回传阅：{names}")
        return {
            "id": instance_id,
            "recalled": [p.username for p in people],
            "circulation": reading.readers(case.conn, instance_id),
        }


def read(core, username: str, item_id: int, comment=None, *, commenting: bool = False) -> dict:
    """已阅 (no comment) or 批示 (a comment) on one's own 待阅 item; a reader who has read may add a 批示
    later, and every 批示 is kept in order. `commenting`: the reader asked to 批示, so a comment is required."""
    comment = fields.optional_text(comment, "comment", "批示", max_length=MAX_COMMENT)
    if commenting and not comment:
        raise InvalidData([FieldError("comment", "请填写批示")])
    with core.db.write() as conn:
        user = users.require_user(conn, username)
        found = kernel.item_for_actor(conn, item_id, user)
        case, _inst = kernel.lock(core, conn, found.instance_id)
        item = kernel.work_item_row(conn, item_id)  # again, under the lock
        checks.check_reading(case.status, item)
        first = item.status == "open"
        if first or comment:
            now = utcnow()
            values = {"status": "done", "read_at": item.read_at or now, "completed_at": item.completed_at or now}
            if comment:
                values["opinion"] = comment
            items.set_item(case, item.id, **values)
            event = reading.COMMENTED if comment else "read"
            audit.record(
                conn,
                event,
                instance_id=case.instance_id,
                work_item_id=item.id,
                actor_id=user.id,
                node_id=item.node_id,
                node_name=item.node_name,
                opinion=comment,
                message=None if comment else "已阅",
            )
        state = reading.state_of(kernel.work_item_row(conn, item_id))
        return {"id": item_id, "instance_id": case.instance_id, "state": state, "state_label": reading.STATES[state]}
