"""REST endpoints for the administrators' 异常申请: the instances the engine could not move on, and retry."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify

from engine.work import recovery

from . import auth

bp = Blueprint("api_recovery", __name__, url_prefix="/api/v1")


def _core():
    return current_app.extensions["oaflow"]


@bp.get("/admin/errors")
@auth.api_login_required
def errors():
    return jsonify({"items": recovery.list_errors(_core(), g.user.username)})


@bp.post("/admin/errors/<int:instance_id>/retry")
@auth.api_login_required
def retry(instance_id):
    return jsonify(recovery.retry(_core(), g.user.username, instance_id))
