"""文号管理 (administrators): the 发文字号 counters, setting the next number, 作废 (left void or reusable) and
预留. Each form posts, then redirects back to the page (webapp/postback.py keeps what was typed on an error)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, url_for

from engine.errors import InvalidData, OaflowError
from engine.work import doc_numbers

from . import auth, i18n, inputs, postback
from .layout import show

bp = Blueprint("doc_numbers", __name__)

FIELDS = ("prefix", "year", "next", "number", "count", "reason")

_EN = {
    "文号管理": "Document numbers",
    "发文字号按“机关代字〔年份〕序号号”编排，例如 示例办发〔2026〕12号；每个机关代字每年从 1 号起编。"
    "流程办结编号节点时自动取号，不会重号、不会跳号。": (
        "Document numbers read “code〔year〕number号”, e.g. 示例办发〔2026〕12号; each code starts at 1 every "
        "year. A number is taken when a process completes its numbering step: never twice, never skipped."
    ),
    "计数器": "Counters",
    "还没有编过发文字号": "No document has been numbered yet",
    "机关代字": "Code",
    "年份": "Year",
    "下一个文号": "Next number",
    "已使用": "Used",
    "已作废": "Void",
    "作废待重用": "Void, to reuse",
    "已预留": "Reserved",
    "设置下一个文号": "Set the next number",
    "接续纸质登记簿时使用：下一个文号必须大于已使用过的最大文号。": (
        "To continue a paper register: the next number must be above every number used so far."
    ),
    "原因": "Reason",
    "作废文号": "Void a number",
    "文号": "Number",
    "作废原因": "Why it is void",
    "作废后": "Afterwards",
    "保持作废，不再使用": "Keep it void, never use it again",
    "可重新使用：下一次编号优先使用": "Reuse it: the next numbering takes it first",
    "作废": "Void",
    "预留文号": "Reserve numbers",
    "填写文号预留该号；或只填写个数，预留接下来的空号。自动编号时跳过预留的文号。": (
        "Give a number to reserve it, or only a count to reserve the next free ones. Numbering skips reserved numbers."
    ),
    "个数": "Count",
    "预留原因": "Why it is reserved",
    "预留": "Reserve",
    "调整记录": "Changes",
    "暂无记录": "No changes yet",
    "发文字号": "Document number",
    "编号": "Numbered",
    "文号调整": "Next number set",
    "文号作废": "Number voided",
    "文号预留": "Numbers reserved",
    "分配预留文号": "Reserved number assigned",
}
for _zh, _en in _EN.items():
    i18n.EN.setdefault(_zh, _en)


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
