"""Who may oversee running work (流程监控): search applications, open one, and act on it as an
administrator (挂起/恢复, 转办 a stuck item, 跳转, 终止). The rule itself is engine.org.permissions
(系统管理员: every process; 流程管理员: their own); this is its door for the 流程监控 commands and reads."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from engine.errors import Forbidden
from engine.org import permissions, users
from engine.org.users import User

MONITORS_ONLY = "只有系统管理员和该流程的流程管理员可以使用流程监控"


def may_open(user: User) -> bool:
    """Whether `user` may open the 流程监控 pages at all (what they find there is filtered)."""
    return bool(user.active and (user.is_admin or user.is_process_admin))


def require_monitor(conn: Connection, username: str, process_key: str | None = None) -> User:
    """The acting user when they may monitor `process_key` (None: the pages at all): NotFound for an
    unknown or inactive user, Forbidden otherwise."""
    user = users.require_user(conn, username)
    if not may_open(user):
        raise Forbidden(MONITORS_ONLY)
    if process_key is not None:
        require_process(conn, user, process_key)
    return user


def require_process(conn: Connection, user: User, process_key: str) -> None:
    if not permissions.may_monitor(conn, user, process_key):
        raise Forbidden(MONITORS_ONLY)
