"""The items behind one figure of 月度统计: a department's or a process's (or a person's) approval items the
month counted, narrowed to what the figure counts — 办理件数 (handled), 月末未办结 (open at end), 超时件数
(late) or all it averaged the handling time over. Counted by monthly.counted_items, the rule the figures use,
so the list always has as many items as the figure says."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from engine.errors import FieldError, InvalidData
from engine.reports import monthly

MEASURES = {
    "handled": "办理件数",
    "open_at_end": "月末未办结",
    "overdue": "超时件数",
    "counted": "计入平均办理时长",
}

_KEEP = {
    "handled": lambda item: item.handled,
    "open_at_end": lambda item: item.still_open,
    "overdue": lambda item: item.late,
    "counted": lambda item: True,
}


def items_behind(conn: Connection, month: str, scope: str, key: str, measure: str, now: datetime | None = None) -> dict:
    """{month, scope, key, name, measure, items: [{work_item_id, instance_id, title, node_name, assignee,
    process, created_at, completed_at, due_at, handled, open_at_end, overdue, hours}]}; times in office time."""
    if not isinstance(scope, str) or scope not in monthly.SCOPES:
        raise InvalidData([FieldError("scope", "统计范围必须是 person、department 或 process")])
    if not isinstance(measure, str) or measure not in MEASURES:
        raise InvalidData([FieldError("measure", f"统计项必须是 {'、'.join(MEASURES)} 之一")])
    if not isinstance(key, str) or not key.strip():
        raise InvalidData([FieldError("key", "请指定部门、流程或人员")])
    year, mon = monthly.parse_month(month)
    cal, start, _, as_of = monthly.window(conn, year, mon, now)
    people = monthly.people_of(conn)
    names = monthly.process_names(conn)
    items = []
    for item in monthly.counted_items(conn, cal, start, as_of):
        row = item.row
        if (scope, key) not in monthly.keys_of(people, row.assignee_id, row.process_key) or not _KEEP[measure](item):
            continue
        person = people.get(row.assignee_id)
        items.append(
            {
                "work_item_id": row.id,
                "instance_id": row.instance_id,
                "title": row.title,
                "node_name": row.node_name,
                "assignee": person.display_name if person else str(row.assignee_id),
                "process": names.get(row.process_key, row.process_key),
                "created_at": _local(cal, row.created_at),
                "completed_at": _local(cal, row.completed_at) if item.handled else None,
                "due_at": _local(cal, row.due_at),
                "handled": item.handled,
                "open_at_end": item.still_open,
                "overdue": item.late,
                "hours": round(item.minutes / 60, 2),
            }
        )
    return {
        "month": f"{year:04d}-{mon:02d}",
        "scope": scope,
        "key": key,
        "name": _name(scope, key, people, names),
        "measure": measure,
        "measure_label": MEASURES[measure],
        "items": items,
    }


def _local(cal, value: datetime | None) -> str | None:
    return cal.local(value).isoformat(timespec="seconds") if value else None


def _name(scope: str, key: str, people: dict, names: dict[str, str]) -> str:
    if scope == "process":
        return names.get(key, key)
    if scope == "person":
        return next((p.display_name for p in people.values() if p.username == key), key)
    return key
