"""The pages' reads: each GET page of the browser is one of these queries, one read transaction that returns
everything the page shows, the frame's figures included (engine.work.layout). The task and instance pages are
in views_detail, the start pages in catalogue, the administrators' pages beside their commands."""

from __future__ import annotations

import logging

from engine.errors import InvalidData, OaflowError, require_admin
from engine.notify import delivery, messages, settings
from engine.org import directory, users
from engine.time.working_days import PRIORITIES
from engine.work import frame, opinions
from engine.work.kernel.case import STATUS_LABELS
from engine.work.views import detail as details
from engine.work.views import filters, worklist

log = logging.getLogger("oaflow.work")


def inbox_page(core, user: users.User, box: str, q: str = "", page: int = 1, per_page: int = 20, args=None) -> dict:
    """待办 / 已办 / 我发起的 / 抄送我的: the page of items, narrowed and ordered by the filters in `args` (a
    URL's query); on 已办, which approvals may still be taken back (撤回审批); on the first page of 待办, the
    user's items that wait for someone else, and which items may be approved in a batch. Bad filters give
    no items and `filter_errors` (parameter → message), so the page can say so and keep what was chosen."""
    worklist.check_box(box)
    try:
        found, filter_errors = filters.read_filters(args or {}, box), {}
    except InvalidData as exc:
        found, filter_errors = None, {e.field: e.message for e in exc.errors}
    with core.db.read() as conn:
        if found is not None:
            try:
                result = worklist.inbox(conn, user, box, q, page, per_page, found)
            except InvalidData as exc:  # a process or a person that does not exist
                found, filter_errors = None, {e.field: e.message for e in exc.errors}
        if found is None:
            result = {"items": [], "total": 0, "page": 1, "per_page": per_page}
        if box == "todo":
            worklist.mark_batchable(core, conn, result["items"])
        recallable = _recallable(core, conn, user, result["items"]) if box == "done" else set()
        first = box == "todo" and page == 1 and not q and found is not None and not found.active
        return {
            "result": result,
            "filters": found,
            "filter_errors": filter_errors,
            "choices": {
                "processes": filters.process_choices(conn),
                "people": directory.active_users(conn),
                "priorities": list(PRIORITIES),
                "statuses": STATUS_LABELS,
                "sorts": filters.SORTS,
            },
            "recallable": recallable,
            "waiting": worklist.waiting(conn, user) if first else [],
            "layout": frame.figures(conn, user),
        }


def _recallable(core, conn, user: users.User, items: list[dict]) -> set[int]:
    ids = set()
    for item in items:
        if item["decision"] == "approve" and item["instance_status"] == "running":
            try:
                if details.may_recall(core, conn, user, item["id"]):
                    ids.add(item["id"])
            except OaflowError:  # a listing must not fail because one instance cannot be loaded
                log.exception("available_actions failed for work item %s", item["id"])
    return ids


def phrases_page(core, user: users.User) -> dict:
    """常用意见: the user's reusable opinions."""
    with core.db.read() as conn:
        return {"items": opinions.phrases_of(conn, user.id), "layout": frame.figures(conn, user)}


def messages_page(core, user: users.User, unread_only: bool = False, page: int = 1, per_page: int = 20) -> dict:
    """消息 (the bell): the user's messages, a page at a time."""
    with core.db.read() as conn:
        result = messages.inbox(conn, user.id, unread_only, page, per_page)
        return {"result": result, "layout": frame.figures(conn, user)}


def notification_settings_page(core, user: users.User) -> dict:
    """通知设置: the user's channels and addresses."""
    with core.db.read() as conn:
        return {"prefs": settings.preferences(conn, user.id), "layout": frame.figures(conn, user)}


def failures_page(core, user: users.User) -> dict:
    """通知失败 (administrators): the messages that failed, and the delivery settings they went out with."""
    require_admin(user)
    with core.db.read() as conn:
        items, cfg = delivery.failures(conn), settings.masked_config(conn)
        return {"items": items, "cfg": cfg, "layout": frame.figures(conn, user)}
