"""The search reads an index, not the instances one by one: the query plan of a title search names
ix_instance_title on SQLite and on PostgreSQL (over a few thousand rows with statistics, where a scan
would be the planner's choice if the index could not answer)."""

from __future__ import annotations

from sqlalchemy import func, insert, select, text

from engine.org import users
from engine.store.tables import definition, instance, utcnow
from engine.work.views import search

ROWS = 5000


def _fill(core) -> None:
    now = utcnow()
    with core.db.write() as conn:
        definition_id, key = conn.execute(select(definition.c.id, definition.c.process_key).limit(1)).first()
        initiator = users.find_user(conn, "zhangsan").id
        rows = [
            {
                "definition_id": definition_id,
                "process_key": key,
                "title": f"{['张三', '李四', '王芳', '孙丽'][i % 4]}的申请 {i:05d}",
                "initiator_id": initiator,
                "status": "running",
                "priority": "正常",
                "current_nodes": "",
                "data": "{}",
                "state": "{}",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(ROWS)
        ]
        conn.execute(insert(instance), rows)
        conn.execute(text("ANALYZE"))


def _plan(core, statement) -> str:
    with core.db.read() as conn:
        compiled = statement.compile(dialect=conn.dialect)
        explain = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
        params = (
            compiled.params
            if conn.dialect.name != "sqlite"
            else tuple(compiled.params[k] for k in compiled.positiontup)
        )
        rows = conn.exec_driver_sql(explain + str(compiled), params).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_a_title_search_uses_the_title_index(core):
    _fill(core)
    with core.db.read() as conn:
        admin = users.find_user(conn, "admin")
        query = search.Query(q="李四的申请 0123")
        statement = search.statement(conn, admin, query, everything=True)
        found = [row.id for row in conn.execute(statement)]
        assert conn.execute(select(func.count()).select_from(instance)).scalar() >= ROWS
    assert len(found) == 2  # 李四的申请 01233 and 01237 (every fourth is 李四's)
    plan = _plan(core, statement)
    assert "ix_instance_title" in plan, plan
    assert "SCAN instance\n" not in plan + "\n" and "Seq Scan on instance" not in plan, plan


def test_my_search_uses_the_title_index_too(core):
    _fill(core)
    with core.db.read() as conn:
        zhangsan = users.find_user(conn, "zhangsan")
        statement = search.statement(conn, zhangsan, search.Query(q="王芳的申请 0000"), everything=False)
        assert len(conn.execute(statement).all()) == 2  # 王芳的申请 00002 and 00006
    plan = _plan(core, statement)
    assert "ix_instance_title" in plan, plan
