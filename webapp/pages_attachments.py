"""附件 in the browser: downloading a file from an application's page."""

from __future__ import annotations

from flask import Blueprint, current_app, g

from engine.work import attachments

from . import auth
from .api_attachments import file_response

bp = Blueprint("attachments", __name__)


@bp.get("/attachments/<int:attachment_id>")
@auth.page_login_required
def download(attachment_id):
    return file_response(attachments.download(current_app.extensions["oaflow"], g.user, attachment_id))
