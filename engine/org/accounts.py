"""Accounts as the sign-in form, the API and the command line reach them: signing in and out (throttled,
in constant time), the signed-in user on each request, changing one's password, creating and
deactivating an account, the organisation's top approver. Each function is one command with its own
transactions; the rules of sessions and of the throttle are in engine.org.sessions and engine.org.throttle,
who may decide an item in engine.org.deciders."""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import Conflict, FieldError, Forbidden, InvalidData, TooManyAttempts, Unauthorized
from engine.org import deciders, office, sessions, sign_in_log, throttle, users
from engine.org.users import User
from engine.store.tables import utcnow

WRONG_CREDENTIALS = "用户名或密码错误"


@dataclass(frozen=True)
class SignedIn:
    user: User
    secret: str  # what the client keeps: the browser session's id, or the API token


MUST_CHANGE = "请先修改密码：管理员设置的初始密码须在首次登录后修改（页面“修改密码”，或 POST /api/v1/me/password）"


class PasswordChangeRequired(Forbidden):
    """The account signs in with a password an administrator chose: nothing else until it is changed."""

    code = "password_change_required"


def password_change_pending(user: User) -> bool:
    """Whether the signed-in user must change their password before doing anything else."""
    return user.must_change_password


def require_own_password(user: User) -> None:
    """PasswordChangeRequired (403, code password_change_required) while the password is an administrator's."""
    if password_change_pending(user):
        raise PasswordChangeRequired(MUST_CHANGE)


def sign_in(core, username, password, *, address: str | None, kind: str, max_age: float) -> SignedIn:
    """A new session (or API token) for the active account these credentials open.

    TooManyAttempts, before any password is checked, while the account or the client address is locked;
    Unauthorized (saying only that the credentials are wrong) otherwise. An unknown user name and an
    inactive account cost the same password check as a wrong password."""
    username = username.strip() if isinstance(username, str) else ""
    counters = throttle.counters(username, address)
    logged = {"username": username, "address": address, "kind": kind}  # the 登录日志's row (engine.org.sign_in_log)
    try:
        with core.db.read() as conn:
            throttle.check(conn, counters, utcnow())
            user, pwhash = users.account_for_sign_in(conn, username)
    except TooManyAttempts as exc:
        with core.db.write() as conn:
            sign_in_log.record(conn, **logged, user_id=None, success=False, reason=exc.message, at=utcnow())
        raise
    matched = users.password_matches(pwhash, password)  # outside any transaction: it takes ~80 ms
    if not (matched and user is not None and user.active):
        now = utcnow()
        with core.db.write() as conn:
            wait = throttle.record_failure(conn, counters, now)
            throttle.prune(conn, now)
            refusal = throttle.refusal(wait) if wait is not None else Unauthorized(WRONG_CREDENTIALS)
            user_id = user.id if user is not None else None
            sign_in_log.record(conn, **logged, user_id=user_id, success=False, reason=refusal.message, at=now)
        raise refusal
    now = utcnow()
    with core.db.write() as conn:
        throttle.forget(conn, username)
        sessions.prune(conn, kind, max_age, now)
        sign_in_log.record(conn, **logged, user_id=user.id, success=True, reason=None, at=now)
        return SignedIn(user, sessions.start(conn, user.id, kind, now))


def signed_in_user(core, secret, *, kind: str, max_age: float) -> User | None:
    """The user a live session (or API token) names, while the account is active: one lookup per request."""
    with core.db.lookup() as conn:
        user_id = sessions.holder(conn, secret, kind, max_age, utcnow())
        user = users.get_user(conn, user_id) if user_id is not None else None
    return user if user and user.active else None


def sign_out(core, secret) -> None:
    """End this session (or revoke this API token): a copy of it opens nothing any more."""
    with core.db.write() as conn:
        sessions.end(conn, secret)


def start_session(core, username: str, *, kind: str) -> str:
    """A session for an active user without a password (the command line's and the tests' way in)."""
    with core.db.write() as conn:
        user = users.require_user(conn, username)
        return sessions.start(conn, user.id, kind, utcnow())


def change_password(core, user: User, old, new, *, confirm=None, keep: str | None = None) -> int:
    """修改密码: the old password, the new one (and, from a form, the new one again). Every other session and
    API token of the user ends; `keep`, the one making the change, stays. Refused with every problem named
    by its field, changing nothing. Returns how many sessions and tokens ended."""
    old = old if isinstance(old, str) else ""
    new = new if isinstance(new, str) else ""
    with core.db.read() as conn:
        throttle.check(conn, throttle.counters(user.username, None), utcnow())
        stored = users.password_hash_of(conn, user.id)
    errors = []
    wrong_old = bool(old) and not users.password_matches(stored, old)
    if not old:
        errors.append(FieldError("old_password", "请填写原密码"))
    elif wrong_old:
        errors.append(FieldError("old_password", "原密码不正确"))
    if not new:
        errors.append(FieldError("new_password", "请填写新密码"))
    elif users.password_too_short(new):
        errors.append(FieldError("new_password", f"新密码至少 {users.MIN_PASSWORD_LENGTH} 个字符"))
    elif new == old:
        errors.append(FieldError("new_password", "新密码不能与原密码相同"))
    if confirm is not None and confirm != new:
        errors.append(FieldError("confirm", "两次输入的新密码不一致"))
    if errors:
        if wrong_old:  # counts as a failed sign-in: a stolen session must not become a password oracle
            with core.db.write() as conn:
                throttle.record_failure(conn, throttle.counters(user.username, None), utcnow())
        raise InvalidData(errors)
    new_hash = users.hash_password(new)
    with core.db.write() as conn:
        if stored is None or not users.set_password(conn, user.id, new_hash, was=stored):
            raise Conflict("密码刚被修改过：请用新密码重新登录后再试")
        return sessions.end_all(conn, user.id, keep=keep)


def deactivate(core, username: str) -> int:
    """停用 an account: it cannot sign in, and every session and API token it holds ends now. Returns how
    many ended."""
    with core.db.write() as conn:
        user = users.deactivate(conn, username)
        return sessions.end_all(conn, user.id)


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


def set_office_name(core, name: str) -> str:
    """`oaflow org office-name`: the office's name, as the 红头 of its 发文 prints it."""
    with core.db.write() as conn:
        return office.set_office_name(conn, name)


def office_name(core) -> str:
    """The office's name (an example name until one is set)."""
    with core.db.read() as conn:
        return office.office_name(conn)
