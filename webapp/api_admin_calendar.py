"""REST: the working-day calendar and office hours (administrators), and 挂起/恢复 of instances."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from engine.errors import FieldError, InvalidData
from engine.time import calendar_admin
from engine.work import suspension, working_time

from . import auth
from .inputs import json_body, optional_json_body

bp = Blueprint("api_admin_calendar", __name__, url_prefix="/api/v1")


def _core():
    return current_app.extensions["oaflow"]


def _year(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidData([FieldError("year", "year 必须是整数年份，例如 2027")]) from None


@bp.get("/admin/calendar")
@auth.api_login_required
def calendar_year():
    year = _year(request.args["year"]) if request.args.get("year") else None
    return jsonify(calendar_admin.year_calendar(_core(), g.user, year))


@bp.put("/admin/calendar/days/<day>")
@auth.api_login_required
def calendar_day(day):
    body = json_body()
    return jsonify(working_time.set_day(_core(), g.user.username, day, body.get("is_workday"), body.get("note")))


@bp.post("/admin/calendar/import")
@auth.api_login_required
def calendar_import():
    """{year, holidays: [{start, end, name}], workdays: [{date, name}]} or {year, text}."""
    body = json_body()
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
    return jsonify({"items": calendar_admin.change_history(_core(), g.user)})


@bp.get("/admin/office-hours")
@auth.api_login_required
def office_hours():
    return jsonify(calendar_admin.current_office_hours(_core(), g.user))


@bp.put("/admin/office-hours")
@auth.api_login_required
def set_office_hours():
    body = json_body()
    return jsonify(working_time.set_office_hours(_core(), g.user.username, body.get("timezone"), body.get("periods")))


@bp.post("/instances/<int:instance_id>/suspend")
@auth.api_login_required
def suspend(instance_id):
    body = optional_json_body()
    return jsonify(suspension.suspend(_core(), g.user.username, instance_id, body.get("reason")))


@bp.post("/instances/<int:instance_id>/resume")
@auth.api_login_required
def resume(instance_id):
    body = optional_json_body()
    return jsonify(suspension.resume(_core(), g.user.username, instance_id, body.get("reason")))
