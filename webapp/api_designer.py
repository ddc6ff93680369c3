"""REST API for process designers and integrations (/api/v1): validation, versions and migration, diagrams,
external work, messages and signals. Each route parses input, calls one engine function and returns JSON;
domain errors become status codes in the app's error handler."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request

from engine.errors import DeployFailed, FieldError, InvalidData, NotFound
from engine.process import definitions, diagram, versions
from engine.work import events
from engine.work import migration as instance_migration

from . import auth

bp = Blueprint("api_designer", __name__, url_prefix="/api/v1")


def _core():
    return current_app.extensions["oaflow"]


def _body() -> dict:
    body = request.get_json(silent=True)
    if body is None and not request.data:
        return {}
    if not isinstance(body, dict):
        raise InvalidData([FieldError("body", "请求体必须是 JSON 对象（Content-Type: application/json）")])
    return body


def _int(body: dict, name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidData([FieldError(name, f"{name} 必须是整数（版本号）")])
    return value


def _instance_ids(body: dict) -> list[int] | None:
    value = body.get("instance_ids")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise InvalidData([FieldError("instance_ids", "instance_ids 必须是申请编号的数组")])
    return value


def uploaded_files() -> dict[str, bytes]:
    files = {f.filename: f.read() for f in request.files.getlist("files") if f.filename}
    for name, storage in request.files.items():
        if name != "files" and storage.filename:
            files[storage.filename] = storage.read()
    return files


# --- validation ---------------------------------------------------------------------------------------


@bp.post("/deployments/validate")
@auth.api_login_required
def validate():
    """Check files as a deployment would (earlier forms, the organisation) without storing anything."""
    auth.require_admin()
    with _core().db.read() as conn:
        bundle = definitions.check_files(conn, uploaded_files())
    body = {
        "errors": [p.as_dict() for p in bundle.problems],
        "warnings": [p.as_dict() for p in bundle.warnings],
        "processes": [{"key": m.key, "name": m.name, "executable": m.executable} for m in bundle.models],
    }
    if bundle.problems:
        body["error"] = str(DeployFailed(bundle.problems).message)
        return jsonify(body), 422
    return jsonify(body)


# --- versions and migration -----------------------------------------------------------------------------


@bp.get("/processes/<key>/versions")
@auth.api_login_required
def process_versions(key):
    auth.require_admin()
    with _core().db.read() as conn:
        items = versions.list_versions(conn, key)
    return jsonify({"process": key, "items": items})


@bp.post("/processes/<key>/versions/<int:version>/deactivate")
@auth.api_login_required
def deactivate(key, version):
    with _core().db.write() as conn:
        return jsonify(versions.set_active(conn, g.user.username, key, version, False))


@bp.post("/processes/<key>/versions/<int:version>/activate")
@auth.api_login_required
def activate(key, version):
    with _core().db.write() as conn:
        return jsonify(versions.set_active(conn, g.user.username, key, version, True))


@bp.get("/processes/<key>/diff")
@auth.api_login_required
def diff(key):
    auth.require_admin()
    try:
        old, new = int(request.args["from"]), int(request.args["to"])
    except (KeyError, ValueError):
        raise InvalidData([FieldError("from", "请用 ?from=版本&to=版本 指定要比较的两个版本")]) from None
    with _core().db.read() as conn:
        return jsonify(versions.diff_summary(_core(), conn, key, old, new))


@bp.post("/processes/<key>/migrations/dry-run")
@auth.api_login_required
def migration_dry_run(key):
    body = _body()
    result = instance_migration.dry_run(
        _core(), g.user.username, key, _int(body, "from_version"), _int(body, "to_version"), _instance_ids(body)
    )
    return jsonify(result)


@bp.post("/processes/<key>/migrations")
@auth.api_login_required
def migration(key):
    body = _body()
    result = instance_migration.migrate(
        _core(), g.user.username, key, _int(body, "from_version"), _int(body, "to_version"), _instance_ids(body)
    )
    return jsonify(result)


@bp.get("/processes/<key>/versions/<int:version>/diagram")
@auth.api_login_required
def version_diagram(key, version):
    """The deployed version's diagram as SVG (server-side, from the file's diagram interchange)."""
    auth.require_admin()
    with _core().db.read() as conn:
        row = versions.definition_row(conn, key, version)
    svg = diagram.render_svg(row.bpmn_xml, key)
    if svg is None:
        raise NotFound(f"流程 {key} 第 {version} 版的文件没有图形信息（BPMN DI），无法绘制流程图")
    return Response(svg, mimetype="image/svg+xml")


# --- external work, messages, signals ---------------------------------------------------------------------


@bp.get("/instances/<int:instance_id>/waiting")
@auth.api_login_required
def waiting(instance_id):
    core = _core()
    with core.db.read() as conn:
        items = events.waiting_for(core, conn, g.user, instance_id)
    return jsonify({"id": instance_id, "items": items})


@bp.post("/instances/<int:instance_id>/external/<element>")
@auth.api_login_required
def complete_external(instance_id, element):
    body = _body()
    return jsonify(events.complete_external(_core(), g.user.username, instance_id, element, body.get("data")))


@bp.post("/instances/<int:instance_id>/messages")
@auth.api_login_required
def instance_message(instance_id):
    body = _body()
    return jsonify(events.send_message(_core(), g.user.username, instance_id, body.get("name"), body.get("payload")))


@bp.post("/messages")
@auth.api_login_required
def start_message():
    """A message nobody waits for starts the processes whose start event catches it."""
    body = _body()
    return jsonify(events.start_by_message(_core(), g.user.username, body.get("name"), body.get("payload"))), 201


@bp.post("/signals")
@auth.api_login_required
def signal():
    body = _body()
    return jsonify(events.broadcast_signal(_core(), g.user.username, body.get("name"), body.get("payload")))


# --- the OpenAPI document's part for these routes --------------------------------------------------------


def openapi_paths() -> dict:
    def op(summary: str, body: dict | None = None, codes=(401, 403, 404, 409, 422)) -> dict:
        from .openapi import _errors, _resp

        item = {
            "summary": summary,
            "security": [{"bearer": []}],
            "responses": {"200": _resp("成功"), **_errors(*codes)},
        }
        if body is not None:
            item["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        return item

    migration_body = {
        "type": "object",
        "required": ["from_version", "to_version"],
        "properties": {
            "from_version": {"type": "integer"},
            "to_version": {"type": "integer"},
            "instance_ids": {"type": "array", "items": {"type": "integer"}},
        },
    }
    named = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "payload": {"type": "object"}},
    }
    return {
        "/deployments/validate": {"post": op("校验 BPMN 与表单文件（multipart files），不写入：errors 与 warnings")},
        "/processes/{key}/versions": {"get": op("流程的全部版本，含各状态的实例数")},
        "/processes/{key}/versions/{version}/deactivate": {"post": op("停用版本（不再用于新实例）")},
        "/processes/{key}/versions/{version}/activate": {"post": op("启用版本")},
        "/processes/{key}/versions/{version}/diagram": {"get": op("该版本的流程图（SVG）；无图形信息时 404")},
        "/processes/{key}/diff": {"get": op("两个版本的差异（?from=&to=）：新增、删除、修改的节点")},
        "/processes/{key}/migrations/dry-run": {"post": op("试迁移：逐个实例给出安全与否及原因", migration_body)},
        "/processes/{key}/migrations": {"post": op("迁移安全的实例，每个实例记入流转记录", migration_body)},
        "/instances/{id}/waiting": {"get": op("实例等待的外部任务、消息、信号与定时器")},
        "/instances/{id}/external/{element}": {
            "post": op("完成在该节点等待的外部任务（服务任务）", {"type": "object", "properties": {"data": {}}})
        },
        "/instances/{id}/messages": {"post": op("向实例发送消息", named)},
        "/messages": {"post": op("发送消息：启动以该消息为开始事件的流程", named)},
        "/signals": {"post": op("广播信号：等待它的实例继续，以它为开始事件的流程启动", named)},
    }
