"""The administrators' 流程监控 (every application, one application with 跳转, 终止 and 转办), the 日志
pages (登录日志, 操作日志, with Excel export and the retention), and the top bar's search page."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from engine.errors import InvalidData, OaflowError
from engine.org import sign_in_log
from engine.work import frame, monitor
from engine.work.views import logs, search
from engine.work.views import monitor as monitoring

from . import auth, inputs, postback
from .api_monitor import xlsx_download
from .layout import show

bp = Blueprint("monitor", __name__)

LIST_FIELDS = (
    "q",
    "process",
    "status",
    "started_from",
    "started_to",
    "page",
    "initiator",
    "handler",
    "node",
    "version",
)
LOG_FIELDS = ("user", "action", "result", "from", "to", "page")


def _core():
    return current_app.extensions["oaflow"]


def _failed_filters(template: str, exc: InvalidData, fields, **context):
    """The page again with what was typed and the errors, no results (a GET form: nothing to redirect to)."""
    values = {name: request.args.get(name, "") for name in fields}
    layout = frame.page_figures(_core(), g.user)
    empty = {"items": [], "page": 1, "has_next": False}
    return show(template, layout, errors=inputs.field_errors(exc, fields), values=values, **empty, **context), 422


def _values(fields) -> dict:
    return {name: request.args.get(name, "") for name in fields}


@bp.get("/admin/monitor")
@auth.page_login_required
def instances():
    choices = {"statuses": search.STATUS_LABELS}
    try:
        data = monitoring.monitor_page(_core(), g.user.username, request.args)
    except InvalidData as exc:
        return _failed_filters("admin_monitor.html", exc, LIST_FIELDS, processes=[], **choices)
    return show(
        "admin_monitor.html",
        data["layout"],
        items=data["items"],
        page=data["page"],
        has_next=data["has_next"],
        processes=data["processes"],
        values=_values(LIST_FIELDS),
        errors={},
        **choices,
    )


@bp.get("/admin/monitor/<int:instance_id>")
@auth.page_login_required
def instance(instance_id):
    data = monitoring.instance_page(_core(), g.user.username, instance_id)
    kept = postback.kept()
    return show(
        "admin_monitor_instance.html",
        data["layout"],
        detail=data["detail"],
        svg=data["svg"],
        jump_targets=data["jump_targets"],
        open_items=data["open_items"],
        people=data["people"],
        op=kept.get("op") or {"name": None, "errors": {}, "values": {}},
    )


def _operate(instance_id: int, name: str, fields, call, done: str):
    values = inputs.form_values(*fields)
    here = url_for("monitor.instance", instance_id=instance_id)
    try:
        result = call(values)
    except InvalidData as exc:
        return postback.back(here, op={"name": name, "errors": inputs.field_errors(exc, fields), "values": values})
    except OaflowError as exc:
        if exc.status not in (409,):
            raise
        return postback.back(here, exc.message, op={"name": name, "errors": {}, "values": values})
    flash(done.format(**result), "success")
    return redirect(here, 303)


@bp.post("/admin/monitor/<int:instance_id>/jump")
@auth.page_login_required
def jump(instance_id):
    return _operate(
        instance_id,
        "jump",
        ("node", "reason"),
        lambda v: monitor.jump(_core(), g.user.username, instance_id, v["node"], v["reason"]),
        "已跳转",
    )


@bp.post("/admin/monitor/<int:instance_id>/terminate")
@auth.page_login_required
def terminate(instance_id):
    return _operate(
        instance_id,
        "terminate",
        ("reason",),
        lambda v: monitor.terminate(_core(), g.user.username, instance_id, v["reason"]),
        "已终止申请",
    )


@bp.post("/admin/monitor/<int:instance_id>/items/<int:item_id>/reassign")
@auth.page_login_required
def reassign(instance_id, item_id):
    return _operate(
        instance_id,
        f"reassign-{item_id}",
        ("to_user", "reason"),
        lambda v: monitor.reassign(_core(), g.user.username, item_id, v["to_user"], v["reason"]),
        "已转办给 {to}",
    )


def _log_page(template: str, read, export, name: str, **context):
    if request.args.get("format") == "xlsx":
        return xlsx_download(name, export(_core(), g.user.username, request.args))
    try:
        data = read(_core(), g.user.username, request.args)
    except InvalidData as exc:
        return _failed_filters(template, exc, LOG_FIELDS, retention_days=None, **context)
    kept = postback.kept()
    return show(
        template,
        data["layout"],
        items=data["items"],
        page=data["page"],
        has_next=data["has_next"],
        retention_days=data.get("retention_days"),
        values=_values(LOG_FIELDS),
        errors=kept.get("errors") or {},
        typed=kept.get("typed") or {},
        **context,
    )


@bp.get("/admin/logs/login")
@auth.page_login_required
def login_logs():
    return _log_page("admin_logs_login.html", logs.login_logs, logs.login_logs_xlsx, "login-log", results=logs.RESULTS)


@bp.get("/admin/logs/operations")
@auth.page_login_required
def operation_logs():
    return _log_page(
        "admin_logs_operations.html",
        logs.operation_logs,
        logs.operation_logs_xlsx,
        "operation-log",
        actions=logs.ACTIONS,
    )


@bp.post("/admin/logs/retention")
@auth.page_login_required
def retention():
    typed = inputs.form_values("retention_days")
    try:
        days = sign_in_log.set_retention(_core(), g.user.username, typed["retention_days"])
    except InvalidData as exc:
        errors = inputs.field_errors(exc, ("retention_days",))
        return postback.back(url_for("monitor.login_logs"), errors=errors, typed=typed)
    flash(f"登录日志保留 {days} 天", "success")
    return redirect(url_for("monitor.login_logs"), 303)


@bp.get("/search")
@auth.page_login_required
def find():
    fields = ("q", "process", "status", "started_from", "started_to", "page")
    try:
        data = search.search(_core(), g.user.username, request.args)
    except InvalidData as exc:
        return _failed_filters("search.html", exc, fields, processes=[], statuses=search.STATUS_LABELS, asked=True)
    return show(
        "search.html",
        data["layout"],
        items=data["items"],
        page=data["page"],
        has_next=data["has_next"],
        processes=data["processes"],
        statuses=data["statuses"],
        everything=data["everything"],
        asked=any(request.args.get(name) for name in fields[:-1]),
        values=_values(fields),
        errors={},
    )
