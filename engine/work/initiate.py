"""发起: start an instance of a process."""

from __future__ import annotations

from engine.org import users
from engine.work.kernel import routing


def start(core, username: str, process_key: str, data: dict | None, priority: str | None = None) -> dict:
    """发起: a new instance of the newest active version of a process, moved on to its first approvers."""
    with core.db.write() as conn:
        user = users.require_user(conn, username)
        case = routing.start_instance(core, conn, user, process_key, data, priority)
        result = {"id": case.instance_id, "title": case.title, "status": case.status}
        return {**result, "warning": case.warning} if case.warning else result
