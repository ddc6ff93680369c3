"""消息 (the bell) and 通知设置 (each user's channels); 通知失败 for administrators (what could not be sent,
and sending it again)."""

from __future__ import annotations

import math

from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from engine.errors import InvalidData
from engine.notify import delivery, messages
from engine.notify import settings as notify_settings
from engine.work.views import pages as page_reads

from . import auth, postback
from .layout import show

bp = Blueprint("messages", __name__)
PER_PAGE = 20


def _core():
    return current_app.extensions["oaflow"]


@bp.get("/notifications")
@auth.page_login_required
def inbox():
    unread = request.args.get("unread") == "1"
    page = max(1, request.args.get("page", 1, type=int))
    data = page_reads.messages_page(_core(), g.user, unread, page, PER_PAGE)
    pages = max(1, math.ceil(data["result"]["total"] / PER_PAGE))
    return show("notifications.html", data["layout"], result=data["result"], pages=pages, unread=unread)


@bp.get("/notifications/<int:notification_id>/open")
@auth.page_login_required
def open_message(notification_id):
    """Mark one of the user's own messages read and go to what it is about."""
    target = messages.open_message(_core(), g.user.id, notification_id)
    if target["work_item_id"]:
        return redirect(url_for("work_item.page", item_id=target["work_item_id"]))
    if target["instance_id"]:
        return redirect(url_for("instance.page", instance_id=target["instance_id"]))
    return redirect(url_for("messages.inbox"))


@bp.post("/notifications/read-all")
@auth.page_login_required
def read_all():
    result = messages.mark_messages_read(_core(), g.user.id)
    flash(f"已将 {result['marked']} 条消息标为已读", "success")
    return redirect(url_for("messages.inbox"))


@bp.route("/settings/notifications", methods=["GET", "POST"])
@auth.page_login_required
def settings():
    kept = postback.kept()
    errors, data = kept.get("errors", {}), kept.get("values")
    if request.method == "POST":
        data = {
            "channels": {"email": request.form.get("email_enabled") is not None, "sms": "sms_enabled" in request.form},
            "email": request.form.get("email", ""),
            "phone": request.form.get("phone", ""),
        }
        try:
            notify_settings.save_preferences(_core(), g.user.id, data)
        except InvalidData as exc:
            return postback.back(request.path, values=data, errors={e.field: e.message for e in exc.errors})
        flash("通知设置已保存", "success")
        return redirect(url_for("messages.settings"))
    page = page_reads.notification_settings_page(_core(), g.user)
    prefs = page["prefs"]
    if errors and data:  # show what was typed, with the messages next to it
        channels = {"web": True, **data["channels"]}
        prefs = {**prefs, "email": data["email"], "phone": data["phone"], "channels": channels}
    html = show("notification_settings.html", page["layout"], prefs=prefs, errors=errors)
    return html


# --- administrators: delivery failures ---------------------------------------------------------------------


@bp.get("/admin/notifications")
@auth.page_login_required
def failures():
    data = page_reads.failures_page(_core(), g.user)
    return show("admin_notifications.html", data["layout"], items=data["items"], cfg=data["cfg"])


@bp.post("/admin/notifications/<int:notification_id>/retry")
@auth.page_login_required
def retry(notification_id):
    delivery.send_again(_core(), g.user, notification_id)
    flash("已安排重新发送", "success")
    return redirect(url_for("messages.failures"))
