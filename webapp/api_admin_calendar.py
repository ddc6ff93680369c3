"""REST: the working-day calendar and office hours (administrators), and 挂起/恢复 of instances."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, g, jsonify, request

from engine.errors import FieldError, InvalidData
from engine.time import calendar_admin
from engine.time.office_hours import load_office_hours
from engine.work import suspension, working_time

from . import auth

bp = Blueprint("api_admin_calendar", __name__, url_prefix="/api/v1")


def _core():
    return current_app.extensions["oaflow"]


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidData([FieldError("body", "请求体必须是 JSON 对象（Content-Type: application/json）")])
    return body


def _year(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidData([FieldError("year", "year 必须是整数年份，例如 2027")]) from None


@bp.get("/admin/calendar")
@auth.api_login_required
def calendar_year():
    auth.require_admin()
    year = _year(request.args.get("year", date.today().year))
    with _core().db.read() as conn:
        view = calendar_admin.year_view(conn, year)
        view["warning"] = calendar_admin.warning(conn, date.today())
        view["office_hours"] = load_office_hours(conn).as_dict()
    return jsonify(view)


@bp.put("/admin/calendar/days/<day>")
@auth.api_login_required
def calendar_day(day):
    auth.require_admin()
    body = _body()
    result = working_time.set_day(_core(), g.user.username, day, body.get("is_workday"), body.get("note"))
    return jsonify(result)


@bp.post("/admin/calendar/import")
@auth.api_login_required
def calendar_import():
    """{year, holidays: [{start, end, name}], workdays: [{date, name}]} or {year, text}."""
    auth.require_admin()
    body = _body()
    year = body.get("year")
    if not isinstance(year, int):
        year = _year(year)
    result = working_time.import_year(
        _core(), g.user.username, year, body.get("holidays"), body.get("workdays"), body.get("text")
    )
    return jsonify(result), 201


@bp.get("/admin/calendar/history")
@auth.api_login_required
def calendar_history():
    auth.require_admin()
    with _core().db.read() as conn:
        return jsonify({"items": calendar_admin.history(conn)})


@bp.get("/admin/office-hours")
@auth.api_login_required
def office_hours():
    auth.require_admin()
    with _core().db.read() as conn:
        return jsonify(load_office_hours(conn).as_dict())


@bp.put("/admin/office-hours")
@auth.api_login_required
def set_office_hours():
    auth.require_admin()
    body = _body()
    return jsonify(working_time.set_office_hours(_core(), g.user.username, body.get("timezone"), body.get("periods")))


@bp.post("/instances/<int:instance_id>/suspend")
@auth.api_login_required
def suspend(instance_id):
    body = request.get_json(silent=True) or {}
    return jsonify(suspension.suspend(_core(), g.user.username, instance_id, body.get("reason")))


@bp.post("/instances/<int:instance_id>/resume")
@auth.api_login_required
def resume(instance_id):
    body = request.get_json(silent=True) or {}
    return jsonify(suspension.resume(_core(), g.user.username, instance_id, body.get("reason")))
