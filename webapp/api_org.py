"""REST endpoints of 组织与用户 (system administrators): departments, accounts, import and export."""

from __future__ import annotations

import io

from flask import Blueprint, current_app, g, jsonify, request, send_file

from engine.errors import FieldError, InvalidData
from engine.work import organisation

from . import auth
from .inputs import json_body

bp = Blueprint("api_org", __name__, url_prefix="/api/v1/admin")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _core():
    return current_app.extensions["oaflow"]


def _flag(name: str) -> bool:
    """A multipart/query flag: 1/true/yes (anything else, or absent, is false)."""
    return (request.values.get(name) or "").strip().lower() in ("1", "true", "yes", "on")


def xlsx_response(content: bytes, name: str):
    return send_file(io.BytesIO(content), mimetype=XLSX, as_attachment=True, download_name=name)


@bp.get("/departments")
@auth.api_login_required
def departments():
    if request.args.get("format") == "xlsx":
        return xlsx_response(organisation.export_departments(_core(), g.user.username), "部门.xlsx")
    return jsonify({"items": organisation.list_departments(_core(), g.user.username)})


@bp.post("/departments")
@auth.api_login_required
def create_department():
    return jsonify(organisation.create_department(_core(), g.user.username, json_body())), 201


@bp.patch("/departments/<name>")
@auth.api_login_required
def update_department(name):
    return jsonify(organisation.update_department(_core(), g.user.username, name, json_body()))


@bp.get("/users")
@auth.api_login_required
def users():
    if request.args.get("format") == "xlsx":
        return xlsx_response(organisation.export_users(_core(), g.user.username), "用户.xlsx")
    q, department = request.args.get("q", "")[:100], request.args.get("department", "")[:100]
    return jsonify({"items": organisation.list_users(_core(), g.user.username, q, department)})


@bp.post("/users")
@auth.api_login_required
def create_user():
    return jsonify(organisation.create_user(_core(), g.user.username, json_body())), 201


@bp.patch("/users/<username>")
@auth.api_login_required
def update_user(username):
    return jsonify(organisation.update_user(_core(), g.user.username, username, json_body()))


@bp.post("/users/<username>/password")
@auth.api_login_required
def reset_password(username):
    body = json_body() if request.content_length else {}
    return jsonify(organisation.reset_password(_core(), g.user.username, username, body.get("password")))


@bp.post("/users/import")
@auth.api_login_required
def import_users():
    return _import(organisation.import_users)


@bp.post("/departments/import")
@auth.api_login_required
def import_departments():
    return _import(organisation.import_departments)


def _import(command):
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidData([FieldError("file", "请选择要导入的 Excel（.xlsx）或 CSV 文件")])
    report = command(
        _core(),
        g.user.username,
        upload.filename,
        upload.read(),
        dry_run=_flag("dry_run"),
        only_valid=_flag("only_valid"),
    )
    return jsonify(report), (200 if report["dry_run"] else 201)
