"""REST: monthly statistics (administrators), as JSON or an Excel file."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from engine.errors import NotFound
from engine.reports import export
from engine.reports import monthly as monthly_stats

from . import auth

bp = Blueprint("api_reports", __name__, url_prefix="/api/v1")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _core():
    return current_app.extensions["oaflow"]


def monthly_report(conn, month: str, source: str) -> dict:
    """`source`: live (computed now, the default) or a stored snapshot (day28 | month_end)."""
    if source in ("", "live"):
        report = monthly_stats.compute(conn, month)
        report["source"] = "live"
    else:
        report = monthly_stats.load_snapshot(conn, month, source)
        if report is None:
            raise NotFound(f"{month} 尚无{monthly_stats.SNAPSHOTS[source]}")
        report["source"] = source
    report["snapshots"] = monthly_stats.snapshots_of(conn, month)
    return report


@bp.get("/reports/monthly")
@auth.api_login_required
def monthly():
    auth.require_admin()
    with _core().db.read() as conn:
        month = request.args.get("month") or monthly_stats.default_month(conn)
        report = monthly_report(conn, month, request.args.get("source", "live"))
    return jsonify(report)


@bp.get("/reports/monthly.xlsx")
@auth.api_login_required
def monthly_xlsx():
    auth.require_admin()
    with _core().db.read() as conn:
        month = request.args.get("month") or monthly_stats.default_month(conn)
        report = monthly_report(conn, month, request.args.get("source", "live"))
    response = current_app.response_class(export.to_xlsx(report), mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="oaflow-monthly-{report["month"]}.xlsx"'
    return response


@bp.post("/reports/monthly/snapshot")
@auth.api_login_required
def snapshot():
    """Take the current month's snapshot now (normally the scheduler does, on the 28th and at month end)."""
    auth.require_admin()
    body = request.get_json(silent=True) or {}
    added = monthly_stats.take_snapshot(_core(), body.get("snapshot", "day28"))
    return jsonify({"added": added}), 201
