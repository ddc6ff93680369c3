"""Browser forms for the operations on a work item: 退回, 转办, 委派 (and 办理完成), 加签/减签, 知会, 撤销申请
(from the drafter's 重新提交 page), 撤回审批, and 已阅 / 批示 on a 待阅 item. Each form posts to its own
route, which calls one engine command and then redirects with a Chinese message, or re-renders the task page
with the engine's message next to the field."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from engine.errors import InvalidData, OaflowError
from engine.org import directory
from engine.work import circulation, handover, readers, retraction, rework
from engine.work.views import detail as details

from . import auth, inputs, postback
from .layout import home_url
from .pages_instance_operations import cc_message
from .pages_work_item import save_phrase_if_asked

bp = Blueprint("item_ops", __name__)


def _core():
    return current_app.extensions["oaflow"]


def _names(usernames) -> str:
    return directory.display_names(_core(), usernames)


def _item_op(item_id: int, name: str, fields, command, success, *, values: dict, after="inbox"):
    """Run one work-item operation: flash + redirect on success; on bad input back to the task page with the
    operation's form open again (Post/Redirect/Get), the engine's message flashed when the state does not
    allow it (already handled, not permitted …)."""
    try:
        result = command()
    except InvalidData as exc:
        op = {"name": name, "errors": inputs.field_errors(exc, fields), "values": values}
        return postback.back(url_for("work_item.page", item_id=item_id), op=op)
    except OaflowError as exc:
        if exc.status == 404:
            raise
        return postback.back(url_for("work_item.page", item_id=item_id), exc.message)
    flash(success(result), "success")
    save_phrase_if_asked(values.get("opinion"))
    if after == "item":
        return redirect(url_for("work_item.page", item_id=item_id))
    if after == "instance":
        return redirect(url_for("instance.page", instance_id=result["id"]))
    return redirect(home_url())


def _instance_of(item_id: int) -> int:
    """The instance of one of the user's own work items (NotFound / Forbidden otherwise)."""
    return details.instance_of_item(_core(), g.user, item_id)


@bp.post("/work-items/<int:item_id>/send-back")
@auth.page_login_required
def send_back(item_id):
    values = inputs.form_values("to_node", "opinion")

    def success(result):
        target = result["to"]
        handlers = "、".join(target["handlers"])
        return f"已退回至{target['name']}" + (f"（{handlers}）" if handlers else "")

    return _item_op(
        item_id,
        "send_back",
        ("to_node", "opinion"),
        lambda: rework.send_back(_core(), g.user.username, item_id, values["to_node"] or None, values["opinion"]),
        success,
        values=values,
    )


@bp.post("/work-items/<int:item_id>/transfer")
@auth.page_login_required
def transfer(item_id):
    values = inputs.form_values("to_user", "opinion")
    return _item_op(
        item_id,
        "transfer",
        ("to_user", "opinion"),
        lambda: handover.transfer(
            _core(), g.user.username, item_id, inputs.chosen_user(values["to_user"]), values["opinion"]
        ),
        lambda result: f"已转办给{_names([result['to']])}",
        values=values,
    )


@bp.post("/work-items/<int:item_id>/delegate")
@auth.page_login_required
def delegate(item_id):
    values = inputs.form_values("to_user", "opinion")
    return _item_op(
        item_id,
        "delegate",
        ("to_user", "opinion"),
        lambda: handover.delegate(
            _core(), g.user.username, item_id, inputs.chosen_user(values["to_user"]), values["opinion"]
        ),
        lambda result: f"已委派给{_names([result['to']])}：对方办理完成后，待办会回到您这里由您决定",
        values=values,
    )


@bp.post("/work-items/<int:item_id>/resolve")
@auth.page_login_required
def resolve(item_id):
    values = inputs.form_values("opinion")
    return _item_op(
        item_id,
        "resolve",
        ("opinion",),
        lambda: handover.resolve(_core(), g.user.username, item_id, values["opinion"]),
        lambda result: "已办理完成，已交回委派人决定",
        values=values,
    )


@bp.post("/work-items/<int:item_id>/add-signers")
@auth.page_login_required
def add_signers(item_id):
    values = {**inputs.form_values("position", "opinion"), "users": request.form.getlist("users")}

    def success(result):
        label = handover.POSITIONS.get(result["position"], ("", "加签"))[1]
        return f"已加签：{_names(result['added'])}（{label}）"

    return _item_op(
        item_id,
        "add_signers",
        ("users", "position", "opinion"),
        lambda: handover.add_signers(
            _core(), g.user.username, item_id, values["users"], values["position"], values["opinion"]
        ),
        success,
        values=values,
        after="item",
    )


@bp.post("/work-items/<int:item_id>/remove-signers")
@auth.page_login_required
def remove_signers(item_id):
    values = {"users": request.form.getlist("users")}
    return _item_op(
        item_id,
        "remove_signers",
        ("users",),
        lambda: handover.remove_signers(_core(), g.user.username, item_id, values["users"]),
        lambda result: f"已减签：{_names(result['removed'])}",
        values=values,
        after="item",
    )


@bp.post("/work-items/<int:item_id>/cc")
@auth.page_login_required
def cc(item_id):
    values = {**inputs.form_values("message"), "users": request.form.getlist("users")}
    instance_id = _instance_of(item_id)
    return _item_op(
        item_id,
        "cc",
        ("users", "message"),
        lambda: readers.cc(_core(), g.user.username, instance_id, values["users"], values["message"]),
        cc_message,
        values=values,
        after="item",
    )


@bp.post("/work-items/<int:item_id>/cancel")
@auth.page_login_required
def cancel(item_id):
    """撤销申请 from the drafter's 重新提交 page."""
    values = inputs.form_values("reason")
    instance_id = _instance_of(item_id)
    return _item_op(
        item_id,
        "cancel",
        ("reason",),
        lambda: retraction.cancel(_core(), g.user.username, instance_id, values["reason"]),
        lambda result: "已撤销申请",
        values=values,
        after="instance",
    )


@bp.post("/work-items/<int:item_id>/recall")
@auth.page_login_required
def recall(item_id):
    """撤回审批: take back my own approval while the next step has not acted."""
    instance_id = _instance_of(item_id)
    try:
        retraction.recall(_core(), g.user.username, item_id)
    except OaflowError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
    else:
        flash("已撤回审批：待办已回到您手中，可重新办理", "success")
    return redirect(url_for("instance.page", instance_id=instance_id))


@bp.post("/work-items/<int:item_id>/read")
@auth.page_login_required
def read(item_id):
    values = inputs.form_values("comment")
    return _item_op(
        item_id,
        "read",
        ("comment",),
        lambda: circulation.read(
            _core(), g.user.username, item_id, values["comment"], commenting=request.form.get("action") == "comment"
        ),
        lambda result: "已批示" if values["comment"].strip() else "已阅",
        values=values,
        after="item",
    )
