"""The frame every page shares: the template filters and globals (times in office time, due states, the
words for decisions and signers, the language switch), the navigation's figures, and the error page.

The figures (badge counts, the bell, the administrators' calendar warning) come with the page's own engine
query (`show`); a page without one (an error page, 月度统计) asks the engine for them once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app, g, render_template, request, url_for

from engine.org import oversight, permissions
from engine.process.money import format_money, is_money
from engine.time.working_days import OFFICE_TZ, to_local
from engine.work import frame
from engine.work.kernel.case import DECISIONS

ERROR_TITLES = {400: "请求无效", 403: "无权访问", 404: "未找到", 409: "操作冲突", 422: "无法处理"}

# What a done work item's decision means, in a clerk's words (已办, 签批情况).
DECISION_LABELS = {
    **DECISIONS,
    "send_back": "退回",
    "transfer": "转办",
    "resolve": "办理完成",
    "resubmit": "重新提交",
    "submit": "提交申请",
}

# How a signer came to this node (签批情况), when not by the node's own rule.
SIGNER_ORIGINS = {
    "add_before": "前加签",
    "add_after": "后加签",
    "add_parallel": "并加签",
    "transfer": "转办",
    "delegate": "委派",
    "recall": "撤回后重办",
    "send_back": "退回后重办",
}


def show(template: str, layout: dict, **context) -> str:
    """Render a page whose engine query brought the frame's figures along (its "layout")."""
    g.layout = layout
    return render_template(template, **context)


def home_url() -> str:
    return url_for("inbox.box", box="todo")


def error_page(message: str, status: int):
    title = ERROR_TITLES.get(status, "出错了")
    return render_template("error.html", title=title, message=message, status=status), status


def init_app(app) -> None:
    # which administrators' menus a user sees: the roles' rules (engine.org.permissions)
    app.jinja_env.globals.update(
        may_deploy=permissions.may_deploy,
        may_manage_doc_numbers=permissions.may_manage_doc_numbers,
        may_administer_org=permissions.may_administer_org,
        may_open_monitor=oversight.may_open,
    )
    app.add_template_filter(format_time, "when")
    app.add_template_filter(format_short_time, "when_short")
    app.add_template_filter(clock, "when_clock")
    app.add_template_filter(decision_label, "decision")
    app.add_template_filter(format_money, "money")
    app.add_template_test(is_money, "money_field")
    for function in (due_state, due_unconfirmed, lang_url, signer_state, signer_origin):
        app.add_template_global(function)
    app.context_processor(_frame_context)


def _frame_context() -> dict:
    user = g.get("user")
    if user is None:
        return {"nav_counts": None, "nav_unread": None, "calendar_warning": None}
    figures = g.get("layout")
    if figures is None:
        try:
            figures = frame.page_figures(current_app.extensions["oaflow"], user)
        except Exception:  # the badges must not take an error page down with them
            current_app.logger.exception("the page frame's figures failed")
            figures = frame.NONE
        g.layout = figures
    return {
        "nav_counts": figures["counts"],
        "nav_unread": figures["unread"],
        "calendar_warning": figures["calendar_warning"],
    }


# --- template filters and globals ---------------------------------------------------------------------------


def format_time(value) -> str:
    """ISO string (+08:00 from the engine) or datetime → 'YYYY-MM-DD HH:MM' in office time."""
    if not value:
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:  # naive values in our tables are UTC
        value = to_local(value)
    else:  # an ISO string with its offset (+08:00, Z): shown in office time all the same
        value = value.astimezone(OFFICE_TZ)
    return value.strftime("%Y-%m-%d %H:%M")


def format_short_time(value) -> str:
    """'MM-DD HH:MM' in office time, for a mark inside a list row."""
    full = format_time(value)
    return full[5:] if len(full) == 16 else full


def clock(value) -> str:
    """'HH:MM' in office time (催办: when it may be sent again)."""
    full = format_time(value)
    return full[11:] if len(full) == 16 else full


def due_state(due_at: str | None, is_open: bool = True) -> str | None:
    """'overdue', 'soon' (due within a day) or None."""
    if not due_at or not is_open:
        return None
    try:
        due = datetime.fromisoformat(due_at)
    except ValueError:
        return None
    now = datetime.now(timezone.utc)
    if due < now:
        return "overdue"
    return "soon" if due - now <= timedelta(days=1) else None


def due_unconfirmed(due_at: str | None) -> bool:
    """Whether a due time (ISO, office time) lies past the imported calendar: shown as 未确认."""
    if not due_at:
        return False
    last = (g.get("layout") or frame.NONE)["calendar_last"]
    return bool(last) and due_at[:10] > last


def lang_url(lang: str) -> str:
    args = {k: v for k, v in request.args.items() if k != "lang"}
    args["lang"] = lang
    if request.endpoint is None:  # error pages for unknown URLs
        return f"{request.path}?lang={lang}"
    return url_for(request.endpoint, **{**args, **(request.view_args or {})})


def decision_label(value: str | None) -> str:
    return DECISION_LABELS.get(value, value or "")


def signer_state(signer: dict, sign_mode: str = "") -> tuple[str, str]:
    """(words, css class) for one signer of a node: 待办 / 等待 / 同意 / 不同意 / 已由他人处理 …"""
    status, decision = signer["status"], signer.get("decision")
    if status == "open":
        return "待办", "pending"
    if status == "waiting":
        return "等待", "waiting"
    if status == "done":
        if decision == "approve":
            return ("已提交意见" if sign_mode == "collect" else "同意"), "approved"
        if decision == "reject":
            return "不同意", "rejected"
        return DECISION_LABELS.get(decision, decision or "已处理"), "other"
    return signer.get("note") or "已取消", "cancelled"


def signer_origin(signer: dict) -> str:
    return SIGNER_ORIGINS.get(signer.get("origin"), "")
