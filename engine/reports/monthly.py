"""Monthly statistics (§五 2.7): per person, department and process — items handled, average handling time
in working hours, items open at month end, overdue count and rate, 催办 received.

Counted over approval work items (not 知会 copies):
  handled      decided (同意/不同意, including automatic approval) within the month;
  open at end  created before the month's end (or the moment of counting, if earlier) and not closed by then;
  hours        office time from receipt to decision; open items count with their time so far;
  overdue      handled after its due time, or still open past its due time at month end;
  催办         `urged` events in the month, counted for the holder of the urged item (or, when the event
               names no item, every holder of an open item of the instance at that time).
A department is the assignee's department; a process is the instance's process.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Row

from engine.errors import FieldError, InvalidData
from engine.store.tables import (
    definition,
    department,
    event_log,
    instance,
    monthly_stat,
    user_account,
    utcnow,
    work_item,
)
from engine.time.office_hours import WorkCalendar, work_calendar

SCOPES = ("person", "department", "process")


SCOPE_LABELS = {"person": "按人员", "department": "按部门", "process": "按流程"}


SNAPSHOTS = {"day28": "28 日快照", "month_end": "月末快照"}


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text) -> tuple[int, int]:
    match = _MONTH.match(str(text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2100:
        raise InvalidData([FieldError("month", "月份格式应为 YYYY-MM，例如 2026-10")])
    return int(match.group(1)), int(match.group(2))


def month_bounds(cal: WorkCalendar, year: int, month: int) -> tuple[datetime, datetime]:
    """[first moment, first moment of the next month) in office time, as naive UTC."""
    start = cal.to_utc(datetime(year, month, 1))
    end = cal.to_utc(datetime(year + (month == 12), month % 12 + 1, 1))
    return start, end


def window(conn: Connection, year: int, mon: int, now: datetime | None = None):
    """(calendar, first moment, end, the moment counted up to) of a month that has begun."""
    cal = work_calendar(conn)
    start, end = month_bounds(cal, year, mon)
    now = now or utcnow()
    if start > now:
        raise InvalidData([FieldError("month", "不能统计尚未开始的月份")])
    return cal, start, end, min(end, now)


class _Row:
    __slots__ = ("handled", "open_at_end", "minutes", "counted", "overdue", "urged")

    def __init__(self):
        self.handled = self.open_at_end = self.counted = self.overdue = self.urged = 0
        self.minutes = 0.0

    def as_dict(self) -> dict:
        avg = round(self.minutes / 60 / self.counted, 2) if self.counted else None
        rate = round(self.overdue / self.counted, 4) if self.counted else None
        return {
            "handled": self.handled,
            "avg_hours": avg,
            "open_at_end": self.open_at_end,
            "overdue": self.overdue,
            "overdue_rate": rate,
            "urged": self.urged,
        }


def compute(conn: Connection, month: str, now: datetime | None = None) -> dict:
    """The month's statistics, counted now (for the current month: up to now)."""
    year, mon = parse_month(month)
    cal, start, end, as_of = window(conn, year, mon, now)

    people = people_of(conn)
    names = process_names(conn)
    buckets: dict[str, dict[str, _Row]] = {scope: defaultdict(_Row) for scope in SCOPES}
    for item in counted_items(conn, cal, start, as_of):
        for scope, key in keys_of(people, item.row.assignee_id, item.row.process_key):
            row = buckets[scope][key]
            row.handled += item.handled
            row.open_at_end += item.still_open
            row.counted += 1
            row.minutes += item.minutes
            row.overdue += item.late
    for user_id, process_key in _urged(conn, start, as_of):
        for scope, key in keys_of(people, user_id, process_key):
            buckets[scope][key].urged += 1

    result = {
        "month": f"{year:04d}-{mon:02d}",
        "as_of": cal.local(as_of).isoformat(timespec="seconds"),
        "complete": as_of >= end,
    }
    for scope in SCOPES:
        rows = []
        for key, row in buckets[scope].items():
            entry = {"key": key, **row.as_dict()}
            if scope == "person":
                person = next((p for p in people.values() if p.username == key), None)
                entry["name"] = person.display_name if person else key
                entry["department"] = person.name if person else None
            elif scope == "process":
                entry["name"] = names.get(key, key)
            else:
                entry["name"] = key
            rows.append(entry)
        rows.sort(key=lambda e: (-(e["handled"] + e["open_at_end"]), e["key"]))
        result[scope] = rows
    return result


class Counted(NamedTuple):
    """One approval item as the month counts it: `row` (ids, title, node, times, assignee, process), whether
    it was handled in the month, still open at its end, its office minutes and whether it was late."""

    row: Row
    handled: bool
    still_open: bool
    minutes: float
    late: bool


NO_DEPARTMENT = "（无部门）"


def people_of(conn: Connection) -> dict:
    """Every user by id: username, display name and department name."""
    return {
        row.id: row
        for row in conn.execute(
            select(
                user_account.c.id, user_account.c.username, user_account.c.display_name, department.c.name
            ).outerjoin(department, department.c.id == user_account.c.department_id)
        )
    }


def process_names(conn: Connection) -> dict[str, str]:
    """Each process's name (its newest version's)."""
    return {
        row.process_key: row.name
        for row in conn.execute(
            select(definition.c.process_key, definition.c.name).order_by(definition.c.process_key, definition.c.version)
        )
    }


def keys_of(people: dict, user_id: int, process_key: str) -> tuple[tuple[str, str], ...]:
    """The (scope, key) rows one item counts in: its assignee, the assignee's department, its process."""
    person = people.get(user_id)
    return (
        ("person", person.username if person else str(user_id)),
        ("department", (person.name if person else None) or NO_DEPARTMENT),
        ("process", process_key),
    )


