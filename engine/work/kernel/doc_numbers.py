"""发文字号 at the completion of a node with doc_no="allocate": the number is allocated in the command that
completes the node — never earlier, so a draft never has one — and only once per instance: a 退回 keeps it,
and a second pass through the node gives the same number back to the data instead of a new one."""

from __future__ import annotations

import orjson
from sqlalchemy import update

from engine.numbering import register
from engine.numbering.doc_no import check_prefix
from engine.process.model import node_id
from engine.process.policy import policy_of
from engine.store.tables import instance, utcnow
from engine.time.office_hours import work_calendar
from engine.work.kernel.case import Case


def number_on_completion(case: Case, task) -> None:
    """When `task` is about to complete a node that allocates: the instance's 文号 into its data (`doc_no`)."""
    node = case.model.nodes.get(node_id(task.task_spec))
    if node is None or not policy_of(node).allocates_doc_no:
        return
    text = register.held_by(case.conn, case.instance_id)
    if text is None:
        prefix = check_prefix(task.data.get("doc_prefix") or case.data.get("doc_prefix"))
        year = work_calendar(case.conn).local(utcnow()).year  # the office-time-zone year, now
        actor = case.last_decision[0] if case.last_decision else None
        text = register.allocate(case.conn, prefix, year, case.instance_id, actor).text
    case.data["doc_no"] = text
    task.data["doc_no"] = text


def store_doc_no(case: Case, text: str | None) -> None:
    """An administrator gave the locked instance a reserved number, or voided the one it held: only its data
    changes (its workflow does not move, and a finished instance is not finished again)."""
    if text is None:
        case.data.pop("doc_no", None)
    else:
        case.data["doc_no"] = text
    data = orjson.dumps(case.data).decode()
    case.conn.execute(update(instance).where(instance.c.id == case.instance_id).values(data=data))
