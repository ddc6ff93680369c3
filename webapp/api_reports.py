"""REST: monthly statistics (administrators), as JSON or an Excel file."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from engine.reports import statistics

from . import auth
from .inputs import optional_json_body

bp = Blueprint("api_reports", __name__, url_prefix="/api/v1")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _core():
    return current_app.extensions["oaflow"]


def xlsx_response(month: str, workbook: bytes):
    """The month's statistics as an Excel download."""
    response = current_app.response_class(workbook, mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="oaflow-monthly-{month}.xlsx"'
    return response


@bp.get("/reports/monthly")
@auth.api_login_required
def monthly():
    return jsonify(
        statistics.monthly_report(_core(), g.user, request.args.get("month"), request.args.get("source", "live"))
    )


@bp.get("/reports/monthly.xlsx")
@auth.api_login_required
def monthly_xlsx():
    month, workbook = statistics.monthly_workbook(
        _core(), g.user, request.args.get("month"), request.args.get("source", "live")
    )
    return xlsx_response(month, workbook)


@bp.post("/reports/monthly/snapshot")
@auth.api_login_required
def snapshot():
    """Take the current month's snapshot now (normally the scheduler does, on the 28th and at month end)."""
    body = optional_json_body()
    added = statistics.snapshot_now(_core(), g.user, body.get("snapshot", "day28"))
    return jsonify({"added": added}), 201
