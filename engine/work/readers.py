"""Readers of an application: 知会 (a read-only copy in 抄送我的), 催办 (a nudge to the current handlers),
and marking one's 知会 copies read."""

from __future__ import annotations

from sqlalchemy import and_, update

from engine import fields
from engine.errors import NotFound
from engine.notify import outbox
from engine.org import users
from engine.store.tables import utcnow, work_item
from engine.time.working_days import local_iso
from engine.work import checks
from engine.work.kernel import case as kernel
from engine.work.kernel import items
from engine.work.kernel.case import instance_command

MAX_CC_MESSAGE = 500
MAX_URGE_MESSAGE = 200


def _text(value, field: str, limit: int) -> str | None:
    return fields.optional_text(value, field, "附言", max_length=limit)


def cc(core, username: str, instance_id: int, usernames, message: str | None) -> dict:
    """知会/抄送 (ad hoc): give readers read access and an entry in 抄送我的."""
    message = _text(message, "message", MAX_CC_MESSAGE)
    with instance_command(core, username, instance_id) as (case, inst, user):
        checks.check_cc(case, inst, user)
        readers = users.pick(case.conn, usernames, "users", exclude=user.id)
        rules = [f"user:{u.username}" for u in readers]
        names = items.create_cc(case, "adhoc", "知会", rules, actor_id=user.id, message=message)
        return {"id": instance_id, "readers": names}


def urge(core, username: str, instance_id: int, message: str | None) -> dict:
    """催办: nudge the current handlers; at most once per item per hour. The answer says when the user may
    催办 again (`again_at`, office time)."""
    message = _text(message, "message", MAX_URGE_MESSAGE) or "请尽快办理"
    now = utcnow()
    with instance_command(core, username, instance_id) as (case, inst, user):
        urged = []
        for item in checks.check_urge(case, inst, user, now):  # the open items not nudged within the hour
            title = f"{user.display_name}催办：{case.title}（{item.node_name}）— {message}"
            outbox.send(case.conn, item.assignee_id, "urge", title, instance_id=instance_id, work_item_id=item.id)
            items.record(case, "urged", user, item, message=f"催办：{message}")
            urged.append(item.assignee_id)
        people = users.users_by_ids(case.conn, urged)
        again_at = local_iso(checks.urge_again_at(case, inst, user, now))
        return {"id": instance_id, "urged": [people[u].username for u in urged], "again_at": again_at}


def mark_read(core, username: str, instance_id: int) -> dict:
    """知会 read: the caller's 抄送我的 entries for this instance become 已读."""
    with core.db.write() as conn:
        user = users.require_user(conn, username)
        if not kernel.is_participant(conn, instance_id, user):
            raise NotFound("申请不存在，或您无权查看")
        conn.execute(
            update(work_item)
            .where(
                and_(
                    work_item.c.instance_id == instance_id,
                    work_item.c.assignee_id == user.id,
                    work_item.c.kind == "cc",
                    work_item.c.read_at.is_(None),
                )
            )
            .values(read_at=utcnow(), status="done")
        )
    return {"id": instance_id, "read": True}
