"""Browser forms for the operations on an application: 撤回申请, 撤销, 催办, 知会, 传阅 and 撤回传阅, 挂起 / 恢复
(administrators), and the signature images of its decisions."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from engine.errors import InvalidData, OaflowError
from engine.org import directory
from engine.work import circulation, readers, retraction, suspension
from engine.work.views import detail as details

from . import auth, inputs, postback
from .api_operations import signature_response
from .layout import clock

bp = Blueprint("instance_ops", __name__)


def _core():
    return current_app.extensions["oaflow"]


def cc_message(result) -> str:
    names = result.get("readers") or []
    return f"已知会：{'、'.join(names)}" if names else "所选人员都已知会过，未重复发送"


def _instance_op(instance_id: int, name: str, fields, command, success, *, values: dict):
    try:
        result = command()
    except InvalidData as exc:
        op = {"name": name, "errors": inputs.field_errors(exc, fields), "values": values}
        return postback.back(url_for("instance.page", instance_id=instance_id), op=op)
    except OaflowError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
    else:
        flash(success(result), "success")
    return redirect(url_for("instance.page", instance_id=instance_id))


@bp.post("/instances/<int:instance_id>/withdraw")
@auth.page_login_required
def withdraw(instance_id):
    return _instance_op(
        instance_id,
        "withdraw",
        (),
        lambda: retraction.withdraw(_core(), g.user.username, instance_id),
        lambda result: "已撤回申请：请在待办中修改后重新提交，或撤销申请",
        values={},
    )


@bp.post("/instances/<int:instance_id>/cancel")
@auth.page_login_required
def cancel(instance_id):
    values = inputs.form_values("reason")
    return _instance_op(
        instance_id,
        "cancel",
        ("reason",),
        lambda: retraction.cancel(_core(), g.user.username, instance_id, values["reason"]),
        lambda result: "已撤销申请",
        values=values,
    )


@bp.post("/instances/<int:instance_id>/urge")
@auth.page_login_required
def urge(instance_id):
    values = inputs.form_values("message")
    return _instance_op(
        instance_id,
        "urge",
        ("message",),
        lambda: readers.urge(_core(), g.user.username, instance_id, values["message"]),
        lambda result: (
            f"已催办：{directory.display_names(_core(), result['urged'])}"
            + (f"；可于 {clock(result['again_at'])} 后再次催办" if result.get("again_at") else "")
        ),
        values=values,
    )


@bp.post("/instances/<int:instance_id>/cc")
@auth.page_login_required
def cc(instance_id):
    values = {**inputs.form_values("message"), "users": request.form.getlist("users")}
    return _instance_op(
        instance_id,
        "cc",
        ("users", "message"),
        lambda: readers.cc(_core(), g.user.username, instance_id, values["users"], values["message"]),
        cc_message,
        values=values,
    )


def circulate_message(result) -> str:
    names = directory.display_names(_core(), result["added"])
    return f"已传阅：{names}" if names else "所选人员都在传阅中，未重复发送"


@bp.post("/instances/<int:instance_id>/circulate")
@auth.page_login_required
def circulate(instance_id):
    values = {
        **inputs.form_values("message"),
        "users": request.form.getlist("users"),
        "departments": request.form.getlist("departments"),
    }
    return _instance_op(
        instance_id,
        "circulate",
        ("users", "departments", "message"),
        lambda: circulation.circulate(
            _core(), g.user.username, instance_id, values["users"], values["departments"], values["message"]
        ),
        circulate_message,
        values=values,
    )


@bp.post("/instances/<int:instance_id>/circulate/recall")
@auth.page_login_required
def recall_readers(instance_id):
    values = {"users": request.form.getlist("users")}
    return _instance_op(
        instance_id,
        "recall_readers",
        ("users",),
        lambda: circulation.recall_readers(_core(), g.user.username, instance_id, values["users"]),
        lambda result: f"已撤回传阅：{directory.display_names(_core(), result['recalled'])}",
        values=values,
    )


def _flash_refusal(exc: OaflowError) -> None:
    if exc.status not in (409, 422):
        raise exc
    flash(inputs.error_text(exc) if isinstance(exc, InvalidData) else exc.message, "error")


@bp.post("/instances/<int:instance_id>/suspend")
@auth.page_login_required
def suspend(instance_id):
    try:
        suspension.suspend(_core(), g.user.username, instance_id, request.form.get("reason", ""))
    except OaflowError as exc:
        _flash_refusal(exc)
    else:
        flash("已挂起：期限暂停计算", "success")
    return redirect(url_for("instance.page", instance_id=instance_id))


@bp.post("/instances/<int:instance_id>/resume")
@auth.page_login_required
def resume(instance_id):
    try:
        result = suspension.resume(_core(), g.user.username, instance_id, request.form.get("reason", ""))
    except OaflowError as exc:
        _flash_refusal(exc)
    else:
        flash(f"已恢复：期限顺延 {result['paused_minutes'] / 60:.1f} 个工作小时", "success")
    return redirect(url_for("instance.page", instance_id=instance_id))


@bp.get("/instances/<int:instance_id>/signatures/<int:item_id>.png")
@auth.page_login_required
def signature(instance_id, item_id):
    return signature_response(details.signature_image(_core(), g.user, instance_id, item_id))
