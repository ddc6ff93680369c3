"""发起申请: the processes the user may start, and a process's start form."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, jsonify, redirect, request, url_for

from engine.errors import InvalidData, OaflowError
from engine.work import initiate
from engine.work.views import start as starting

from . import auth, inputs, postback, uploads
from .layout import show

bp = Blueprint("start", __name__)


def _core():
    return current_app.extensions["oaflow"]


@bp.get("/start")
@auth.page_login_required
def processes():
    data = starting.start_list_page(_core(), g.user)
    return show("start_list.html", data["layout"], processes=data["processes"])


@bp.route("/start/<key>", methods=["GET", "POST"])
@auth.page_login_required
def form(key):
    core = _core()
    page = starting.start_page(core, g.user, key)
    schema = page["schema"]
    values, errors, priority = page["defaults"], {}, "正常"
    if request.method == "GET":
        kept = postback.kept()
        values, errors, priority = kept.get("values", values), kept.get("errors", {}), kept.get("priority", priority)
    else:
        data, values = inputs.submitted(schema)
        priority = request.form.get("priority") or "正常"
        try:
            uploads.with_files(core, g.user.username, schema, data, values, process=key)
            result = initiate.start(core, g.user.username, key, data, priority)
        except InvalidData as exc:
            errors = inputs.field_errors(exc, inputs.schema_fields(schema, "priority"))
            return postback.back(request.path, values=values, errors=errors, priority=priority)
        except OaflowError as exc:
            if exc.status not in (409, 413, 422):
                raise
            return postback.back(request.path, values=values, errors={"_": exc.message}, priority=priority)
        flash("已提交", "success")
        if result.get("warning"):
            flash(result["warning"], "error")
        return redirect(url_for("instance.page", instance_id=result["id"]))
    html = show(
        "start.html",
        page["layout"],
        model=page["model"],
        schema=schema,
        values=values,
        errors=errors,
        users=page["users"],
        priority=priority,
        priorities=page["priorities"],
        budget=page["budget"],
    )
    return html


@bp.post("/start/<key>/preview")
@auth.page_login_required
def preview(key):
    """The start form's computed fields for what is typed so far (oaflow.js asks as the user types)."""
    body = inputs.json_body()
    return jsonify(starting.preview_computed(_core(), g.user, key, body.get("data")))
