"""REST API /api/v1 (JSON): signing in, the caller, the processes to start, deployments, instances and work
items. Each route parses input, calls one engine function and returns JSON; domain errors become status
codes in the app's error handler."""

from __future__ import annotations

import orjson
from flask import Blueprint, current_app, g, jsonify, request

from engine.errors import FieldError, InvalidData, Unauthorized
from engine.org import accounts
from engine.work import decisions, deployment, initiate
from engine.work.views import detail as details
from engine.work.views import start as starting
from engine.work.views import worklist

from . import auth
from .inputs import int_arg, json_body, uploaded_files
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _core():
    return current_app.extensions["oaflow"]


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.post("/auth/token")
def token():
    body = json_body()
    user = accounts.sign_in(_core(), _text(body, "username"), _text(body, "password"))
    if user is None:
        raise Unauthorized("用户名或密码错误")
    return jsonify({"token": auth.issue_token(user), "token_type": "Bearer", "user": user.as_dict()})


def _text(body: dict, name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise InvalidData([FieldError(name, f"{name} 必须是字符串")])
    return value


@bp.get("/me")
@auth.api_login_required
def me():
    counts = worklist.item_counts(_core(), g.user)
    return jsonify({"user": {**g.user.as_dict(), "is_admin": g.user.is_admin}, "counts": counts})


@bp.get("/processes")
@auth.api_login_required
def processes():
    items = starting.startable_processes(_core(), g.user)
    return jsonify({"items": items, "total": len(items)})


@bp.get("/processes/<key>")
@auth.api_login_required
def process(key):
    return jsonify(starting.process_to_start(_core(), g.user, key))


@bp.post("/deployments")
@auth.api_login_required
def deploy():
    result = deployment.deploy(_core(), g.user.username, uploaded_files())
    return jsonify({"processes": result["processes"]}), 201


@bp.post("/instances")
@auth.api_login_required
def start():
    body = json_body()
    process_key = body.get("process")
    if not isinstance(process_key, str) or not process_key:
        raise InvalidData([FieldError("process", "请指定要发起的流程（process）")])
    data = body.get("data", {})
    priority = body.get("priority")
    result = initiate.start(_core(), g.user.username, process_key, data, priority)
    return _instance_json(result["id"], 201)


def _instance_json(instance_id: int, status: int = 200):
    detail = details.get_instance(_core(), g.user, instance_id)
    return current_app.response_class(orjson.dumps(detail, default=str), status=status, mimetype="application/json")


@bp.get("/instances/<int:instance_id>")
@auth.api_login_required
def instance(instance_id):
    return _instance_json(instance_id)


@bp.get("/work-items")
@auth.api_login_required
def work_items():
    args = request.args
    page, per_page = int_arg("page", 1), int_arg("per_page", 20)
    result = worklist.work_items(_core(), g.user, args.get("box", "todo"), args.get("q", ""), page, per_page)
    return jsonify(result)


@bp.get("/work-items/<int:item_id>")
@auth.api_login_required
def work_item(item_id):
    return jsonify(details.get_work_item(_core(), g.user, item_id))


@bp.post("/work-items/<int:item_id>/complete")
@auth.api_login_required
def complete(item_id):
    body = json_body()
    decision = body.get("decision", "approve")
    result = decisions.complete(
        _core(), g.user.username, item_id, body.get("data") or {}, decision, body.get("opinion"), body.get("signature")
    )
    return jsonify(result)
