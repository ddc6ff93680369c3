"""The printable 审批单 and 处理单 through the API: the same HTML as the pages (pages_print), for a client
that files or prints it; signatures are inside the HTML, the styles at /static/print.css."""

from __future__ import annotations

from flask import Blueprint

from . import auth
from .pages_print import approval_form_html, processing_sheet_html

bp = Blueprint("api_print", __name__, url_prefix="/api/v1")


@bp.get("/instances/<int:instance_id>/print")
@auth.api_login_required
def approval_form(instance_id):
    return approval_form_html(instance_id)


@bp.get("/instances/<int:instance_id>/sheet")
@auth.api_login_required
def processing_sheet(instance_id):
    return processing_sheet_html(instance_id)
