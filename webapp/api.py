"""REST API /api/v1 (JSON): signing in, the caller, the processes to start, deployments, instances and work
items. Each route parses input, calls one engine function and returns JSON; domain errors become status
codes in the app's error handler."""

from __future__ import annotations

import orjson
from flask import Blueprint, current_app, g, jsonify, request

from engine.errors import FieldError, InvalidData
from engine.org import permissions
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
    signed = auth.issue_token(_text(body, "username"), _text(body, "password"))
    return jsonify({"token": signed.secret, "token_type": "Bearer", "user": signed.user.as_dict()})


@bp.delete("/auth/token")
@auth.api_login_required
def revoke_token():
    auth.revoke_token()
    return "", 204


def _text(body: dict, name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise InvalidData([FieldError(name, f"{name} 必须是字符串")])
    return value


@bp.get("/me")
@auth.api_login_required
def me():
    counts = worklist.item_counts(_core(), g.user)
    user = {
        **g.user.as_dict(),
        "is_admin": g.user.is_admin,
        "roles": permissions.roles_of(g.user),
        "must_change_password": g.user.must_change_password,
    }
    return jsonify({"user": user, "counts": counts})


@bp.post("/me/password")
@auth.api_login_required
def change_password():
    body = json_body()
    ended = auth.change_password(body.get("old_password"), body.get("new_password"))
    return jsonify({"message": f"密码已修改；其他 {ended} 处登录与令牌已失效", "ended": ended})


@bp.get("/processes")
@auth.api_login_required
def processes():
    items = starting.startable_processes(_core(), g.user)
    return jsonify({"items": items, "total": len(items)})


@bp.get("/processes/<key>")
@auth.api_login_required
def process(key):
    return jsonify(starting.process_to_start(_core(), g.user, key))


@bp.post("/processes/<key>/computed")
@auth.api_login_required
def computed(key):
    return jsonify(starting.preview_computed(_core(), g.user, key, json_body().get("data")))


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
    return _instance_json(result["id"], 201, warning=result.get("warning"))


def _instance_json(instance_id: int, status: int = 200, warning: str | None = None):
    detail = details.get_instance(_core(), g.user, instance_id)
    if warning:  # a claim that went on over its budget
        detail = {**detail, "warning": warning}
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
    box = args.get("box", "todo")
    result = worklist.work_items(_core(), g.user, box, args.get("q", ""), page, per_page, args)
    return jsonify(result)


@bp.post("/work-items/batch-complete")
@auth.api_login_required
def batch_complete():
    body = json_body()
    return jsonify(decisions.complete_batch(_core(), g.user.username, body.get("ids"), body.get("opinion")))


@bp.get("/work-items/<int:item_id>")
@auth.api_login_required
def work_item(item_id):
    return jsonify(details.get_work_item(_core(), g.user, item_id))


@bp.post("/work-items/<int:item_id>/computed")
@auth.api_login_required
def item_computed(item_id):
    return jsonify(details.preview_computed(_core(), g.user, item_id, json_body().get("data")))


@bp.post("/work-items/<int:item_id>/complete")
@auth.api_login_required
def complete(item_id):
    body = json_body()
    decision = body.get("decision", "approve")
    result = decisions.complete(
        _core(), g.user.username, item_id, body.get("data") or {}, decision, body.get("opinion"), body.get("signature")
    )
    return jsonify(result)
