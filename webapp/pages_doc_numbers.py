"""文号管理 (administrators): the 发文字号 counters, setting the next number, 作废 (left void or reusable) and
预留. Each form posts, then redirects back to the page (webapp/postback.py keeps what was typed on an error)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, url_for

from engine.errors import InvalidData, OaflowError
from engine.work import doc_numbers

from . import auth, inputs, postback
from .layout import show

bp = Blueprint("doc_numbers", __name__)

FIELDS = ("prefix", "year", "next", "number", "count", "reason")


def _core():
    return current_app.extensions["oaflow"]


@bp.get("/admin/doc-numbers")
@auth.page_login_required
def page():
    data = doc_numbers.counters_page(_core(), g.user.username)
    kept = postback.kept()
    return show(
        "admin_doc_numbers.html",
        data["layout"],
        counters=data["counters"],
        changes=data["changes"],
        form=kept.get("form"),
        values=kept.get("values") or {},
        errors=kept.get("errors") or {},
        active_nav="doc_numbers",
    )


def _whole(values: dict, name: str):
    """A number typed in the form as the command takes it (the command names the field when it is not one)."""
    text = values.get(name, "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else (text or None)


def _run(form: str, call, done: str):
    values = inputs.form_values(*FIELDS, "reuse")
    try:
        result = call(values)
    except InvalidData as exc:
        return postback.back(
            url_for("doc_numbers.page"), form=form, values=values, errors=inputs.field_errors(exc, FIELDS)
        )
    except OaflowError as exc:
        if exc.status not in (404, 409):
            raise
        return postback.back(url_for("doc_numbers.page"), exc.message, form=form, values=values)
    flash(done.format(**result), "success")
    return redirect(url_for("doc_numbers.page"), 303)


@bp.post("/admin/doc-numbers/next")
@auth.page_login_required
def set_next():
    return _run(
        "next",
        lambda v: doc_numbers.set_next(
            _core(), g.user.username, v["prefix"], _whole(v, "year"), _whole(v, "next"), v["reason"]
        ),
        "已保存：{prefix}〔{year}〕下一个文号为 {next}",
    )


@bp.post("/admin/doc-numbers/void")
@auth.page_login_required
def void():
    return _run(
        "void",
        lambda v: doc_numbers.void(
            _core(),
            g.user.username,
            v["prefix"],
            _whole(v, "year"),
            _whole(v, "number"),
            v["reason"],
            reuse=v["reuse"] == "1",
        ),
        "已作废：{prefix}〔{year}〕{number}号",
    )


@bp.post("/admin/doc-numbers/reserve")
@auth.page_login_required
def reserve():
    def call(v):
        result = doc_numbers.reserve(
            _core(),
            g.user.username,
            v["prefix"],
            _whole(v, "year"),
            number=_whole(v, "number"),
            count=None if v["number"].strip() else _whole(v, "count"),
            reason=v["reason"],
        )
        return {**result, "listed": "、".join(str(n) for n in result["numbers"])}

    return _run("reserve", call, "已预留：{prefix}〔{year}〕{listed}号")
