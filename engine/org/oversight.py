"""Who may oversee running work (流程监控): search every application, open it, and act on it as an
administrator (挂起/恢复, 转办 a stuck item, 跳转, 终止). One rule in one place: today the administrators;
the roles (流程管理员 of their processes) extend `may_monitor` here."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from engine.errors import Forbidden
from engine.org import users
from engine.org.users import User

MONITORS_ONLY = "只有管理员可以使用流程监控"


def may_monitor(user: User, process_key: str | None = None) -> bool:
    """Whether `user` may monitor the process `process_key` (None: the 流程监控 pages at all)."""
    return bool(user.active and user.is_admin)


def require_monitor(conn: Connection, username: str, process_key: str | None = None) -> User:
    """The acting user when they may monitor `process_key`: NotFound for an unknown or inactive user,
    Forbidden otherwise."""
    user = users.require_user(conn, username)
    if not may_monitor(user, process_key):
        raise Forbidden(MONITORS_ONLY)
    return user
