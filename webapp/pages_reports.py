"""月度统计 (administrators): a month's statistics by person, department and process, with charts and the
items behind each figure, and its Excel file."""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request

from engine.reports import statistics
from engine.reports.monthly import SCOPE_LABELS

from . import auth
from .api_reports import xlsx_response

bp = Blueprint("reports", __name__)


def _core():
    return current_app.extensions["oaflow"]


@bp.get("/reports/monthly")
@auth.page_login_required
def monthly():
    source = request.args.get("source", "live")
    data = statistics.report_page(_core(), g.user, request.args.get("month"), source)
    html = render_template(
        "reports_monthly.html",
        report=data["report"],
        month=data["month"],
        source=source,
        error=data["error"],
        scopes=SCOPE_LABELS,
    )
    return html, (200 if data["error"] is None else 422)


@bp.get("/reports/monthly/items")
@auth.page_login_required
def items():
    """The items behind one figure (a number or a bar of the charts)."""
    args = request.args
    data = statistics.items_page(
        _core(), g.user, args.get("month"), args.get("scope", ""), args.get("key", ""), args.get("measure", "")
    )
    return render_template("reports_items.html", data=data)


@bp.get("/reports/monthly.xlsx")
@auth.page_login_required
def monthly_xlsx():
    month, workbook = statistics.monthly_workbook(
        _core(), g.user, request.args.get("month"), request.args.get("source", "live")
    )
    return xlsx_response(month, workbook)
