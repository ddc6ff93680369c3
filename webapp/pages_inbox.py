"""The lists: 待办 / 已办 / 我发起的 / 抄送我的, their filters (a GET form: the URL can be bookmarked), and
批量同意 from 待办."""

from __future__ import annotations

import math

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for

from engine.errors import InvalidData
from engine.work import decisions
from engine.work.views import pages as page_reads
from engine.work.views.worklist import BOX_LABELS, BOXES

from . import auth, postback
from .layout import home_url, show

bp = Blueprint("inbox", __name__)

PER_PAGE = 20
FILTER_NAMES = (
    "process",
    "initiator",
    "arrived_from",
    "arrived_to",
    "priority",
    "overdue",
    "due_soon",
    "status",
    "sort",
)


def _core():
    return current_app.extensions["oaflow"]


@bp.get("/")
@auth.page_login_required
def index():
    return redirect(home_url())


@bp.get("/inbox/<box>")
@auth.page_login_required
def box(box):
    if box not in BOXES:
        abort(404)
    q = request.args.get("q", "").strip()
    page = max(1, request.args.get("page", 1, type=int))
    data = page_reads.inbox_page(_core(), g.user, box, q, page, PER_PAGE, request.args)
    pages = max(1, math.ceil(data["result"]["total"] / PER_PAGE))
    chosen = {name: request.args.get(name, "") for name in FILTER_NAMES}  # kept as typed, even when refused
    query = {k: v for k, v in {"q": q, **chosen}.items() if v}
    kept = postback.kept()  # a 批量同意 that was refused: its opinion and ticks
    return show(
        "inbox.html",
        data["layout"],
        batch_opinion=kept.get("opinion", ""),
        batch_ids=kept.get("values", {}).get("ids", []),
        box=box,
        box_label=BOX_LABELS[box],
        q=q,
        chosen=chosen,
        query=query,
        pager_args={"box": box, **query},
        filtered=bool(set(query) - {"sort"}),
        filter_errors=data["filter_errors"],
        choices=data["choices"],
        result=data["result"],
        pages=pages,
        recallable=data["recallable"],
        waiting=data["waiting"],
    )


@bp.post("/inbox/todo/batch-approve")
@auth.page_login_required
def batch_approve():
    """批量同意 the checked 待办 with one opinion; the flashes say which were approved and why others were not."""
    back = postback.referrer(url_for("inbox.box", box="todo"))
    raw = request.form.getlist("ids")
    ids = [int(v) if v.isdigit() else v for v in raw]
    opinion = request.form.get("opinion", "")
    try:
        result = decisions.complete_batch(_core(), g.user.username, ids, opinion)
    except InvalidData as exc:
        message = "；".join(e.message for e in exc.errors)
        if not back.startswith("/inbox/"):  # sent from elsewhere: that page keeps no batch form
            return postback.back(back, message)
        # Back to the box with the opinion and the ticks as they were (Post/Redirect/Get keeps what was typed).
        return postback.back(back, message, opinion=opinion, values={"ids": raw})
    approved = [_name(r) for r in result["results"] if r["ok"]]
    if approved:
        flash(f"已批量同意 {len(approved)} 项：{'、'.join(approved)}", "success")
    for refused in result["results"]:
        if not refused["ok"]:
            flash(f"未同意「{_name(refused)}」：{refused['error']}", "warning")
    return redirect(back, 303)


def _name(result: dict) -> str:
    """How the summary names an item: its title (the user's own items), else its number."""
    return result.get("title") or f"待办 #{result['id']}"
