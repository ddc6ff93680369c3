"""工作日历 and 办公时间 (administrators): a year of working days, one day changed, next year's schedule
imported, the office hours."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from engine.errors import FieldError, InvalidData
from engine.work import working_time

from . import auth, inputs, postback
from .layout import show

bp = Blueprint("calendar", __name__)


def _core():
    return current_app.extensions["oaflow"]


def _months(days: list[dict]) -> dict[int, dict]:
    """The year's days by month, each month with the weekday its first day falls on (the grid's offset)."""
    months: dict[int, dict] = {}
    for day in days:
        month = months.setdefault(int(day["date"][5:7]), {"offset": None, "days": []})
        if month["offset"] is None:
            month["offset"] = date.fromisoformat(day["date"]).weekday()
        month["days"].append(day)
    return months


@bp.get("/admin/calendar")
@auth.page_login_required
def page():
    try:
        year = int(request.args["year"]) if request.args.get("year") else None
    except ValueError:
        year = None
    data = working_time.calendar_page(_core(), g.user, year)
    view = data["view"]
    kept = postback.kept()  # a form that failed: which one, what was typed, the errors by field
    return show(
        "admin_calendar.html",
        data["layout"],
        kept_form=kept.get("form"),
        kept=kept.get("values", {}),
        errors=kept.get("errors", {}),
        view=view,
        months=_months(view["days"]),
        hours=data["hours"],
        history=data["history"],
        year=data["year"],
        today=data["today"],
    )


def _back(year=None):
    return redirect(url_for("calendar.page", year=year or request.form.get("year")))


def _refused(form: str, exc: InvalidData, names: tuple[str, ...], year=None):
    """Back to the calendar with `form` filled in as it was sent and its errors by field (Post/Redirect/Get)."""
    values = {name: request.form.get(name, "") for name in names}
    return postback.back(
        url_for("calendar.page", year=year or request.form.get("year")),
        inputs.error_text(exc),
        form=form,
        values=values,
        errors=inputs.field_errors(exc, names),
    )


@bp.post("/admin/calendar/day")
@auth.page_login_required
def set_day():
    choice = request.form.get("is_workday")
    is_workday = {"1": True, "0": False}.get(choice, choice)
    try:
        result = working_time.set_day(
            _core(), g.user.username, request.form.get("date", ""), is_workday, request.form.get("note")
        )
    except InvalidData as exc:
        return _refused("day", exc, ("date", "is_workday", "note"))
    flash(f"已保存 {result['date']}，重新计算了 {result['recomputed']} 项待办的期限", "success")
    return _back()


@bp.post("/admin/calendar/import")
@auth.page_login_required
def import_year():
    names = ("year", "text")
    try:
        year = int(request.form.get("year", ""))
    except ValueError:
        return _refused("import", InvalidData([FieldError("year", "年份必须是整数，例如 2027")]), names, year="")
    try:
        result = working_time.import_year(_core(), g.user.username, year, text=request.form.get("text", ""))
    except InvalidData as exc:
        return _refused("import", exc, names, year)
    else:
        flash(
            f"已导入 {year} 年安排：放假 {result['holidays']} 天，调休上班 {result['workdays']} 天；"
            f"重新计算了 {result['recomputed']} 项待办的期限",
            "success",
        )
    return _back(year)


@bp.post("/admin/office-hours")
@auth.page_login_required
def office_hours():
    try:
        working_time.set_office_hours(
            _core(), g.user.username, request.form.get("timezone"), request.form.get("periods", "")
        )
    except InvalidData as exc:
        return _refused("hours", exc, ("timezone", "periods"))
    flash("办公时间已保存", "success")
    return _back()
