"""REST API /api/v1 (JSON). Each route parses input, calls one engine function and returns JSON;
domain errors become status codes in the app's error handler."""

from __future__ import annotations

import orjson
from flask import Blueprint, current_app, g, jsonify, request

from engine.errors import FieldError, InvalidData, Unauthorized
from engine.org import users
from engine.process import definitions
from engine.work import decisions, initiate, worklist
from engine.work.kernel import routing

from . import auth
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _core():
    return current_app.extensions["oaflow"]


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidData([FieldError("body", "请求体必须是 JSON 对象（Content-Type: application/json）")])
    return body


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.post("/auth/token")
def token():
    body = request.get_json(silent=True) or {}
    with _core().db.read() as conn:
        user = users.authenticate(conn, str(body.get("username", "")), str(body.get("password", "")))
    if user is None:
        raise Unauthorized("用户名或密码错误")
    return jsonify({"token": auth.issue_token(user), "token_type": "Bearer", "user": user.as_dict()})


@bp.get("/me")
@auth.api_login_required
def me():
    with _core().db.read() as conn:
        counts = worklist.counts(conn, g.user)
    return jsonify({"user": {**g.user.as_dict(), "is_admin": g.user.is_admin}, "counts": counts})


def _process_summary(row, model) -> dict:
    return {
        "key": row.process_key,
        "name": row.name,
        "version": row.version,
        "category": model.properties.get("category"),
        "deployed_at": row.deployed_at.isoformat(timespec="seconds") + "Z",
    }


@bp.get("/processes")
@auth.api_login_required
def processes():
    core = _core()
    items = []
    with core.db.read() as conn:
        for row in definitions.list_latest(conn):
            compiled = core.specs.from_row(row)
            if routing.may_start(conn, g.user, compiled.model):
                items.append(_process_summary(row, compiled.model))
    return jsonify({"items": items, "total": len(items)})


@bp.get("/processes/<key>")
@auth.api_login_required
def process(key):
    core = _core()
    with core.db.read() as conn:
        row = definitions.latest(conn, key)
        compiled = core.specs.from_row(row)
        startable = routing.may_start(conn, g.user, compiled.model)
    start_form = compiled.form(compiled.model.start_form) or {"type": "object", "properties": {}}
    return jsonify(
        {
            **_process_summary(row, compiled.model),
            "startable": startable,
            "start_form": start_form,
            "priorities": ["紧急", "重要", "正常"],
            "nodes": [
                {"id": n.id, "name": n.name, "type": n.type}
                for n in compiled.model.nodes.values()
                if n.type == "userTask"
            ],
        }
    )


@bp.post("/deployments")
@auth.api_login_required
def deploy():
    auth.require_admin()
    files = {f.filename: f.read() for f in request.files.getlist("files") if f.filename}
    for name, storage in request.files.items():
        if name != "files" and storage.filename:
            files[storage.filename] = storage.read()
    with _core().db.write() as conn:
        results = definitions.deploy(conn, files, g.user.id)
    return jsonify({"processes": results}), 201


@bp.post("/instances")
@auth.api_login_required
def start():
    body = _json_body()
    process_key = body.get("process")
    if not isinstance(process_key, str) or not process_key:
        raise InvalidData([FieldError("process", "请指定要发起的流程（process）")])
    data = body.get("data", {})
    priority = body.get("priority")
    result = initiate.start(_core(), g.user.username, process_key, data, priority)
    return _instance_json(result["id"], 201)


def _instance_json(instance_id: int, status: int = 200):
    core = _core()
    with core.db.read() as conn:
        detail = worklist.instance_detail(core, conn, g.user, instance_id)
    return current_app.response_class(orjson.dumps(detail, default=str), status=status, mimetype="application/json")


@bp.get("/instances/<int:instance_id>")
@auth.api_login_required
def instance(instance_id):
    return _instance_json(instance_id)


@bp.get("/work-items")
@auth.api_login_required
def work_items():
    args = request.args
    try:
        page = int(args.get("page", 1))
        per_page = int(args.get("per_page", 20))
    except ValueError:
        raise InvalidData([FieldError("page", "page 和 per_page 必须是整数")]) from None
    with _core().db.read() as conn:
        result = worklist.inbox(conn, g.user, args.get("box", "todo"), args.get("q", ""), page, per_page)
    return jsonify(result)


@bp.get("/work-items/<int:item_id>")
@auth.api_login_required
def work_item(item_id):
    core = _core()
    with core.db.read() as conn:
        detail = worklist.work_item_detail(core, conn, g.user, item_id)
    return jsonify(detail)


@bp.post("/work-items/<int:item_id>/complete")
@auth.api_login_required
def complete(item_id):
    body = _json_body()
    decision = body.get("decision", "approve")
    result = decisions.complete(
        _core(), g.user.username, item_id, body.get("data") or {}, decision, body.get("opinion"), body.get("signature")
    )
    return jsonify(result)
