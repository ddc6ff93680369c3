"""Signing in and out (登录 / 退出), API tokens, password changes and the sign-in throttle, as browsers and
API clients see them: what ends on the server stays ended, wherever a copy of the cookie or token went."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, update
from support import PASSWORD, log_in

from engine.core import Core
from engine.org import accounts, sessions, users
from engine.store.tables import user_account
from engine.store.tables_auth import auth_session
from webapp import create_app
from webapp.cli import main

CJK = re.compile(r"[\u4e00-\u9fff]")
NEW_PASSWORD = "a-new-passphrase"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def get_token(client, username="zhangsan", password=PASSWORD, address="127.0.0.1", headers=None):
    return client.post(
        "/api/v1/auth/token",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers or {},
    )


def token_of(client, username: str = "zhangsan", password: str = PASSWORD) -> str:
    response = get_token(client, username, password)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def signed_in(client) -> bool:
    """Whether the client's cookie opens a page (a signed-out one is sent to the login page)."""
    response = client.get("/inbox/todo")
    assert response.status_code in (200, 302)
    return response.status_code == 200


class Clock:
    """The engine's clock for sign-ins, moved on by hand."""

    def __init__(self, monkeypatch):
        self.now = accounts.utcnow()
        monkeypatch.setattr(accounts, "utcnow", lambda: self.now)

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def users_by_name(core) -> dict[str, int]:
    with core.db.read() as conn:
        return {row.username: row.id for row in conn.execute(select(user_account.c.username, user_account.c.id))}


@pytest.fixture
def password_checks(monkeypatch):
    """Every password check the engine makes, as (stored hash, password) pairs."""
    checked = []
    original = users.check_password_hash

    def spy(pwhash: str, password: str) -> bool:
        checked.append((pwhash, password))
        return original(pwhash, password)

    monkeypatch.setattr(users, "check_password_hash", spy)
    return checked


# --- sessions and tokens end on the server ----------------------------------------------------------


def test_a_cookie_copied_before_logout_stops_working(app, client):
    csrf = log_in(client, "zhangsan")
    copied = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert signed_in(thief)

    client.post("/logout", data={"csrf_token": csrf})

    assert not signed_in(client)
    assert not signed_in(thief)


