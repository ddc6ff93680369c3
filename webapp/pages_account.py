"""Signing in and out (登录 / 退出)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from engine.org import accounts

from . import auth
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
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        user = accounts.sign_in(current_app.extensions["oaflow"], username, request.form.get("password", ""))
        if user is not None:
            auth.login_user(user)
            return redirect(next_url or home_url())
        error = "用户名或密码错误"
    return render_template("login.html", error=error, username=username, next_url=next_url)


@bp.post("/logout")
def logout():
    auth.logout_user()
    return redirect(url_for("account.login"))
