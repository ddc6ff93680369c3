"""The boxes' filters and sort orders (筛选、排序): read from a URL's query, checked, turned into conditions.

Every filter narrows the rows the box's own index finds (`ix_work_item_inbox`, `ix_work_item_inbox_due`,
`ix_instance_initiator`) or joins by primary key, so a filtered page costs what an unfiltered one does. The
same words serve the REST API (`GET /api/v1/work-items?…`) and the browser (the filter form is a GET form, so
a filtered page can be bookmarked). A bad value is an InvalidData naming the query parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.engine import Connection

from engine.errors import FieldError, InvalidData
from engine.org import users
from engine.store.tables import definition, instance, user_account, work_item
from engine.time.working_days import OFFICE_TZ, PRIORITIES
from engine.work.kernel.case import STATUS_LABELS

# 即将超时 in the lists: due within a day (the same window the pages mark with 「即将超时」).
DUE_SOON = timedelta(days=1)
SORTS = {
    "arrived": "到达时间（早的在前）",
    "-arrived": "到达时间（新的在前）",
    "due": "期限（近的在前）",
    "-due": "期限（远的在前）",
    "priority": "紧急程度（紧急在前）",
    "-priority": "紧急程度（正常在前）",
}
# Boxes where a sort or a filter does not apply, and why (the 422's message).
_DUE_BOXES = ("todo", "done")
LABELS = {
    "process": "流程",
    "initiator": "发起人",
    "arrived_from": "开始日期",
    "arrived_to": "结束日期",
    "priority": "紧急程度",
    "overdue": "已超时",
    "due_soon": "即将超时",
    "status": "状态",
    "sort": "排序",
}
_FLAGS = {"1": True, "true": True, "0": False, "false": False, "": False}
MAX_TEXT = 200


@dataclass(frozen=True)
class Filters:
    """What one box is narrowed to and ordered by; empty values filter nothing."""

    process: str = ""
    initiator: str = ""
    arrived_from: date | None = None
    arrived_to: date | None = None
    priority: str = ""
    overdue: bool = False
    due_soon: bool = False
    status: str = ""
    sort: str = ""

    def as_query(self) -> dict[str, str]:
        """The filters as URL query parameters (only those set), e.g. for the pager's links."""
        query = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value in ("", None, False):
                continue
            query[item.name] = "1" if value is True else str(value)
        return query

    @property
    def active(self) -> bool:
        """Whether anything but the order is chosen."""
        return bool(set(replace(self, sort="").as_query()))


def read_filters(args, box: str) -> Filters:
    """The filters in a URL's query (a mapping of strings); InvalidData names every bad parameter."""
    errors: list[FieldError] = []

    def text(name: str) -> str:
        value = args.get(name) or ""
        if not isinstance(value, str) or len(value) > MAX_TEXT or "\x00" in value:
            errors.append(FieldError(name, f"{LABELS[name]}无效"))
            return ""
        return value.strip()

    def day(name: str) -> date | None:
        value = text(name)
        if not value:
            return None
        try:
            if len(value) != 10:
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            errors.append(FieldError(name, f"{LABELS[name]}“{value}”不是有效的日期，例如 2026-05-01"))
            return None

    def flag(name: str) -> bool:
        value = text(name).lower()
        if value not in _FLAGS:
            errors.append(FieldError(name, f"{LABELS[name]}只能是 1 或 0"))
            return False
        return _FLAGS[value]

    found = Filters(
        process=text("process"),
        initiator=text("initiator"),
        arrived_from=day("arrived_from"),
        arrived_to=day("arrived_to"),
        priority=text("priority"),
        overdue=flag("overdue"),
        due_soon=flag("due_soon"),
        status=text("status"),
        sort=text("sort"),
    )
    if found.priority and found.priority not in PRIORITIES:
        errors.append(FieldError("priority", f"紧急程度必须是：{'、'.join(PRIORITIES)}"))
    if found.status and found.status not in STATUS_LABELS:
        errors.append(FieldError("status", f"状态必须是：{'、'.join(STATUS_LABELS)}"))
    if found.sort and found.sort not in SORTS:
        errors.append(FieldError("sort", f"排序必须是：{'、'.join(SORTS)}"))
    elif found.sort.lstrip("-") == "due" and box not in _DUE_BOXES:
        errors.append(FieldError("sort", "只有待办和已办可以按期限排序"))
    if found.arrived_from and found.arrived_to and found.arrived_from > found.arrived_to:
        errors.append(FieldError("arrived_to", "结束日期不能早于开始日期"))
    if found.due_soon and box == "done":
        errors.append(FieldError("due_soon", "已办中没有即将超时的待办"))
    if found.overdue and found.due_soon:
        errors.append(FieldError("due_soon", "已超时与即将超时只能选一个"))
    if errors:
        raise InvalidData(errors)
    return found


