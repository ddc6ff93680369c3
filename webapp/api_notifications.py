"""REST: a user's messages (the bell) and notification settings; delivery failures for administrators."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from engine.errors import FieldError, InvalidData
from engine.notify import delivery, messages
from engine.notify import settings as notify_settings

from . import auth

bp = Blueprint("api_notifications", __name__, url_prefix="/api/v1")


def _core():
    return current_app.extensions["oaflow"]


def _int(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except ValueError:
        raise InvalidData([FieldError(name, f"{name} 必须是整数")]) from None


@bp.get("/notifications")
@auth.api_login_required
def inbox():
    unread = request.args.get("unread", "").lower() in {"1", "true", "yes"}
    with _core().db.read() as conn:
        result = messages.inbox(conn, g.user.id, unread, _int("page", 1), _int("per_page", 20))
    return jsonify(result)


@bp.post("/notifications/read")
@auth.api_login_required
def mark_read():
    """{ids: [..]} marks those (only the caller's own); {all: true} marks every one."""
    body = request.get_json(silent=True) or {}
    ids = body.get("ids")
    if body.get("all") is True:
        ids = None
    elif not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InvalidData([FieldError("ids", 'ids 必须是整数列表，或传 {"all": true}')])
    with _core().db.write() as conn:
        count = messages.mark_read(conn, g.user.id, ids)
        unread = messages.unread_count(conn, g.user.id)
    return jsonify({"marked": count, "unread": unread})


@bp.get("/me/notification-settings")
@auth.api_login_required
def settings():
    with _core().db.read() as conn:
        return jsonify(notify_settings.preferences(conn, g.user.id))


@bp.put("/me/notification-settings")
@auth.api_login_required
def set_settings():
    body = request.get_json(silent=True)
    with _core().db.write() as conn:
        return jsonify(notify_settings.set_preferences(conn, g.user.id, body))


@bp.get("/admin/notifications/failures")
@auth.api_login_required
def failures():
    auth.require_admin()
    with _core().db.read() as conn:
        return jsonify({"items": delivery.failures(conn)})


@bp.post("/admin/notifications/<int:notification_id>/retry")
@auth.api_login_required
def retry(notification_id):
    auth.require_admin()
    with _core().db.write() as conn:
        delivery.retry(conn, g.user.id, notification_id)
    return jsonify({"id": notification_id, "status": "pending"})


@bp.get("/admin/notification-config")
@auth.api_login_required
def get_config():
    auth.require_admin()
    with _core().db.read() as conn:
        cfg = notify_settings.config(conn)
    cfg["smtp_password"] = "******" if cfg.get("smtp_password") else ""
    return jsonify(cfg)


@bp.put("/admin/notification-config")
@auth.api_login_required
def set_config():
    auth.require_admin()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidData([FieldError("body", "请求体必须是 JSON 对象")])
    with _core().db.write() as conn:
        notify_settings.set_config(conn, body)
    return get_config()
