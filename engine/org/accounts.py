"""Accounts as the sign-in form, the session and the command line reach them: checking a password, the
signed-in user on each request, creating an account, the organisation's top approver."""

from __future__ import annotations

from engine.org import deciders, users
from engine.org.users import User


def sign_in(core, username: str, password: str) -> User | None:
    """The active account these credentials open, or None (the caller says only that they are wrong)."""
    with core.db.read() as conn:
        return users.authenticate(conn, username, password)


def signed_in_user(core, user_id: int) -> User | None:
    """The user a session or an API token names, while the account is active: one lookup per request."""
    with core.db.lookup() as conn:
        user = users.get_user(conn, user_id)
    return user if user and user.active else None


def create_account(
    core,
    username: str,
    display_name: str,
    password: str,
    department_name: str | None = None,
    *,
    is_admin: bool = False,
    roles: tuple[str, ...] = (),
    email: str | None = None,
) -> User:
    """A new account (`oaflow user create`); the password is stored only as a salted hash."""
    with core.db.write() as conn:
        return users.create_user(
            conn, username, display_name, password, department_name, is_admin=is_admin, roles=roles, email=email
        )


def set_top_approver(core, username: str) -> User:
    """`oaflow org top-approver`: who decides when the applicant is at the top of the approval chain (a
    总经理's own leave): the 董事长 or a named deputy."""
    with core.db.write() as conn:
        return deciders.set_top_approver(conn, username)


def top_approver(core) -> User | None:
    """The organisation's top approver, when one is set."""
    with core.db.read() as conn:
        return deciders.top_approver(conn)
