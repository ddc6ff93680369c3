"""Who is calling: browser sessions (with CSRF tokens) and API bearer tokens, each a session the server
keeps (engine.org.sessions) and can end; and what every response carries (security headers).

The browser's signed cookie holds the session's secret (`sid`) and the CSRF token; the account, the
throttle and the session rows are the engine's (engine.org.accounts).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

from flask import abort, current_app, g, has_request_context, jsonify, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.errors import Unauthorized
from engine.org import accounts, sessions, users
from engine.process.diagram.style import STYLE as DIAGRAM_STYLE

_SID = "sid"


def _core():
    return current_app.extensions["oaflow"]


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _user_from_token(token: str | None) -> users.User | None:
    if not token:
        return None
    return accounts.signed_in_user(_core(), token, kind=sessions.API, max_age=current_app.config["TOKEN_MAX_AGE"])


def _user_from_session() -> users.User | None:
    secret = session.get(_SID)
    if not secret:
        return None
    return accounts.signed_in_user(_core(), secret, kind=sessions.WEB, max_age=current_app.config["SESSION_MAX_AGE"])


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


# --- signing in and out ---------------------------------------------------------------------------


def log_in(username, password) -> users.User:
    """The login form: a new browser session (TooManyAttempts / Unauthorized from the engine)."""
    signed = _sign_in(username, password, sessions.WEB, "SESSION_MAX_AGE")
    session.clear()
    session[_SID] = signed.secret
    csrf_token()
    return signed.user


def logout_user() -> None:
    """End this browser's session on the server too: a copy of the cookie opens nothing afterwards."""
    secret = session.get(_SID)
    if secret:
        accounts.sign_out(_core(), secret)
    session.clear()


def issue_token(username, password) -> accounts.SignedIn:
    """POST /api/v1/auth/token: a new API token, throttled like the login form."""
    return _sign_in(username, password, sessions.API, "TOKEN_MAX_AGE")


def _sign_in(username, password, kind: str, max_age_setting: str) -> accounts.SignedIn:
    return accounts.sign_in(
        _core(),
        username,
        password,
        address=request.remote_addr,
        kind=kind,
        max_age=current_app.config[max_age_setting],
    )


def revoke_token() -> None:
    """DELETE /api/v1/auth/token: the caller's token ends."""
    accounts.sign_out(_core(), _bearer())


def change_password(old, new, confirm=None) -> int:
    """修改密码 for the signed-in user; the credential this request came with stays valid."""
    keep = _bearer() if request.path.startswith("/api/") else session.get(_SID)
    return accounts.change_password(_core(), g.user, old, new, confirm=confirm, keep=keep)


# An account whose password an administrator chose reaches only these until it changes it.
PASSWORD_PENDING_ALLOWS = frozenset(
    {
        "static",
        "account.login",
        "account.logout",
        "account.password",
        "api.me",
        "api.change_password",
        "api.token",
        "api.revoke_token",
        "api.openapi",
    }
)


# --- every request and response --------------------------------------------------------------------


def _sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


# No inline script or style anywhere: the pages' own are in webapp/static. The one exception is named
# by its hash: the stylesheet each process diagram (an inline SVG) carries.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        f"style-src 'self' {_sha256_source(DIAGRAM_STYLE)}",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


class _SessionCookie(SecureCookieSessionInterface):
    """The session cookie is `Secure` whenever the request came over HTTPS (as a trusted proxy reports
    it, see TRUSTED_PROXIES), or always with SESSION_COOKIE_SECURE."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def init_app(app) -> None:
    app.session_interface = _SessionCookie()
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:  # only then may X-Forwarded-For / -Proto name the client's address and scheme
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    @app.before_request
    def _load_user():
        if request.path.startswith("/api/"):
            g.user = _user_from_token(_bearer())
            if g.user is not None and request.endpoint not in PASSWORD_PENDING_ALLOWS:
                accounts.require_own_password(g.user)  # 403 password_change_required
            return None
        g.user = _user_from_session()
        if g.user is not None and accounts.password_change_pending(g.user):
            if request.endpoint not in PASSWORD_PENDING_ALLOWS:
                return redirect(url_for("account.password"))
        if request.method == "POST":
            sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
            expected = session.get("csrf") or ""
            if not expected or not hmac.compare_digest(sent, expected):
                abort(400, description="CSRF")
        return None

    @app.after_request
    def _security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.jinja_env.globals["csrf_token"] = csrf_token


def api_login_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("user") is None:
            return jsonify({"error": "未登录或令牌已失效：请先 POST /api/v1/auth/token 获取令牌"}), 401
        return view(*args, **kwargs)

    return wrapper


def page_login_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("account.login", next=request.full_path if request.query_string else request.path))
        return view(*args, **kwargs)

    return wrapper


__all__ = ["Unauthorized"]
