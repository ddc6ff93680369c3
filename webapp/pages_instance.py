"""The instance page (申请详情): the application, its diagram and history, who holds it now, and the
operations the user may take on it (their routes are in pages_instance_operations)."""

from __future__ import annotations

from flask import Blueprint, current_app, g

from engine.work import readers
from engine.work.views import application

from . import auth, postback
from .layout import show

bp = Blueprint("instance", __name__)


def _holders(detail: dict) -> list[tuple[str, list[dict]]]:
    """Open approval steps and who holds them, in creation order."""
    groups: dict[str, list[dict]] = {}
    for w in detail["work_items"]:
        if w["kind"] == "approve" and w["status"] == "open":
            groups.setdefault(w["node_name"], []).append(w)
    return list(groups.items())


def render_instance(instance_id: int, *, op: dict | None = None, status: int = 200):
    """The instance page; `op` re-opens one operation's form with its errors (see render_work_item)."""
    core = current_app.extensions["oaflow"]
    data = application.instance_page(core, g.user, instance_id)
    if data["unread_cc"]:  # opening the application reads the 知会 copies sent to the user
        readers.mark_read(core, g.user.username, instance_id)
    detail = data["detail"]
    me = g.user.username
    my_items = [
        w
        for w in detail["work_items"]
        if w["kind"] == "approve" and w["status"] in ("open", "waiting") and w["assignee"] == me
    ]
    html = show(
        "instance.html",
        data["layout"],
        detail=detail,
        view_schema=data["view_schema"],
        user_names=data["user_names"],
        svg=data["svg"],
        timeline=data["timeline"],
        holders=_holders(detail),
        my_items=my_items,
        recall_items=data["recall_items"],
        readers=data["readers"],
        departments=data["departments"],
        sheet_title=data["sheet"],
        has_redhead=data["redhead"],
        op=op or {"name": None, "errors": {}, "values": {}},
    )
    return html, status


@bp.get("/instances/<int:instance_id>")
@auth.page_login_required
def page(instance_id):
    return render_instance(instance_id, **postback.kept())
