"""REST endpoints for the approval operations (退回, 转办, 委派, 加签, 撤回, 撤销, 催办, 知会, 传阅), 代理 and
常用意见."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify

from engine.work import circulation, handover, opinions, out_of_office, readers, retraction, rework
from engine.work.views import detail as details

from . import auth
from .inputs import json_body, optional_json_body

bp = Blueprint("api_operations", __name__, url_prefix="/api/v1")


def _core():
    return current_app.extensions["oaflow"]


def signature_response(png: bytes):
    """A decision's handwritten signature as a private, cacheable PNG."""
    response = current_app.response_class(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/work-items/<int:item_id>/send-back-targets")
@auth.api_login_required
def send_back_targets(item_id):
    return jsonify({"items": details.send_back_targets(_core(), g.user, item_id)})


@bp.post("/work-items/<int:item_id>/send-back")
@auth.api_login_required
def send_back(item_id):
    body = optional_json_body()
    result = rework.send_back(_core(), g.user.username, item_id, body.get("to_node"), body.get("opinion"))
    return jsonify(result)


@bp.post("/work-items/<int:item_id>/transfer")
@auth.api_login_required
def transfer(item_id):
    body = optional_json_body()
    return jsonify(handover.transfer(_core(), g.user.username, item_id, body.get("to_user"), body.get("opinion")))


@bp.post("/work-items/<int:item_id>/delegate")
@auth.api_login_required
def delegate(item_id):
    body = optional_json_body()
    return jsonify(handover.delegate(_core(), g.user.username, item_id, body.get("to_user"), body.get("opinion")))


@bp.post("/work-items/<int:item_id>/resolve")
@auth.api_login_required
def resolve(item_id):
    body = optional_json_body()
    return jsonify(handover.resolve(_core(), g.user.username, item_id, body.get("opinion")))


@bp.post("/work-items/<int:item_id>/add-signers")
@auth.api_login_required
def add_signers(item_id):
    body = optional_json_body()
    result = handover.add_signers(
        _core(), g.user.username, item_id, body.get("users"), body.get("position", ""), body.get("opinion")
    )
    return jsonify(result)


@bp.post("/work-items/<int:item_id>/remove-signers")
@auth.api_login_required
def remove_signers(item_id):
    body = optional_json_body()
    return jsonify(handover.remove_signers(_core(), g.user.username, item_id, body.get("users")))


@bp.post("/work-items/<int:item_id>/recall")
@auth.api_login_required
def recall(item_id):
    return jsonify(retraction.recall(_core(), g.user.username, item_id))


@bp.post("/instances/<int:instance_id>/withdraw")
@auth.api_login_required
def withdraw(instance_id):
    return jsonify(retraction.withdraw(_core(), g.user.username, instance_id))


@bp.post("/instances/<int:instance_id>/cancel")
@auth.api_login_required
def cancel(instance_id):
    body = optional_json_body()
    return jsonify(retraction.cancel(_core(), g.user.username, instance_id, body.get("reason")))


@bp.post("/instances/<int:instance_id>/urge")
@auth.api_login_required
def urge(instance_id):
    body = optional_json_body()
    return jsonify(readers.urge(_core(), g.user.username, instance_id, body.get("message")))


@bp.post("/instances/<int:instance_id>/cc")
@auth.api_login_required
def cc(instance_id):
    body = optional_json_body()
    return jsonify(readers.cc(_core(), g.user.username, instance_id, body.get("users"), body.get("message")))


@bp.post("/instances/<int:instance_id>/read")
@auth.api_login_required
def mark_read(instance_id):
    """知会 read: the caller's 抄送我的 entries for this instance become 已读."""
    return jsonify(readers.mark_read(_core(), g.user.username, instance_id))


@bp.post("/instances/<int:instance_id>/circulate")
@auth.api_login_required
def circulate(instance_id):
    body = optional_json_body()
    result = circulation.circulate(
        _core(), g.user.username, instance_id, body.get("users"), body.get("departments"), body.get("message")
    )
    return jsonify(result)


@bp.post("/instances/<int:instance_id>/circulate/recall")
@auth.api_login_required
def recall_readers(instance_id):
    body = optional_json_body()
    return jsonify(circulation.recall_readers(_core(), g.user.username, instance_id, body.get("users")))


@bp.post("/work-items/<int:item_id>/read")
@auth.api_login_required
def read(item_id):
    """已阅, or 批示 with a comment, on the caller's 待阅 item."""
    body = optional_json_body()
    return jsonify(circulation.read(_core(), g.user.username, item_id, body.get("comment")))


@bp.get("/instances/<int:instance_id>/signatures/<int:item_id>")
@auth.api_login_required
def signature(instance_id, item_id):
    return signature_response(details.signature_image(_core(), g.user, instance_id, item_id))


@bp.get("/delegations")
@auth.api_login_required
def list_delegations():
    return jsonify({"items": out_of_office.delegations_of(_core(), g.user)})


@bp.post("/delegations")
@auth.api_login_required
def create_delegation():
    body = json_body()
    result = out_of_office.delegate_while_away(
        _core(),
        g.user.username,
        body.get("delegate"),
        body.get("starts_on"),
        body.get("ends_on"),
        body.get("processes"),
        body.get("reason"),
        bool(body.get("move_existing")),
    )
    return jsonify(result), 201


@bp.delete("/delegations/<int:delegation_id>")
@auth.api_login_required
def end_delegation(delegation_id):
    return jsonify(out_of_office.end_delegation(_core(), g.user.username, delegation_id))


@bp.get("/phrases")
@auth.api_login_required
def list_phrases():
    return jsonify({"items": opinions.phrases(_core(), g.user.id)})


@bp.post("/phrases")
@auth.api_login_required
def add_phrase():
    body = json_body()
    return jsonify(opinions.add_phrase(_core(), g.user.id, body.get("text"))), 201


@bp.delete("/phrases/<int:phrase_id>")
@auth.api_login_required
def delete_phrase(phrase_id):
    opinions.delete_phrase(_core(), g.user.id, phrase_id)
    return jsonify({"deleted": phrase_id})
