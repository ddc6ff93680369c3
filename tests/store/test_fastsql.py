"""engine.fastsql runs hot-path statements on the driver's cursor: it must store and return exactly
what SQLAlchemy would, on both backends, and raise SQLAlchemy's errors."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import bindparam, exc, func, insert, select, update

from engine.store.fastsql import Prepared
from engine.store.tables import calendar_day, delegation, notification, user_account, utcnow, work_item
from engine.work import initiate

_ITEM = select(work_item).where(work_item.c.id == bindparam("b_id"))
_ITEMS_OF = (
    select(work_item.c.id, work_item.c.status, work_item.c.due_at)
    .where(work_item.c.instance_id == bindparam("b_instance"), work_item.c.kind == "approve")
    .order_by(work_item.c.id)
)


def _item_values(**overrides):
    now = utcnow()
    values = {
        "instance_id": None,
        "task_id": "t-1",
        "node_id": "Task_a",
        "node_name": "部门审批",
        "kind": "approve",
        "assignee_id": 1,
        "status": "open",
        "created_at": now,
        "due_at": now + timedelta(days=1, microseconds=7),
    }
    values.update(overrides)
    return values


@pytest.fixture
def instance_id(core):

    return initiate.start(core, "zhangsan", "leave", {**_LEAVE})["id"]


_LEAVE = {"leave_type": "年假", "start_date": "2026-11-23", "end_date": "2026-11-24", "reason": "探亲"}


def test_insert_fills_defaults_and_returns_the_new_id_as_sqlalchemy_does(core, instance_id):
    fast, plain = Prepared(insert(work_item)), insert(work_item)
    with core.db.write() as conn:
        a = conn.execute(fast, _item_values(instance_id=instance_id)).inserted_primary_key[0]
        b = conn.execute(plain, _item_values(instance_id=instance_id)).inserted_primary_key[0]
        assert b == a + 1
        rows = [conn.execute(_ITEM, {"b_id": i}).first() for i in (a, b)]
    fast_row, plain_row = (dict(r._mapping) for r in rows)
    for row in (fast_row, plain_row):
        row.pop("id")
        row.pop("created_at")
        row.pop("due_at")
    assert fast_row == plain_row
    assert fast_row["seq"] == 0 and fast_row["origin"] == "rule" and fast_row["paused_minutes"] == 0


def test_rows_read_back_with_sqlalchemys_types(core, instance_id):
    values = _item_values(instance_id=instance_id)
    fast_select = Prepared(_ITEM)
    with core.db.write() as conn:
        item_id = conn.execute(Prepared(insert(work_item)), values).inserted_primary_key[0]
        fast = conn.execute(fast_select, {"b_id": item_id}).first()
        plain = conn.execute(_ITEM, {"b_id": item_id}).first()
    assert tuple(fast) == tuple(plain)
    assert fast.due_at == values["due_at"] and isinstance(fast.due_at, datetime)
    assert fast._mapping == dict(plain._mapping)
    assert fast[0] == fast.id == item_id


def test_callable_default_is_computed_per_execution(core):
    with core.db.write() as conn:
        new_id = conn.execute(
            Prepared(insert(notification)),
            {"user_id": 1, "instance_id": None, "kind": "todo", "title": "t", "created_at": utcnow()},
        ).inserted_primary_key[0]
        row = conn.execute(select(notification).where(notification.c.id == new_id)).first()
    assert row.body == "" and row.delivery_status == "pending" and row.attempts == 0
    assert abs(row.next_attempt_at - utcnow()) < timedelta(minutes=1)


def test_update_sets_only_the_given_columns_and_counts_rows(core, instance_id):
    set_item = Prepared(update(work_item).where(work_item.c.id == bindparam("b_id")))
    with core.db.write() as conn:
        item_id = conn.execute(insert(work_item), _item_values(instance_id=instance_id)).inserted_primary_key[0]
        result = conn.execute(set_item, {"b_id": item_id, "status": "done", "decision": "approve"})
        assert result.rowcount == 1
        assert conn.execute(set_item, {"b_id": -1, "status": "done"}).rowcount == 0
        row = conn.execute(_ITEM, {"b_id": item_id}).first()
    assert (row.status, row.decision, row.node_name) == ("done", "approve", "部门审批")


def test_constants_booleans_dates_and_scalars(core, instance_id):
    today = date(2026, 12, 1)
    with core.db.write() as conn:
        conn.execute(
            insert(delegation),
            {"user_id": 2, "delegate_id": 3, "starts_on": today, "ends_on": today, "created_at": utcnow()},
        )
        active = Prepared(
            select(delegation.c.delegate_id, delegation.c.active, delegation.c.starts_on).where(
                delegation.c.user_id == bindparam("b_user"),
                delegation.c.active.is_(True),
                delegation.c.starts_on <= bindparam("b_today"),
            )
        )
        row = conn.execute(active, {"b_user": 2, "b_today": today}).one()
        assert row.delegate_id == 3 and row.active is True and row.starts_on == today
        assert conn.execute(active, {"b_user": 2, "b_today": today - timedelta(days=1)}).first() is None
        count = Prepared(select(func.count()).select_from(calendar_day).where(calendar_day.c.day == bindparam("d")))
        assert conn.execute(count, {"d": date(2026, 10, 1)}).scalar() == 1
        items = conn.execute(Prepared(_ITEMS_OF), {"b_instance": instance_id}).all()
        assert items == conn.execute(_ITEMS_OF, {"b_instance": instance_id}).all()
        assert len(items) == 1


def test_a_missing_parameter_is_refused_before_anything_runs(core):
    with core.db.read() as conn:
        with pytest.raises(exc.InvalidRequestError, match="b_id"):
            conn.execute(Prepared(_ITEM), {})


def test_driver_errors_come_back_as_sqlalchemy_errors_and_roll_back(core):
    duplicate = {"username": "zhangsan", "display_name": "重复", "password_hash": "x", "created_at": utcnow()}
    with pytest.raises(exc.IntegrityError):
        with core.db.write() as conn:
            conn.execute(Prepared(update(user_account).where(user_account.c.username == "lisi")), {"title": "改"})
            conn.execute(Prepared(insert(user_account)), duplicate)
    with core.db.read() as conn:
        title = conn.execute(select(user_account.c.title).where(user_account.c.username == "lisi")).scalar()
    assert title != "改"


def test_outside_a_transaction_it_begins_one_that_commit_ends(core):
    statement = Prepared(update(user_account).where(user_account.c.username == bindparam("b_name")))
    with core.db.engine.connect() as conn:
        conn.execute(statement, {"b_name": "lisi", "title": "专员"})
        assert conn.in_transaction()
        conn.commit()
    with core.db.read() as conn:
        assert conn.execute(select(user_account.c.title).where(user_account.c.username == "lisi")).scalar() == "专员"


def test_lists_of_parameters_and_in_lists_go_to_sqlalchemy(core):
    by_ids = Prepared(select(user_account.c.username).where(user_account.c.id.in_(bindparam("ids", expanding=True))))
    with core.db.write() as conn:
        names = {row.username for row in conn.execute(by_ids, {"ids": [1, 2]})}
        assert len(names) == 2
        rows = [{"user_id": 1, "kind": "todo", "title": f"批量{n}", "created_at": utcnow()} for n in range(3)]
        conn.execute(Prepared(insert(notification)), rows)
        titles = conn.execute(select(notification.c.title).where(notification.c.title.like("批量%"))).scalars().all()
    assert sorted(titles) == ["批量0", "批量1", "批量2"]
