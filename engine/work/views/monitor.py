"""流程监控's reads: every application found by title, 发起人, process, version, status, current node,
current handler, dates and 文号; one application with its diagram, history, open items and the nodes an
administrator may jump to. Who may: engine.org.oversight."""

from __future__ import annotations

from sqlalchemy import select

from engine.errors import FieldError, InvalidData, NotFound
from engine.org import directory, oversight, permissions, users
from engine.store.tables import definition, instance, work_item
from engine.work import frame
from engine.work.kernel.case import STATUS_LABELS, USER_TASK_TYPES
from engine.work.kernel.items import ACTIVE
from engine.work.views import application, search

EXTRA = (("initiator", "发起人"), ("handler", "当前办理人"), ("node", "当前节点"), ("version", "版本"))


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _extra(conn, more: dict) -> list:
    where = []
    for field, column in (("initiator", instance.c.initiator_id), ("handler", None)):
        name = more[field]
        if not name:
            continue
        person = users.find_user(conn, name)
        if person is None:
            raise InvalidData([FieldError(field, f"没有用户“{name}”")])
        if column is not None:
            where.append(column == person.id)
        else:
            held = select(work_item.c.instance_id).where(
                work_item.c.assignee_id == person.id,
                work_item.c.kind == "approve",
                work_item.c.status.in_(ACTIVE),
            )
            where.append(instance.c.id.in_(held))
    if more["node"]:
        where.append(instance.c.current_nodes.like("%" + _escaped(more["node"]) + "%", escape="\\"))
    if more["version"]:
        if not more["version"].isdigit():
            raise InvalidData([FieldError("version", "版本必须是整数")])
        of_version = select(definition.c.id).where(definition.c.version == int(more["version"]))
        where.append(instance.c.definition_id.in_(of_version))
    return where


def _list(conn, user: users.User, found: search.Query, more: dict) -> dict:
    extra = _extra(conn, more)
    mine = permissions.monitored_processes(conn, user)  # None: every process (系统管理员)
    if mine is not None:
        extra.append(instance.c.process_key.in_(sorted(mine)))
    result = search.run(conn, user, found, everything=True, extra=extra)
    return {**result, "query": found, "filters": more}


def instances(core, username: str, args) -> dict:
    """One page of every application the filters find, newest first (the API's read)."""
    found, more = search.read_query(args, EXTRA)
    with core.db.read() as conn:
        user = oversight.require_monitor(conn, username)
        return _list(conn, user, found, more)


def monitor_page(core, username: str, args) -> dict:
    """The 流程监控 page: the list, the choices of its filters and the page frame's figures, in one read."""
    found, more = search.read_query(args, EXTRA)
    with core.db.read() as conn:
        user = oversight.require_monitor(conn, username)
        return {
            **_list(conn, user, found, more),
            "processes": search.process_choices(conn),
            "statuses": STATUS_LABELS,
            "layout": frame.figures(conn, user),
        }


def instance_page(core, username: str, instance_id: int) -> dict:
    """One application as 流程监控 shows it: the instance page's read (diagram, history, items), the
    approval nodes it may jump to, and its open items (to 转办)."""
    with core.db.read() as conn:
        user = oversight.require_monitor(conn, username)
        process_key = conn.execute(select(instance.c.process_key).where(instance.c.id == instance_id)).scalar()
        if process_key is None:
            raise NotFound("申请不存在，或您无权查看")
        oversight.require_process(conn, user, process_key)  # before the read, which would say 404 to a stranger
        people = directory.picker_groups(conn)
    data = application.instance_page(core, user, instance_id)
    data["people"] = people
    detail = data["detail"]
    with core.db.read() as conn:
        model = core.specs.get(conn, detail["definition_id"]).model
    data["jump_targets"] = [
        {"id": node.id, "name": node.name} for node in model.nodes.values() if node.type in USER_TASK_TYPES
    ]
    data["open_items"] = [w for w in detail["work_items"] if w["kind"] == "approve" and w["status"] in ACTIVE]
    return data
