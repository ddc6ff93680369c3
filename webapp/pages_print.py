"""The printable pages of an application: 审批单 (every process), 处理单 (a 公文, by its sheet spec; the
审批单 for the others) and the 红头 first page of a 发文. A4 print CSS, no navigation; who may see the
application may print it. The API serves the same HTML (api_print)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template

from engine.work.views import printing

from . import auth

bp = Blueprint("printing", __name__)


def _core():
    return current_app.extensions["oaflow"]


def approval_form_html(instance_id: int) -> str:
    """审批单."""
    data = printing.approval_form(_core(), g.user, instance_id)
    return render_template("print.html", p=data, detail=data["detail"])


def processing_sheet_html(instance_id: int) -> str:
    """处理单 (the 审批单 for a process without a sheet spec)."""
    data = printing.processing_sheet(_core(), g.user, instance_id)
    return render_template("sheet.html", p=data, detail=data["detail"])


@bp.get("/instances/<int:instance_id>/print")
@auth.page_login_required
def approval_form(instance_id):
    return approval_form_html(instance_id)


@bp.get("/instances/<int:instance_id>/sheet")
@auth.page_login_required
def processing_sheet(instance_id):
    return processing_sheet_html(instance_id)


@bp.get("/instances/<int:instance_id>/redhead")
@auth.page_login_required
def redhead(instance_id):
    data = printing.redhead(_core(), g.user, instance_id)
    return render_template("redhead.html", p=data, detail=data["detail"])
