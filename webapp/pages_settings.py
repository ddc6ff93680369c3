"""The user's own settings: 代理设置 (who handles new work items while the user is away) and 常用意见."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from engine.errors import InvalidData, OaflowError
from engine.work import opinions, out_of_office
from engine.work.views import pages as page_reads

from . import auth, inputs, postback
from .layout import show

bp = Blueprint("settings", __name__)


def _core():
    return current_app.extensions["oaflow"]


# --- 代理设置 ----------------------------------------------------------------------------------


def _render_delegation(values: dict | None = None, errors: dict | None = None, status: int = 200):
    data = out_of_office.delegation_page(_core(), g.user)
    today = data["today"]
    defaults = {
        "delegate": "",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=6)).isoformat(),
        "scope": "all",
        "processes": [],
        "reason": "",
        "move_existing": "",
    }
    html = show(
        "delegation.html",
        data["layout"],
        items=data["items"],
        processes=data["processes"],
        people=data["people"],
        values={**defaults, **(values or {})},
        errors=errors or {},
        active_nav="settings",
    )
    return html, status


@bp.get("/settings/delegation")
@auth.page_login_required
def delegation():
    return _render_delegation(**postback.kept())


@bp.post("/settings/delegation")
@auth.page_login_required
def create_delegation():
    values = {
        **inputs.form_values("delegate", "starts_on", "ends_on", "reason", "move_existing"),
        "scope": request.form.get("scope", "all"),
        "processes": request.form.getlist("processes"),
    }
    scope = values["processes"] if values["scope"] == "some" else []
    if values["scope"] == "some" and not scope:
        return postback.back(request.path, values=values, errors={"processes": "请至少选择一个流程，或选择“全部流程”"})
    try:
        result = out_of_office.delegate_while_away(
            _core(),
            g.user.username,
            values["delegate"],
            values["starts_on"],
            values["ends_on"],
            scope,
            values["reason"],
            bool(values["move_existing"]),
        )
    except InvalidData as exc:
        fields = ("delegate", "starts_on", "ends_on", "processes", "reason")
        return postback.back(request.path, values=values, errors=inputs.field_errors(exc, fields))
    message = f"已设置代理：{result['starts_on']} 至 {result['ends_on']} 由{result['delegate_name']}代理"
    if result.get("moved"):
        message += f"，已转交 {result['moved']} 项待办"
    flash(message, "success")
    return redirect(url_for("settings.delegation"))


@bp.post("/settings/delegation/<int:delegation_id>/end")
@auth.page_login_required
def end_delegation(delegation_id):
    try:
        result = out_of_office.end_delegation(_core(), g.user.username, delegation_id)
    except OaflowError as exc:
        flash(exc.message, "error")
    else:
        flash(f"已结束{result['delegate_name']}的代理：之后的新待办将回到您这里", "success")
    return redirect(url_for("settings.delegation"))


# --- 常用意见 ----------------------------------------------------------------------------------


def _render_phrases(text: str = "", errors: dict | None = None, status: int = 200):
    data = page_reads.phrases_page(_core(), g.user)
    html = show(
        "phrases.html", data["layout"], items=data["items"], text=text, errors=errors or {}, active_nav="settings"
    )
    return html, status


@bp.get("/settings/phrases")
@auth.page_login_required
def phrases():
    return _render_phrases(**postback.kept())


@bp.post("/settings/phrases")
@auth.page_login_required
def add_phrase():
    text = request.form.get("text", "")
    try:
        opinions.add_phrase(_core(), g.user.id, text)
    except InvalidData as exc:
        return postback.back(request.path, text=text, errors=inputs.field_errors(exc, ("text",)))
    flash("已添加常用意见", "success")
    return redirect(url_for("settings.phrases"))


@bp.post("/settings/phrases/<int:phrase_id>/delete")
@auth.page_login_required
def delete_phrase(phrase_id):
    try:
        opinions.delete_phrase(_core(), g.user.id, phrase_id)
    except OaflowError as exc:
        flash(exc.message, "error")
    else:
        flash("已删除常用意见", "success")
    return redirect(url_for("settings.phrases"))
