"""The task page (待办): the application, the form to fill and the decision (同意 / 不同意, 重新提交, 办理完成),
and the operation forms the node allows (their routes are in pages_item_operations)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, jsonify, redirect, request, url_for

from engine.errors import InvalidData, OaflowError
from engine.process import forms
from engine.work import decisions, opinions
from engine.work.views import application
from engine.work.views import detail as details

from . import auth, inputs, postback, uploads
from .layout import DECISION_LABELS, home_url, show

bp = Blueprint("work_item", __name__)


def _core():
    return current_app.extensions["oaflow"]


def _state_label(item: dict) -> str:
    if item["kind"] == "cc":
        return "知会，无需审批"
    if item["kind"] == "read":
        return "申请已结束，传阅已关闭" if item["mine"] else "这不是您的待阅"
    if item["status"] == "done":
        return f"已处理：{DECISION_LABELS.get(item['decision'], item['decision'] or '')}".rstrip("：")
    if item["status"] == "waiting":
        return f"暂不能处理：{item.get('note') or '等待他人处理'}"
    if item["status"] == "cancelled":
        return "已由他人处理" if not item.get("note") else item["note"]
    if not item["mine"]:
        return "这不是您的待办"
    return "该申请已结束，无需处理"


def _prefill(item: dict) -> dict:
    if item["origin"] == "resubmit":  # the drafter corrects what was submitted
        fields = item["form"].get("properties", {})
        return {name: value for name, value in item["data"].items() if name in fields}
    held = {n: item["data"][n] for n in forms.file_fields(item["form"]) if item["data"].get(n)}
    return {**inputs.defaults(item["form"]), **held}  # the files the application holds stay unless replaced


def render_work_item(
    item_id: int,
    *,
    values: dict | None = None,
    errors: dict | None = None,
    opinion: str = "",
    signature: str = "",
    op: dict | None = None,
    status: int = 200,
):
    """The task page. `op` = {"name": operation, "errors": {field: message}, "values": {...}} re-opens
    one operation's form with what was typed and the engine's message next to the field."""
    data = application.work_item_page(_core(), g.user, item_id)
    item = data["item"]
    html = show(
        "work_item.html",
        data["layout"],
        item=item,
        detail=data["detail"],
        view_schema=data["view_schema"],
        user_names=data["user_names"],
        values=_prefill(item) if values is None else values,
        errors=errors or {},
        opinion=opinion,
        signature=signature,
        users=data["users"],
        people=data["people"],
        readers=data["readers"],
        phrases=data["phrases"],
        op=op or {"name": None, "errors": {}, "values": {}},
        state_label=_state_label(item),
    )
    return html, status


def save_phrase_if_asked(opinion: str | None) -> None:
    """The "保存为常用意见" box next to an opinion: keep the text once the operation succeeded."""
    text = (opinion or "").strip()
    if not request.form.get("save_phrase") or not text:
        return
    try:
        opinions.add_phrase(_core(), g.user.id, text)
    except InvalidData as exc:
        flash(f"常用意见未保存：{exc.errors[0].message}", "error")
    else:
        flash("已保存为常用意见", "info")


@bp.route("/work-items/<int:item_id>", methods=["GET", "POST"])
@auth.page_login_required
def page(item_id):
    if request.method == "GET":
        return render_work_item(item_id, **postback.kept())
    core = _core()
    item = details.get_work_item(core, g.user, item_id)
    schema = item["form"]
    data, values = inputs.submitted(schema)
    decision = request.form.get("decision", "")
    opinion = request.form.get("opinion", "")
    signature = request.form.get("signature", "").strip()
    try:
        uploads.with_files(core, g.user.username, schema, data, values, work_item_id=item_id)
        decisions.complete(core, g.user.username, item_id, data, decision, opinion, signature or None)
    except InvalidData as exc:
        errors = inputs.field_errors(exc, inputs.schema_fields(schema, "opinion", "signature"))
        return postback.back(request.path, values=values, errors=errors, opinion=opinion)
    except OaflowError as exc:
        if exc.status not in (409, 413, 422):
            raise
        return postback.back(request.path, exc.message, values=values)
    if item["origin"] == "resubmit":
        flash("已重新提交", "success")
        return redirect(url_for("instance.page", instance_id=item["instance_id"]))
    if decision == "approve":
        flash("已提交意见" if item["sign_mode"] == "collect" else "已同意", "success")
    else:
        flash("已不同意", "success")
    save_phrase_if_asked(opinion)
    return redirect(home_url())


@bp.post("/work-items/<int:item_id>/preview")
@auth.page_login_required
def preview(item_id):
    """The work item form's computed fields for what is typed so far (oaflow.js asks as the user types)."""
    body = inputs.json_body()
    return jsonify(details.preview_computed(_core(), g.user, item_id, body.get("data")))
