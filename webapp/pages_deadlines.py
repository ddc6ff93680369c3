"""Browser pages for issue 4: messages (the bell) and notification settings, the working-day calendar
and office hours, delivery failures, monthly statistics, and 挂起/恢复 on the instance page."""

from __future__ import annotations

import math
from datetime import date

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine.errors import InvalidData, NotFound, OaflowError
from engine.notify import delivery, messages
from engine.notify import settings as notify_settings
from engine.reports import export
from engine.reports import monthly as monthly_stats
from engine.time import calendar_admin
from engine.time.office_hours import load_office_hours, work_calendar
from engine.work import suspension, working_time

from . import auth

bp = Blueprint("pages_deadlines", __name__)
PER_PAGE = 20


def _core():
    return current_app.extensions["oaflow"]


@bp.app_context_processor
def _bell_context():
    """The bell's unread count, and an administrator's warning about next year's calendar."""
    user = g.get("user")
    context = {"nav_unread": None, "calendar_warning": None}
    if user is None:
        return context
    try:
        with _core().db.read() as conn:
            context["nav_unread"] = messages.unread_count(conn, user.id)
            if user.is_admin:
                context["calendar_warning"] = calendar_admin.warning(conn, date.today())
    except Exception:  # the bell must not take a page down with it
        current_app.logger.exception("bell context failed")
    return context


@bp.app_template_global()
def due_unconfirmed(due_at: str | None) -> bool:
    """Whether a due time (ISO, office time) lies past the imported calendar: shown as 未确认."""
    if not due_at:
        return False
    if "calendar_last" not in g:
        with _core().db.read() as conn:
            last = work_calendar(conn).last
        g.calendar_last = last.isoformat() if last else ""
    return bool(g.calendar_last) and due_at[:10] > g.calendar_last


def _errors(exc: InvalidData) -> str:
    return "；".join(f"{e.message}" for e in exc.errors)


# --- messages ---------------------------------------------------------------------------------------


@bp.get("/notifications")
@auth.page_login_required
def inbox():
    unread = request.args.get("unread") == "1"
    page = max(1, request.args.get("page", 1, type=int))
    with _core().db.read() as conn:
        result = messages.inbox(conn, g.user.id, unread, page, PER_PAGE)
    pages = max(1, math.ceil(result["total"] / PER_PAGE))
    return render_template("notifications.html", result=result, pages=pages, unread=unread)


@bp.get("/notifications/<int:notification_id>/open")
@auth.page_login_required
def open_message(notification_id):
    """Mark one of the user's own messages read and go to what it is about."""
    with _core().db.write() as conn:
        row = messages.get(conn, g.user.id, notification_id)
        item_id = messages.work_item_of(row)
        messages.mark_read(conn, g.user.id, [notification_id])
    if item_id:
        return redirect(url_for("pages.work_item", item_id=item_id))
    if row.instance_id:
        return redirect(url_for("pages.instance", instance_id=row.instance_id))
    return redirect(url_for("pages_deadlines.inbox"))


@bp.post("/notifications/read-all")
@auth.page_login_required
def read_all():
    with _core().db.write() as conn:
        count = messages.mark_read(conn, g.user.id)
    flash(f"已将 {count} 条消息标为已读", "success")
    return redirect(url_for("pages_deadlines.inbox"))


@bp.route("/settings/notifications", methods=["GET", "POST"])
@auth.page_login_required
def settings():
    errors = {}
    with _core().db.read() as conn:
        prefs = notify_settings.preferences(conn, g.user.id)
    if request.method == "POST":
        data = {
            "channels": {"email": request.form.get("email_enabled") is not None, "sms": "sms_enabled" in request.form},
            "email": request.form.get("email", ""),
            "phone": request.form.get("phone", ""),
        }
        try:
            with _core().db.write() as conn:
                notify_settings.set_preferences(conn, g.user.id, data)
        except InvalidData as exc:
            errors = {e.field: e.message for e in exc.errors}
            channels = {"web": True, **data["channels"]}
            prefs = {**prefs, "email": data["email"], "phone": data["phone"], "channels": channels}
        else:
            flash("通知设置已保存", "success")
            return redirect(url_for("pages_deadlines.settings"))
    return render_template("notification_settings.html", prefs=prefs, errors=errors), (422 if errors else 200)


# --- administrators: calendar, office hours, delivery failures ------------------------------------------


@bp.get("/admin/calendar")
@auth.page_login_required
def calendar_page():
    auth.require_admin()
    try:
        year = int(request.args.get("year", date.today().year))
    except ValueError:
        year = date.today().year
    with _core().db.read() as conn:
        view = calendar_admin.year_view(conn, year)
        hours = load_office_hours(conn).as_dict()
        history = calendar_admin.history(conn, 20)
    months: dict[int, dict] = {}
    for day in view["days"]:
        month = months.setdefault(int(day["date"][5:7]), {"offset": None, "days": []})
        if month["offset"] is None:
            month["offset"] = date.fromisoformat(day["date"]).weekday()
        month["days"].append(day)
    return render_template(
        "admin_calendar.html", view=view, months=months, hours=hours, history=history, year=year, today=date.today()
    )


