"""代理: while a user is away, a delegate gets their new work items (the rows and the rules are
engine.org.delegations): the user's delegations, setting one up, ending one early, and the settings page."""

from __future__ import annotations

from datetime import date

from engine import fields
from engine.org import delegations, directory, users
from engine.process import definitions
from engine.store.tables import utcnow
from engine.time.working_days import to_local
from engine.work import frame

MAX_USERNAME = 64  # user_account.username
MAX_REASON = 200  # delegation.reason


def delegations_of(core, user: users.User) -> list[dict]:
    """The user's delegations, newest first."""
    with core.db.read() as conn:
        return delegations.list_for(conn, user)


def delegate_while_away(
    core,
    username: str,
    delegate: str,
    starts_on,
    ends_on,
    processes=None,
    reason: str | None = None,
    move_existing: bool = False,
) -> dict:
    """Name a delegate for a date range and a scope (all processes, or the listed process keys); with
    `move_existing`, the items already waiting go to the delegate too."""
    delegate = fields.text(delegate, "delegate", "代理人", max_length=MAX_USERNAME)
    reason = fields.optional_text(reason, "reason", "代理原因", max_length=MAX_REASON)
    starts_on = fields.text(starts_on, "starts_on", "开始日期", max_length=10)
    ends_on = fields.text(ends_on, "ends_on", "结束日期", max_length=10)
    with core.db.write() as conn:
        user = users.require_user(conn, username)
        return delegations.create(
            conn,
            user,
            delegate,
            starts_on,
            ends_on,
            processes,
            reason,
            move_existing,
            is_postgres=not core.db.is_sqlite,
        )


def end_delegation(core, username: str, delegation_id: int) -> dict:
    """End one of the user's delegations early; items already with the delegate stay with them."""
    with core.db.write() as conn:
        return delegations.end(conn, users.require_user(conn, username), delegation_id)


def delegation_page(core, user: users.User) -> dict:
    """代理设置: the user's delegations with their state, the processes a delegation may be limited to, the
    people who may be named, and today's date in the office."""
    today = to_local(utcnow()).date()
    with core.db.read() as conn:
        items = delegations.list_for(conn, user)
        processes = [
            {"key": row.process_key, "name": core.specs.from_row(row).model.name or row.name}
            for row in definitions.list_latest(conn)
        ]
        people = directory.picker_groups(conn, {user.username})
        layout = frame.figures(conn, user)
    names = {p["key"]: p["name"] for p in processes}
    for item in items:
        item["state"], item["state_class"] = _state(item, today)
        item["process_names"] = [names.get(key, key) for key in item["processes"]]
    return {"items": items, "processes": processes, "people": people, "today": today, "layout": layout}


def _state(item: dict, today: date) -> tuple[str, str]:
    if not item["active"]:
        return "已结束", "ended"
    starts, ends = date.fromisoformat(item["starts_on"]), date.fromisoformat(item["ends_on"])
    if ends < today:
        return "已到期", "ended"
    if starts > today:
        return "未开始", "future"
    return "生效中", "active"