def counted_items(conn: Connection, cal: WorkCalendar, start: datetime, as_of: datetime) -> Iterator[Counted]:
    """The approval items the month [start, as_of) counts, in the order they arrived (the rule the figures
    and the list behind each figure share)."""
    items = conn.execute(
        select(
            work_item.c.id,
            work_item.c.instance_id,
            work_item.c.node_name,
            work_item.c.assignee_id,
            work_item.c.status,
            work_item.c.created_at,
            work_item.c.completed_at,
            work_item.c.due_at,
            instance.c.process_key,
            instance.c.title,
        )
        .join(instance, instance.c.id == work_item.c.instance_id)
        .where(
            work_item.c.kind == "approve",
            work_item.c.created_at < as_of,
            or_(work_item.c.completed_at.is_(None), work_item.c.completed_at >= start),
        )
        .order_by(work_item.c.created_at, work_item.c.id)
    )
    for item in items:
        handled = item.status == "done" and item.completed_at is not None and start <= item.completed_at < as_of
        still_open = item.completed_at is None or item.completed_at >= as_of
        if not handled and not still_open:
            continue  # cancelled within the month: neither handled nor waiting
        until = item.completed_at if handled else as_of
        late = item.due_at is not None and (until > item.due_at)
        yield Counted(item, handled, still_open, cal.working_minutes_between(item.created_at, until), late)


def _urged(conn: Connection, start: datetime, end: datetime) -> list[tuple[int, str]]:
    """(recipient, process) of every 催办 in [start, end)."""
    events = conn.execute(
        select(event_log.c.instance_id, event_log.c.work_item_id, event_log.c.created_at, instance.c.process_key)
        .join(instance, instance.c.id == event_log.c.instance_id)
        .where(event_log.c.type == "urged", event_log.c.created_at >= start, event_log.c.created_at < end)
    ).all()
    found = []
    for event in events:
        if event.work_item_id is not None:
            holder = conn.execute(select(work_item.c.assignee_id).where(work_item.c.id == event.work_item_id)).scalar()
            if holder is not None:
                found.append((holder, event.process_key))
            continue
        holders = conn.execute(
            select(work_item.c.assignee_id)
            .where(
                work_item.c.instance_id == event.instance_id,
                work_item.c.kind == "approve",
                work_item.c.created_at <= event.created_at,
                or_(work_item.c.completed_at.is_(None), work_item.c.completed_at > event.created_at),
            )
            .distinct()
        )
        found += [(row.assignee_id, event.process_key) for row in holders]
    return found


def take_snapshot(core, snapshot: str, now: datetime | None = None) -> int:
    """Store the current month's statistics once per (month, snapshot); returns rows added."""
    if not isinstance(snapshot, str) or snapshot not in SNAPSHOTS:
        raise InvalidData([FieldError("snapshot", f"快照类型必须是 {'、'.join(SNAPSHOTS)}")])
    now = now or utcnow()
    with core.db.write() as conn:
        cal = work_calendar(conn)
        local = cal.local(now)
        month = f"{local.year:04d}-{local.month:02d}"
        report = compute(conn, month, now)
        dialect_insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
        added = 0
        for scope in SCOPES:
            for entry in report[scope]:
                result = conn.execute(
                    dialect_insert(monthly_stat)
                    .values(
                        month=month,
                        snapshot=snapshot,
                        scope=scope,
                        key=entry["key"][:200],
                        name=str(entry["name"])[:200],
                        department=entry.get("department"),
                        handled=entry["handled"],
                        avg_hours=entry["avg_hours"],
                        open_at_end=entry["open_at_end"],
                        overdue=entry["overdue"],
                        overdue_rate=entry["overdue_rate"],
                        urged=entry["urged"],
                        as_of=now,
                        taken_at=utcnow(),
                    )
                    .on_conflict_do_nothing()
                    .returning(monthly_stat.c.id)
                )
                added += result.first() is not None
        return added


def load_snapshot(conn: Connection, month: str, snapshot: str) -> dict | None:
    year, mon = parse_month(month)
    if not isinstance(snapshot, str) or snapshot not in SNAPSHOTS:
        raise InvalidData([FieldError("source", f"来源必须是 live、{'、'.join(SNAPSHOTS)}")])
    key = f"{year:04d}-{mon:02d}"
    rows = conn.execute(
        select(monthly_stat)
        .where(monthly_stat.c.month == key, monthly_stat.c.snapshot == snapshot)
        .order_by(monthly_stat.c.id)
    ).all()
    if not rows:
        return None
    cal = work_calendar(conn)
    result = {"month": key, "as_of": cal.local(rows[0].as_of).isoformat(timespec="seconds"), "snapshot": snapshot}
    for scope in SCOPES:
        result[scope] = [
            {
                "key": row.key,
                "name": row.name,
                **({"department": row.department} if scope == "person" else {}),
                "handled": row.handled,
                "avg_hours": row.avg_hours,
                "open_at_end": row.open_at_end,
                "overdue": row.overdue,
                "overdue_rate": row.overdue_rate,
                "urged": row.urged,
            }
            for row in rows
            if row.scope == scope
        ]
    return result


def snapshots_of(conn: Connection, month: str) -> list[str]:
    year, mon = parse_month(month)
    rows = conn.execute(
        select(monthly_stat.c.snapshot, func.count())
        .where(monthly_stat.c.month == f"{year:04d}-{mon:02d}")
        .group_by(monthly_stat.c.snapshot)
    )
    return sorted(row.snapshot for row in rows)


def default_month(conn: Connection, today: date | None = None) -> str:
    local = work_calendar(conn).local(utcnow()) if today is None else today
    return f"{local.year:04d}-{local.month:02d}"
