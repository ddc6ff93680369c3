"""The administrators' 异常申请 page: the instances the engine could not move on, why, and 重试."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from engine.errors import OaflowError
from engine.work import recovery

from . import i18n
from .layout import show

bp = Blueprint("recovery", __name__, url_prefix="/admin")

_EN = {
    "异常申请": "Requests in error",
    "流程执行出错的申请停在出错处，什么也没有改变。"
    "请先修复原因（部署修正后的版本并迁移该申请，或修正组织架构、工作日历），再点“重试”。": (
        "A request whose process failed stays where it stood; nothing was changed. Fix the cause first "
        "(deploy a corrected version and migrate the request, or correct the organisation or the calendar), "
        "then retry."
    ),
    "没有异常的申请": "No request is in error",
    "出错节点": "Failed at",
    "原因": "Reason",
    "出错时间": "Failed at (time)",
    "重试": "Retry",
    "申请人": "Applicant",
    "申请": "Request",
}
for _zh, _en in _EN.items():
    i18n.EN.setdefault(_zh, _en)


def _core():
    return current_app.extensions["oaflow"]


@bp.before_request
def _signed_in_only():
    if g.get("user") is None:
        return redirect(url_for("account.login", next=request.path))
    return None


@bp.get("/errors")
def errors():
    data = recovery.errors_page(_core(), g.user.username)
    return show("admin_errors.html", data["layout"], items=data["items"])


@bp.post("/errors/<int:instance_id>/retry")
def retry(instance_id):
    try:
        result = recovery.retry(_core(), g.user.username, instance_id)
    except OaflowError as exc:
        if exc.status not in (404, 409, 422):
            raise
        flash(exc.message, "error")
    else:
        flash(f"申请 {instance_id} 已恢复：{result['status_label']}", "success")
    return redirect(url_for("recovery.errors"))
