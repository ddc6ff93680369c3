"""REST endpoints of 流程监控 (every application; 跳转, 终止, an administrator's 转办), the 日志 (登录日志,
操作日志, as JSON or Excel) and the search (`GET /api/v1/search?q=`)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from engine.work import monitor
from engine.work.views import logs, search
from engine.work.views import monitor as monitoring

from . import auth
from .api_reports import XLSX
from .inputs import optional_json_body

bp = Blueprint("api_monitor", __name__, url_prefix="/api/v1")


def _core():
    return current_app.extensions["oaflow"]


def _page(result: dict) -> dict:
    return {"items": result["items"], "page": result["page"], "has_next": result["has_next"]}


def xlsx_download(name: str, workbook: bytes):
    response = current_app.response_class(workbook, mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="oaflow-{name}.xlsx"'
    return response


@bp.get("/admin/instances")
@auth.api_login_required
def instances():
    return jsonify(_page(monitoring.instances(_core(), g.user.username, request.args)))


@bp.post("/admin/instances/<int:instance_id>/jump")
@auth.api_login_required
def jump(instance_id):
    body = optional_json_body()
    return jsonify(monitor.jump(_core(), g.user.username, instance_id, body.get("node"), body.get("reason")))


@bp.post("/admin/instances/<int:instance_id>/terminate")
@auth.api_login_required
def terminate(instance_id):
    body = optional_json_body()
    return jsonify(monitor.terminate(_core(), g.user.username, instance_id, body.get("reason")))


@bp.post("/admin/work-items/<int:item_id>/reassign")
@auth.api_login_required
def reassign(item_id):
    body = optional_json_body()
    return jsonify(monitor.reassign(_core(), g.user.username, item_id, body.get("to_user"), body.get("reason")))


@bp.get("/admin/logs/login")
@auth.api_login_required
def login_logs():
    if request.args.get("format") == "xlsx":
        return xlsx_download("login-log", logs.login_logs_xlsx(_core(), g.user.username, request.args))
    result = logs.login_logs(_core(), g.user.username, request.args)
    return jsonify({**_page(result), "retention_days": result["retention_days"]})


@bp.get("/admin/logs/operations")
@auth.api_login_required
def operation_logs():
    if request.args.get("format") == "xlsx":
        return xlsx_download("operation-log", logs.operation_logs_xlsx(_core(), g.user.username, request.args))
    return jsonify(_page(logs.operation_logs(_core(), g.user.username, request.args)))


@bp.get("/search")
@auth.api_login_required
def find():
    result = search.search(_core(), g.user.username, request.args)
    return jsonify({**_page(result), "everything": result["everything"]})
