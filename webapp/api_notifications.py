"""REST: a user's messages (the bell) and notification settings; delivery failures and settings for
administrators."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from engine import fields
from engine.errors import FieldError, InvalidData
from engine.notify import delivery, messages
from engine.notify import settings as notify_settings

from . import auth
from .inputs import int_arg, json_body

bp = Blueprint("api_notifications", __name__, url_prefix="/api/v1")


def _core():
    return current_app.extensions["oaflow"]


@bp.get("/notifications")
@auth.api_login_required
def inbox():
    unread = request.args.get("unread", "").lower() in {"1", "true", "yes"}
    return jsonify(messages.list_messages(_core(), g.user.id, unread, int_arg("page", 1), int_arg("per_page", 20)))


@bp.post("/notifications/read")
@auth.api_login_required
def mark_read():
    """{ids: [..]} marks those (only the caller's own); {all: true} marks every one."""
    body = json_body()
    ids = body.get("ids")
    if body.get("all") is True:
        ids = None
    elif not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InvalidData([FieldError("ids", 'ids 必须是整数列表，或传 {"all": true}')])
    else:
        ids = fields.identifiers(ids, "ids", "ids（消息编号）")
    return jsonify(messages.mark_messages_read(_core(), g.user.id, ids))


@bp.get("/me/notification-settings")
@auth.api_login_required
def settings():
    return jsonify(notify_settings.my_preferences(_core(), g.user.id))


@bp.put("/me/notification-settings")
@auth.api_login_required
def set_settings():
    return jsonify(notify_settings.save_preferences(_core(), g.user.id, json_body()))


@bp.get("/admin/notifications/failures")
@auth.api_login_required
def failures():
    return jsonify({"items": delivery.failed_messages(_core(), g.user)})


@bp.post("/admin/notifications/<int:notification_id>/retry")
@auth.api_login_required
def retry(notification_id):
    return jsonify(delivery.send_again(_core(), g.user, notification_id))


@bp.get("/admin/notification-config")
@auth.api_login_required
def get_config():
    return jsonify(notify_settings.delivery_settings(_core(), g.user))


@bp.put("/admin/notification-config")
@auth.api_login_required
def set_config():
    return jsonify(notify_settings.save_delivery_settings(_core(), g.user, json_body()))
