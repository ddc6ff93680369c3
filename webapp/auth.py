"""Who is calling: browser sessions (with CSRF tokens) and API bearer tokens."""

from __future__ import annotations

import functools
import hmac
import secrets
import time

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from engine.errors import Unauthorized
from engine.org import accounts, users


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="oaflow-api-token")


def issue_token(user: users.User) -> str:
    return _serializer().dumps({"u": user.id})


_TOKEN_CACHE_SIZE = 4096


def _token_user_id(token: str) -> int | None:
    """The user id a valid, unexpired token names. A token's signature is checked once per process:
    the same bearer token comes with every call of a client, and the check costs more than the rest
    of the authentication."""
    max_age = current_app.config["TOKEN_MAX_AGE"]
    verified = current_app.extensions.setdefault("oaflow_tokens", {})
    hit = verified.get(token)
    if hit is None:
        try:
            data, signed_at = _serializer().loads(token, max_age=max_age, return_timestamp=True)
        except (BadSignature, SignatureExpired):
            return None
        if len(verified) >= _TOKEN_CACHE_SIZE:
            verified.clear()
        hit = verified[token] = (int(data.get("u", 0)), signed_at.timestamp())
    user_id, signed_at = hit
    if time.time() - signed_at > max_age:
        verified.pop(token, None)
        return None
    return user_id


def _user_from_token(token: str) -> users.User | None:
    user_id = _token_user_id(token)
    return accounts.signed_in_user(current_app.extensions["oaflow"], user_id) if user_id else None


def _user_from_session() -> users.User | None:
    user_id = session.get("uid")
    return accounts.signed_in_user(current_app.extensions["oaflow"], int(user_id)) if user_id else None


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def init_app(app) -> None:
    @app.before_request
    def _load_user():
        if request.path.startswith("/api/"):
            header = request.headers.get("Authorization", "")
            g.user = _user_from_token(header[7:].strip()) if header.lower().startswith("bearer ") else None
            return None
        g.user = _user_from_session()
        if request.method == "POST":
            sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
            expected = session.get("csrf") or ""
            if not expected or not hmac.compare_digest(sent, expected):
                abort(400, description="CSRF")
        return None

    app.jinja_env.globals["csrf_token"] = csrf_token


def login_user(user: users.User) -> None:
    session.clear()
    session["uid"] = user.id
    csrf_token()


def logout_user() -> None:
    session.clear()


def api_login_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("user") is None:
            return jsonify({"error": "未登录或令牌已过期：请先 POST /api/v1/auth/token 获取令牌"}), 401
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
