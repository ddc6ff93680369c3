"""The reads of one application: the task page (a work item on it), the instance page (申请详情, with its
diagram), and what the instance waits on besides work items. Each is one read transaction."""

from __future__ import annotations

import logging

from engine.org import directory, users
from engine.process import definitions, diagram, sheets
from engine.process.spec_cache import Compiled
from engine.work import frame, opinions
from engine.work.views import detail as details
from engine.work.views import timeline

log = logging.getLogger("oaflow.work")

# Operations whose forms pick people.
PICKER_ACTIONS = {"transfer", "delegate", "add_signers", "cc"}


def work_item_page(core, user: users.User, item_id: int) -> dict:
    """The task page: the work item, its application with the history, the names of the people its user
    fields name, and what its forms offer: users for a user field, people to hand over to and to 知会, the
    user's 常用意见."""
    with core.db.read() as conn:
        item = details.work_item_detail(core, conn, user, item_id)
        detail = details.instance_detail(core, conn, user, item["instance_id"])
        view = view_schema(core.specs.get(conn, detail["definition_id"]), item["start_form"], item["data"])
        actions = set(item["actions"])
        busy = {s["assignee"] for s in item["signers"] if s["status"] in ("open", "waiting")}
        return {
            "item": item,
            "detail": detail,
            "view_schema": view,
            "user_names": user_names(conn, view, item["data"]),
            "users": directory.active_users(conn) if actions and _has_user_widget(item["form"]) else [],
            "people": directory.picker_groups(conn, busy | {user.username}) if actions & PICKER_ACTIONS else [],
            "readers": directory.picker_groups(conn, {user.username}) if "cc" in actions else [],
            "phrases": opinions.phrases_of(conn, user.id) if actions else [],
            "layout": frame.figures(conn, user),
        }


def instance_page(core, user: users.User, instance_id: int) -> dict:
    """The instance page: the application with its history and diagram (and its nodes as a timeline, for a
    phone), the approvals the user may still take back (撤回审批), the people to 知会 and the people and
    departments to 传阅, which printed pages it has besides the 审批单 (`sheet`, the 处理单's title;
    `redhead`). `unread_cc`: the user has unread 知会 copies here, which the visit marks read
    (readers.mark_read, a command of its own); the badge counts already leave them out."""
    me = user.username
    with core.db.read() as conn:
        detail = details.instance_detail(core, conn, user, instance_id)
        compiled = core.specs.get(conn, detail["definition_id"])
        view = view_schema(compiled, detail["form"], detail["data"])
        sheet = sheets.sheet_for(detail["process"], compiled.model.properties)
        recall_items = [
            w
            for w in detail["work_items"]
            if detail["status"] == "running"
            and w["kind"] == "approve"
            and w["assignee"] == me
            and w["status"] == "done"
            and w["decision"] == "approve"
            and details.may_recall(core, conn, user, w["id"])
        ]
        names = user_names(conn, view, detail["data"])
        picking = {"cc", "circulate"} & set(detail["actions"])
        readers = directory.picker_groups(conn, {me}) if picking else []
        departments = directory.department_names(conn) if "circulate" in detail["actions"] else []
        bpmn_xml = definitions.bpmn_xml(conn, detail["definition_id"])
        layout = frame.figures(conn, user)
    unread = [w for w in detail["work_items"] if w["kind"] == "cc" and w["assignee"] == me and not w["read"]]
    if unread and layout["counts"] is not None:
        layout["counts"]["cc"] = max(0, layout["counts"]["cc"] - len(unread))
    return {
        "detail": detail,
        "view_schema": view,
        "user_names": names,
        "svg": _diagram(bpmn_xml, detail),
        "timeline": timeline.steps(detail),  # the nodes in order, for a phone's narrow screen
        "recall_items": recall_items,
        "readers": readers,
        "departments": departments,
        "unread_cc": bool(unread),
        "sheet": sheet.title if sheet else None,  # a 公文: it prints a 处理单
        "redhead": bool(sheet and sheet.redhead),  # a 发文: it prints a 红头 first page
        "layout": layout,
    }


def view_schema(compiled: Compiled, start_form: dict, data: dict) -> dict:
    """The start form, plus titles from the process's other forms for fields approvers filled in."""
    props = dict(start_form.get("properties", {}))
    for form in compiled.forms.values():
        for name, prop in form.get("properties", {}).items():
            if name in data and name not in props:
                props[name] = prop
    return {"properties": props}


def _has_user_widget(schema: dict) -> bool:
    return any(prop.get("x-widget") == "user" for prop in schema.get("properties", {}).values())


def user_names(conn, schema: dict, data: dict) -> dict[str, str]:
    """Display names for the values of user-picker fields, for the read-only view."""
    return directory.names_of(
        conn,
        {
            data[name]
            for name, prop in schema.get("properties", {}).items()
            if prop.get("x-widget") == "user" and isinstance(data.get(name), str)
        },
    )


def _diagram(bpmn_xml: str | None, detail: dict) -> str | None:
    """SVG from engine.process.diagram (our own renderer, which escapes every text it writes): the nodes done,
    the current ones with who holds them."""
    current = {w["node"] for w in detail["work_items"] if w["kind"] == "approve" and w["status"] == "open"}
    done = set(detail["completed_nodes"]) - current
    waiting: dict[str, list[str]] = {}
    for w in detail["work_items"]:
        if w["node"] in current and w["kind"] == "approve" and w["status"] == "open":
            waiting.setdefault(w["node"], []).append(w["assignee_name"])
    labels = {node: "、".join(names) for node, names in waiting.items()}
    try:
        return diagram.render_svg(bpmn_xml, detail["process"], done=done, current=current, labels=labels)
    except Exception:  # a diagram is a convenience: the page must still open without it
        log.exception("diagram rendering failed for instance %s", detail["id"])
        return None