def test_a_token_can_be_revoked(client):
    token, other = token_of(client), token_of(client)

    response = client.delete("/api/v1/auth/token", headers=bearer(token))

    assert response.status_code == 204
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert client.delete("/api/v1/auth/token", headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200  # only that token


def test_neither_a_copied_database_nor_the_signing_key_makes_a_token(client, core):
    token = token_of(client)
    with core.db.read() as conn:
        stored = [tuple(row) for row in conn.execute(select(auth_session))]
    assert stored and not [row for row in stored if token in map(str, row)]  # kept only as its digest
    admin_id = users_by_name(core)["admin"]
    signed = URLSafeTimedSerializer(core.secret_key(), salt="oaflow-api-token").dumps({"u": admin_id})

    assert client.get("/api/v1/me", headers=bearer(signed)).status_code == 401  # what forged one before
    assert client.get("/api/v1/me", headers=bearer(token + "x")).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_changing_the_password_ends_every_other_session_and_token(app, client):
    browser = app.test_client()
    log_in(browser, "zhangsan")
    changing, other = token_of(client), token_of(client)

    response = client.post(
        "/api/v1/me/password",
        headers=bearer(changing),
        json={"old_password": PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 200, response.get_json()
    assert CJK.search(response.get_json()["message"])
    assert client.get("/api/v1/me", headers=bearer(changing)).status_code == 200  # the one that changed it
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 401
    assert not signed_in(browser)
    assert get_token(client).status_code == 401  # the old password no longer opens the account
    assert get_token(client, password=NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"old_password": "wrong-password", "new_password": NEW_PASSWORD}, "old_password"),
        ({"old_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"old_password": PASSWORD, "new_password": PASSWORD}, "new_password"),
        ({"old_password": PASSWORD}, "new_password"),
    ],
    ids=["wrong-old", "too-short", "unchanged", "missing"],
)
def test_a_refused_password_change_changes_nothing(client, body, field):
    token, other = token_of(client), token_of(client)

    response = client.post("/api/v1/me/password", headers=bearer(token), json=body)

    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == [field]
    assert CJK.search(response.get_json()["error"])
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200
    assert get_token(client).status_code == 200


def test_the_password_page_changes_it_and_keeps_this_browser_signed_in(app, client):
    other_browser = app.test_client()
    log_in(other_browser, "zhangsan")
    csrf = log_in(client, "zhangsan")
    assert "修改密码" in client.get("/inbox/todo").get_data(as_text=True)  # under the user's name
    assert client.get("/account/password").status_code == 200

    wrong = client.post(
        "/account/password",
        data={"csrf_token": csrf, "old_password": "nope-nope", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert wrong.status_code == 303 and wrong.location.endswith("/account/password")  # never a page at a POST
    assert "原密码不正确" in client.get("/account/password").get_data(as_text=True)
    mismatch = client.post(
        "/account/password",
        data={"csrf_token": csrf, "old_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": "different!"},
    )
    assert mismatch.status_code == 303
    assert "两次输入的新密码不一致" in client.get("/account/password").get_data(as_text=True)
    assert signed_in(other_browser)

    done = client.post(
        "/account/password",
        data={"csrf_token": csrf, "old_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        follow_redirects=True,
    )

    assert done.status_code == 200 and "密码已修改" in done.get_data(as_text=True)
    assert signed_in(client)
    assert not signed_in(other_browser)


def test_the_password_page_needs_a_signed_in_user(client):
    response = client.get("/account/password")
    assert response.status_code == 302 and "/login" in response.location


# --- constant-time failures ---------------------------------------------------------------------------


def test_an_unknown_user_costs_the_same_password_check(client, password_checks):
    assert get_token(client, "zhangsan", "wrong-password").status_code == 401
    assert get_token(client, "nobody-at-all", "wrong-password").status_code == 401

    real, unknown = password_checks
    assert unknown[1] == "wrong-password"
    assert unknown[0].split("$")[0] == real[0].split("$")[0]  # the same scrypt, with the same parameters


def test_an_inactive_account_costs_the_same_password_check(client, core, password_checks):
    with core.db.write() as conn:
        conn.execute(update(user_account).where(user_account.c.username == "zhangsan").values(active=False))
    assert get_token(client, "zhangsan", PASSWORD).status_code == 401
    assert len(password_checks) == 1


# --- throttling -------------------------------------------------------------------------------------------


def test_wrong_passwords_for_one_account_are_throttled_without_checking_them(client, password_checks):
    for _ in range(4):
        assert get_token(client, "zhangsan", "wrong-password").status_code == 401
    fifth = get_token(client, "zhangsan", "wrong-password")
    assert fifth.status_code == 429  # the failure that starts the wait says so at once
    checks = len(password_checks)

    again = get_token(client, "zhangsan", PASSWORD)  # even the right password waits

    assert again.status_code == 429
    assert 50 <= int(again.headers["Retry-After"]) <= 60  # seconds left of the first minute
    message = again.get_json()["error"]
    assert "登录失败次数过多" in message and "1 分钟后再试" in message
    assert "token" not in again.get_json()
    assert len(password_checks) == checks  # no scrypt once throttled
    assert get_token(client, "lisi", PASSWORD).status_code == 200  # other accounts are not affected


def test_an_unknown_user_name_is_throttled_like_a_real_one(client):
    answers = [get_token(client, "nobody-at-all", "wrong-password").status_code for _ in range(6)]
    assert answers == [401, 401, 401, 401, 429, 429]


def test_a_successful_sign_in_resets_the_accounts_count(client):
    for _ in range(4):
        assert get_token(client, "zhangsan", "wrong-password").status_code == 401
    assert get_token(client, "zhangsan", PASSWORD).status_code == 200
    for _ in range(4):
        assert get_token(client, "zhangsan", "wrong-password").status_code == 401


def test_one_address_is_capped_across_accounts(client, core):
    names = sorted(users_by_name(core))
    assert len(names) >= 8  # so that no account reaches its own limit of 5 in 30 tries
    attempts = [(name, n) for n in range(4) for name in names][:30]
    answers = [get_token(client, name, f"guess-{n}", address="203.0.113.9").status_code for name, n in attempts]

    assert answers[:29] == [401] * 29 and answers[29] == 429
    assert get_token(client, "zhangsan", PASSWORD, address="203.0.113.9").status_code == 429
    assert get_token(client, "zhangsan", PASSWORD, address="198.51.100.4").status_code == 200


def test_the_login_page_says_when_to_try_again(client, password_checks):
    client.get("/login")
    with client.session_transaction() as session:
        csrf = session["csrf"]
    form = {"username": "lisi", "password": "wrong-password", "csrf_token": csrf}
    for _ in range(5):
        page = client.post("/login", data=form)
    checks = len(password_checks)

    answer = client.post("/login", data={**form, "password": PASSWORD})

    assert answer.status_code == 303 and answer.location.endswith("/login")  # never a page at a POST
    page = client.get(answer.location)
    text = page.get_data(as_text=True)
    assert "登录失败次数过多" in text and "分钟后再试" in text
    assert 'value="lisi"' in text  # the user name stays typed
    assert len(password_checks) == checks
    assert not signed_in(client)


# --- what every response carries -------------------------------------------------------------------------


def test_security_headers_on_every_response(client, api):
    log_in(client, "zhangsan")
    responses = [
        client.get("/inbox/todo"),
        client.get("/login"),
        client.get("/no-such-page"),
        client.get("/static/style.css"),
        api("zhangsan").get("/api/v1/me"),
        client.get("/api/v1/me"),
    ]
    for response in responses:
        headers = response.headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_no_page_has_inline_script_or_style():
    """The policy allows no inline script or style: the pages keep theirs in webapp/static."""
    templates = Path(__file__).resolve().parents[2] / "webapp" / "templates"
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)
    found = [
        f"{path.name}: {match.group(0)}"
        for path in templates.glob("*.html")
        for match in inline.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_session_cookie_is_secure_over_https(app):
    plain, secure = app.test_client(), app.test_client()
    log_in(plain, "zhangsan")
    secure.get("/login", base_url="https://oa.example.cn")
    with secure.session_transaction(base_url="https://oa.example.cn") as session:
        csrf = session["csrf"]
    response = secure.post(
        "/login",
        base_url="https://oa.example.cn",
        data={"username": "zhangsan", "password": PASSWORD, "csrf_token": csrf},
    )

    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert plain.get_cookie("session").secure is False


def test_the_diagrams_own_stylesheet_is_the_only_inline_style_allowed(client, leave):
    instance_id = leave.start()["id"]
    log_in(client, "zhangsan")

    page = client.get(f"/instances/{instance_id}")

    styles = re.findall(r"<style>(.*?)</style>", page.get_data(as_text=True), re.DOTALL)
    assert styles, "the instance page shows its diagram"
    policy = page.headers["Content-Security-Policy"]
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy


@pytest.mark.parametrize(("trusted", "secure"), [(0, False), (1, True)], ids=["no-proxy", "trusted-proxy"])
def test_a_forwarded_scheme_and_address_count_only_behind_a_trusted_proxy(core, monkeypatch, trusted, secure):
    monkeypatch.setenv("OAFLOW_TRUSTED_PROXIES", str(trusted))
    client = create_app(core, {"TESTING": True}).test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    client.get("/login")
    with client.session_transaction() as session:
        csrf = session["csrf"]

    response = client.post(
        "/login", headers=forwarded, data={"username": "zhangsan", "password": PASSWORD, "csrf_token": csrf}
    )

    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
    assert ("Secure" in cookie) is secure
    for n in range(30):  # guesses from the forwarded address count on it only behind a trusted proxy
        get_token(client, f"nobody-{n}", "wrong-password", headers=forwarded)
    answer = get_token(client, "lisi", PASSWORD, address="198.51.100.4", headers=forwarded)
    assert (answer.status_code == 429) is secure


# --- the throttle's rules over time, and across web processes ------------------------------------------


def test_every_web_process_sees_the_same_counts(core, db_url, client):
    other_process = Core(url=db_url)
    try:
        other = create_app(other_process, {"TESTING": True}).test_client()
        for attempt in range(5):
            get_token(client if attempt % 2 else other, "zhangsan", "wrong-password")
        assert get_token(client, "zhangsan", PASSWORD).status_code == 429
        assert get_token(other, "zhangsan", PASSWORD).status_code == 429
    finally:
        other_process.db.dispose()


def test_the_wait_ends_and_doubles_with_each_further_failure(client, monkeypatch):
    clock = Clock(monkeypatch)
    for _ in range(5):
        get_token(client, "zhangsan", "wrong-password")

    clock.advance(minutes=1, seconds=1)
    assert get_token(client, "zhangsan", "wrong-password").status_code == 429  # the lock is over, one more
    refused = get_token(client, "zhangsan", PASSWORD)
    assert refused.status_code == 429 and "2 分钟后再试" in refused.get_json()["error"]

    clock.advance(minutes=2, seconds=1)
    assert get_token(client, "zhangsan", PASSWORD).status_code == 200
    assert get_token(client, "zhangsan", "wrong-password").status_code == 401  # counting from zero again


def test_quiet_minutes_forget_the_failures(client, monkeypatch):
    clock = Clock(monkeypatch)
    for _ in range(4):
        get_token(client, "zhangsan", "wrong-password")
    clock.advance(minutes=16)
    assert [get_token(client, "zhangsan", "wrong-password").status_code for _ in range(5)][-2:] == [401, 429]


# --- deactivating an account -------------------------------------------------------------------------


def test_deactivating_a_user_ends_their_sessions_and_tokens(app, client, core):
    log_in(client, "zhangsan")
    token = token_of(app.test_client())

    assert accounts.deactivate(core, "zhangsan") == 2

    assert not signed_in(client)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    with core.db.write() as conn:  # switched back on, the old sessions stay ended
        conn.execute(update(user_account).where(user_account.c.username == "zhangsan").values(active=True))
    assert not signed_in(client)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_the_command_line_deactivates_a_user(core, db_url, monkeypatch):
    token = accounts.start_session(core, "lisi", kind=sessions.API)
    monkeypatch.setenv("OAFLOW_DATABASE_URL", db_url)

    result = CliRunner().invoke(main, ["user", "deactivate", "lisi"])

    assert result.exit_code == 0, result.output
    assert "已停用" in result.output
    assert accounts.signed_in_user(core, token, kind=sessions.API, max_age=3600) is None
    assert CliRunner().invoke(main, ["user", "deactivate", "nobody-at-all"]).exit_code != 0