def _back(year=None):
    return redirect(url_for("pages_deadlines.calendar_page", year=year or request.form.get("year")))


@bp.post("/admin/calendar/day")
@auth.page_login_required
def calendar_set_day():
    auth.require_admin()
    choice = request.form.get("is_workday")
    is_workday = {"1": True, "0": False}.get(choice, choice)
    try:
        result = working_time.set_day(
            _core(), g.user.username, request.form.get("date", ""), is_workday, request.form.get("note")
        )
    except InvalidData as exc:
        flash(_errors(exc), "error")
    else:
        flash(f"已保存 {result['date']}，重新计算了 {result['recomputed']} 项待办的期限", "success")
    return _back()


@bp.post("/admin/calendar/import")
@auth.page_login_required
def calendar_import():
    auth.require_admin()
    try:
        year = int(request.form.get("year", ""))
    except ValueError:
        flash("年份必须是整数，例如 2027", "error")
        return _back(date.today().year)
    try:
        result = working_time.import_year(_core(), g.user.username, year, text=request.form.get("text", ""))
    except InvalidData as exc:
        flash(_errors(exc), "error")
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
    auth.require_admin()
    try:
        working_time.set_office_hours(
            _core(), g.user.username, request.form.get("timezone"), request.form.get("periods", "")
        )
    except InvalidData as exc:
        flash(_errors(exc), "error")
    else:
        flash("办公时间已保存", "success")
    return _back()


@bp.get("/admin/notifications")
@auth.page_login_required
def failures():
    auth.require_admin()
    with _core().db.read() as conn:
        items = delivery.failures(conn)
        cfg = notify_settings.config(conn)
    return render_template("admin_notifications.html", items=items, cfg=cfg)


@bp.post("/admin/notifications/<int:notification_id>/retry")
@auth.page_login_required
def retry(notification_id):
    auth.require_admin()
    with _core().db.write() as conn:
        delivery.retry(conn, g.user.id, notification_id)
    flash("已安排重新发送", "success")
    return redirect(url_for("pages_deadlines.failures"))


# --- monthly statistics --------------------------------------------------------------------------------


@bp.get("/reports/monthly")
@auth.page_login_required
def monthly():
    auth.require_admin()
    from .api_reports import monthly_report

    source = request.args.get("source", "live")
    error = None
    with _core().db.read() as conn:
        month = request.args.get("month") or monthly_stats.default_month(conn)
        try:
            report = monthly_report(conn, month, source)
        except (InvalidData, NotFound) as exc:
            error, report = exc.message if not isinstance(exc, InvalidData) else _errors(exc), None
    return render_template(
        "reports_monthly.html",
        report=report,
        month=month,
        source=source,
        error=error,
        scopes=monthly_stats.SCOPE_LABELS,
    ), (200 if error is None else 422)


@bp.get("/reports/monthly.xlsx")
@auth.page_login_required
def monthly_xlsx():
    auth.require_admin()
    from .api_reports import XLSX, monthly_report

    with _core().db.read() as conn:
        month = request.args.get("month") or monthly_stats.default_month(conn)
        report = monthly_report(conn, month, request.args.get("source", "live"))
    response = current_app.response_class(export.to_xlsx(report), mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="oaflow-monthly-{report["month"]}.xlsx"'
    return response


# --- 挂起 / 恢复 -------------------------------------------------------------------------------------------


@bp.post("/instances/<int:instance_id>/suspend")
@auth.page_login_required
def suspend(instance_id):
    try:
        suspension.suspend(_core(), g.user.username, instance_id, request.form.get("reason", ""))
    except OaflowError as exc:
        if exc.status not in (409, 422):
            raise
        flash(_errors(exc) if isinstance(exc, InvalidData) else exc.message, "error")
    else:
        flash("已挂起：期限暂停计算", "success")
    return redirect(url_for("pages.instance", instance_id=instance_id))


@bp.post("/instances/<int:instance_id>/resume")
@auth.page_login_required
def resume(instance_id):
    try:
        result = suspension.resume(_core(), g.user.username, instance_id, request.form.get("reason", ""))
    except OaflowError as exc:
        if exc.status not in (409, 422):
            raise
        flash(_errors(exc) if isinstance(exc, InvalidData) else exc.message, "error")
    else:
        flash(f"已恢复：期限顺延 {result['paused_minutes'] / 60:.1f} 个工作小时", "success")
    return redirect(url_for("pages.instance", instance_id=instance_id))