def _office_midnight(day: date) -> datetime:
    """The stored (naive UTC) time at which `day` begins in the office."""
    return datetime.combine(day, time(), OFFICE_TZ).astimezone(timezone.utc).replace(tzinfo=None)


def conditions(conn: Connection, user: users.User, box: str, found: Filters, now: datetime) -> list:
    """The WHERE conditions the filters add to a box's query (which joins `instance` on the work item's
    instance, or reads `instance` alone for 我发起的)."""
    where = []
    if found.process:
        known = conn.execute(select(definition.c.id).where(definition.c.process_key == found.process).limit(1))
        if known.first() is None:
            raise InvalidData([FieldError("process", f"没有流程“{found.process}”")])
        where.append(instance.c.process_key == found.process)
    if found.initiator:
        person = conn.execute(select(user_account.c.id).where(user_account.c.username == found.initiator)).first()
        if person is None:
            raise InvalidData([FieldError("initiator", f"没有用户“{found.initiator}”")])
        where.append(instance.c.initiator_id == person.id)
    arrived = instance.c.created_at if box == "started" else work_item.c.created_at
    if found.arrived_from:
        where.append(arrived >= _office_midnight(found.arrived_from))
    if found.arrived_to:
        where.append(arrived < _office_midnight(found.arrived_to + timedelta(days=1)))
    if found.priority:
        where.append(instance.c.priority == found.priority)
    if found.status:
        where.append(instance.c.status == found.status)
    if found.overdue:
        where.append(_overdue(box, now))
    if found.due_soon:
        where.append(_due_soon(box, now))
    return where


def _overdue(box: str, now: datetime):
    """已超时: my open item past its due time (待办), my item done after it (已办), or, for an application
    (我发起的, 抄送我的), a step still open past its due time."""
    if box == "todo":
        return work_item.c.due_at < now
    if box == "done":
        return work_item.c.completed_at > work_item.c.due_at
    return _open_step(lambda step: _due_of(step) < now)


def _due_soon(box: str, now: datetime):
    """即将超时: due within DUE_SOON and not yet past it (my item, or an application's open step)."""

    if box == "todo":
        return and_(work_item.c.due_at >= now, work_item.c.due_at < now + DUE_SOON)
    return _open_step(lambda step: and_(_due_of(step) >= now, _due_of(step) < now + DUE_SOON))


def _due_of(step):
    """The step's due time, kept out of index choice: probed per listed application, the step is found by
    the instance's index; a bare due_at would let SQLite range-scan every open item of the office by due time
    (ix_work_item_due) once per row."""
    return func.coalesce(step.c.due_at, step.c.due_at)


def _open_step(condition):
    """An open approval step of the listed application meets `condition(step)` (by ix_work_item_instance_kind)."""
    step = work_item.alias("step")
    return exists(
        select(step.c.id).where(
            step.c.instance_id == instance.c.id,
            step.c.kind == "approve",
            step.c.status == "open",
            condition(step),
        )
    )


_PRIORITY_RANK = case({name: rank for rank, name in enumerate(PRIORITIES)}, value=instance.c.priority, else_=9)


def order(box: str, found: Filters) -> list:
    """ORDER BY for the box: the chosen sort, then the box's own order (newest first) to break ties."""
    if box == "started":
        default = [instance.c.created_at.desc(), instance.c.id.desc()]
        arrived = instance.c.created_at
    else:
        first = work_item.c.completed_at if box == "done" else work_item.c.created_at
        default = [first.desc(), work_item.c.id.desc()]
        arrived = work_item.c.created_at
    sort = found.sort
    if not sort:
        return default
    key = {"arrived": arrived, "due": work_item.c.due_at, "priority": _PRIORITY_RANK}[sort.lstrip("-")]
    ordered = key.desc() if sort.startswith("-") else key.asc()
    if sort.lstrip("-") == "due":  # items without a due time last, either way
        ordered = ordered.nulls_last()
    return [ordered, *default]


def process_choices(conn: Connection) -> list[dict]:
    """The processes a 流程 filter may name: key and the newest version's name."""
    names: dict[str, str] = {}
    for row in conn.execute(
        select(definition.c.process_key, definition.c.name).order_by(definition.c.process_key, definition.c.version)
    ):
        names[row.process_key] = row.name
    return [{"key": key, "name": name} for key, name in names.items()]
