"""Organisation lookups come from memory, but a change to the organisation — by oaflow, by another
process, or by a tool writing the tables directly — is seen by the very next command."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from alembic import command
from sqlalchemy import insert, select, update

from engine.errors import NotFound
from engine.org import users
from engine.store import schema
from engine.store.tables import delegation, department, role, setting, user_account, user_role, utcnow, work_item
from engine.work import initiate

LEAVE = {"leave_type": "年假", "start_date": "2026-11-23", "end_date": "2026-11-24", "reason": "探亲"}


def _assignees(core, instance_id: int) -> list[str]:
    with core.db.read() as conn:
        rows = conn.execute(
            select(user_account.c.username)
            .join(work_item, work_item.c.assignee_id == user_account.c.id)
            .where(work_item.c.instance_id == instance_id, work_item.c.status == "open", work_item.c.kind == "approve")
        )
        return [row.username for row in rows]


def _user_id(core, username: str) -> int:
    with core.db.read() as conn:
        return conn.execute(select(user_account.c.id).where(user_account.c.username == username)).scalar()


def _token(core) -> str:
    with core.db.read() as conn:
        return conn.execute(select(setting.c.value).where(setting.c.key == "org_version")).scalar()


def test_a_new_department_leader_written_straight_to_the_table_gets_the_next_item(core):
    first = initiate.start(core, "zhangsan", "leave", LEAVE)
    assert _assignees(core, first["id"]) == ["sunli"]
    with core.db.engine.begin() as conn:  # e.g. a directory sync, not through oaflow
        conn.execute(update(department).where(department.c.name == "业务部").values(leader_id=_user_id(core, "lisi")))
    second = initiate.start(core, "zhangsan", "leave", LEAVE)
    assert _assignees(core, second["id"]) == ["lisi"]


def test_a_user_deactivated_in_the_table_can_no_longer_start(core):
    initiate.start(core, "zhangsan", "leave", LEAVE)
    with core.db.engine.begin() as conn:
        conn.execute(update(user_account).where(user_account.c.username == "zhangsan").values(active=False))
    with pytest.raises(NotFound, match="zhangsan"):
        initiate.start(core, "zhangsan", "leave", LEAVE)


def test_a_delegation_inserted_in_the_table_takes_the_next_item(core):
    initiate.start(core, "zhangsan", "leave", LEAVE)  # sunli's answers are now cached
    today = date.today()
    with core.db.engine.begin() as conn:
        conn.execute(
            insert(delegation).values(
                user_id=_user_id(core, "sunli"),
                delegate_id=_user_id(core, "lisi"),
                starts_on=today - timedelta(days=1),
                ends_on=today + timedelta(days=1),
                processes="",
                active=True,
                created_at=utcnow(),
            )
        )
    started = initiate.start(core, "zhangsan", "leave", LEAVE)
    assert _assignees(core, started["id"]) == ["lisi"]


def test_inside_one_transaction_its_own_changes_are_seen(core):
    with core.db.write() as conn:
        assert users.find_user(conn, "zhangsan").display_name == "张三"  # cached from here on
        users.create_user(conn, "wuming", "吴明", "a-long-password", "业务部")
        assert users.find_user(conn, "wuming").display_name == "吴明"
        users.set_department_leaders(conn, "业务部", leader_id=users.find_user(conn, "wuming").id)
        dept = users.find_user(conn, "zhangsan").department_id
        assert users.leader_chain(conn, dept)[0] == users.find_user(conn, "wuming").id


@pytest.mark.parametrize(
    "change",
    [
        lambda conn: conn.execute(update(user_account).where(user_account.c.username == "lisi").values(title="专员")),
        lambda conn: conn.execute(update(department).where(department.c.name == "业务部").values(supervisor_id=None)),
        lambda conn: conn.execute(insert(role).values(name="档案员")),
        lambda conn: conn.execute(user_role.delete().where(user_role.c.user_id == 1)),
        lambda conn: conn.execute(
            insert(delegation).values(
                user_id=1, delegate_id=2, starts_on=date.today(), ends_on=date.today(), created_at=utcnow()
            )
        ),
    ],
    ids=["user", "department", "role", "role member", "delegation"],
)
def test_every_organisation_table_moves_the_token_and_a_rollback_does_not(core, change):
    before = _token(core)
    assert before
    with pytest.raises(RuntimeError):
        with core.db.write() as conn:
            change(conn)
            raise RuntimeError("changed my mind")
    assert _token(core) == before
    with core.db.write() as conn:
        change(conn)
    assert _token(core) != before


def test_migration_0007_down_and_up_again(core):

    with core.db.engine.begin() as connection:
        command.downgrade(schema._config(connection), "0006")
    assert _token(core) is None
    with core.db.read() as conn:  # without the token every lookup goes to the database
        assert users.department_leader(conn, "业务部") is not None  # (accounts have later columns: 0016)
    schema.upgrade(core.db)
    before = _token(core)
    with core.db.engine.begin() as conn:
        conn.execute(update(user_account).where(user_account.c.username == "lisi").values(title="专员"))
    assert before and _token(core) != before
