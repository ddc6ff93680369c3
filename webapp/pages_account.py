"""Signing in and out (登录 / 退出), and changing one's password (修改密码)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.errors import InvalidData, TooManyAttempts, Unauthorized

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
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        try:
            auth.log_in(username, request.form.get("password", ""))
        except Unauthorized as wrong:
            return render_template("login.html", error=wrong.message, username=username, next_url=next_url)
        except TooManyAttempts as refused:  # the form again, saying when to try again
            page = render_template("login.html", error=refused.message, username=username, next_url=next_url)
            return page, refused.status, {"Retry-After": str(refused.retry_after)}
        return redirect(next_url or home_url())
    return render_template("login.html", error=None, username=username, next_url=next_url)


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
        return redirect(url_for("account.password"))
    return render_template("account_password.html", errors=postback.kept().get("errors", {}))
