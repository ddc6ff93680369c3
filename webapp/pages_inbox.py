"""The lists: 待办 / 已办 / 我发起的 / 抄送我的."""

from __future__ import annotations

import math

from flask import Blueprint, abort, current_app, g, redirect, request

from engine.work.views import pages as page_reads
from engine.work.views.worklist import BOX_LABELS, BOXES

from . import auth
from .layout import home_url, show

bp = Blueprint("inbox", __name__)

PER_PAGE = 20


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
    data = page_reads.inbox_page(current_app.extensions["oaflow"], g.user, box, q, page, PER_PAGE)
    pages = max(1, math.ceil(data["result"]["total"] / PER_PAGE))
    return show(
        "inbox.html",
        data["layout"],
        box=box,
        box_label=BOX_LABELS[box],
        q=q,
        result=data["result"],
        pages=pages,
        recallable=data["recallable"],
        waiting=data["waiting"],
    )
