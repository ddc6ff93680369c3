"""Signing in and out (登录 / 退出), and changing one's password (修改密码)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.errors import InvalidData, TooManyAttempts, Unauthorized
from engine.org import accounts

from . import auth, postback
from .inputs import form_values
from .layout import home_url

bp = Blueprint("account", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: '//host' and '/\\host' would send the user to another site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = _safe_next(request.values.get("next"))
    if g.get("user") is not None and request.method == "GET":
        return redirect(next_url or home_url())
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        try:
            auth.log_in(username, request.form.get("password", ""))
        except (Unauthorized, TooManyAttempts) as refused:
            # Back to the form (Post/Redirect/Get: a refresh never sends the password again), saying why —
            # for the throttle, when to try again; the user name stays typed, the password never is kept.
            again = url_for("account.login", next=next_url) if next_url else url_for("account.login")
            return postback.back(again, error=refused.message, username=username[:150])
        return redirect(next_url or home_url())
    kept = postback.kept()
    return render_template("login.html", error=kept.get("error"), username=kept.get("username", ""), next_url=next_url)


@bp.post("/logout")
def logout():
    auth.logout_user()
    return redirect(url_for("account.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@auth.page_login_required
def password():
    if request.method == "POST":
        values = form_values("old_password", "new_password", "confirm")
        try:
            auth.change_password(values["old_password"], values["new_password"], values["confirm"])
        except InvalidData as refused:  # back to the form (Post/Redirect/Get); passwords are never kept
            return postback.back(request.path, errors={e.field: e.message for e in refused.errors})
        flash("密码已修改，其他设备上的登录已退出", "success")
        first = accounts.password_change_pending(g.user)  # the one-time password is gone: on to the work
        return redirect(home_url() if first else url_for("account.password"))
    return render_template(
        "account_password.html",
        errors=postback.kept().get("errors", {}),
        first_time=accounts.password_change_pending(g.user),
    )
