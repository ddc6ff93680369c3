"""REST endpoints of 附件: upload a file, download one, list an application's files with their versions."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request, send_file

from engine.errors import FieldError, InvalidData
from engine.work import attachments

from . import auth

bp = Blueprint("api_attachments", __name__, url_prefix="/api/v1")


def _core():
    return current_app.extensions["oaflow"]


def _optional_id(name: str):
    text = request.form.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidData([FieldError(name, f"{name} 必须是整数")])
    return int(text)


def file_response(download: attachments.Download):
    """The file as a download: its own type, never sniffed, never shown inline, its name kept (RFC 5987)."""
    response = send_file(
        download.path,
        mimetype=download.media_type,
        as_attachment=True,
        download_name=download.name,
        conditional=True,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.post("/attachments")
@auth.api_login_required
def upload():
    chosen = request.files.get("file")
    if chosen is None or not chosen.filename:
        raise InvalidData([FieldError("file", "请选择要上传的文件（multipart 字段 file）")])
    result = attachments.upload(
        _core(),
        g.user.username,
        chosen.stream,
        chosen.filename,
        field=request.form.get("field") or None,
        instance_id=_optional_id("instance_id"),
        process=request.form.get("process") or None,
        work_item_id=_optional_id("work_item_id"),
    )
    return jsonify(result), 201


@bp.get("/attachments/<int:attachment_id>")
@auth.api_login_required
def download(attachment_id):
    return file_response(attachments.download(_core(), g.user, attachment_id))


@bp.get("/instances/<int:instance_id>/attachments")
@auth.api_login_required
def instance_attachments(instance_id):
    return jsonify({"items": attachments.instance_files(_core(), g.user, instance_id)})
