"""导入部门 through the engine command: rows in any order, unknown parents and cycles named by row and
column, nothing stored while a row is bad (unless only the good rows are confirmed), existing departments
updated by name, audited, and the next approval follows the imported leader."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidData
from engine.store.tables import department, event_log, user_account, work_item
from engine.work import initiate, organisation

HEADER = "部门名称,上级部门,负责人,分管领导\n"
LEAVE = {"leave_type": "年假", "start_date": "2026-11-23", "end_date": "2026-11-24", "reason": "探亲"}


def _import(core, text: str, *, dry_run=False, only_valid=False, name="departments.csv", encoding="utf-8"):
    content = (HEADER + text).encode(encoding)
    return organisation.import_departments(core, "admin", name, content, dry_run=dry_run, only_valid=only_valid)


def _tree(core) -> dict[str, dict]:
    return {d["name"]: d for d in organisation.list_departments(core, "admin")}


def _errors(report) -> dict[int, list]:
    return {r["row"]: r["errors"] for r in report["rows"]}


def _imports(core) -> list[str]:
    with core.db.read() as conn:
        return list(conn.execute(select(event_log.c.message).where(event_log.c.type == "org_import")).scalars())


def test_a_parent_defined_further_down_the_file_is_created_first(core):
    rows = "运维组,信息中心,lisi,\n信息中心,示例单位,zhangsan,huangwei\n"
    preview = _import(core, rows, dry_run=True)
    assert [(r["row"], r["ok"], r["action"]) for r in preview["rows"]] == [(2, True, "create"), (3, True, "create")]
    assert "运维组" not in _tree(core) and _imports(core) == []  # the preview stored nothing
    done = _import(core, rows)
    assert sorted(done["created"]) == ["信息中心", "运维组"] and done["updated"] == []
    tree = _tree(core)
    assert tree["运维组"]["parent"] == "信息中心" and tree["运维组"]["depth"] == 2
    assert (tree["信息中心"]["leader"], tree["信息中心"]["supervisor"]) == ("zhangsan", "huangwei")
    assert _imports(core) == ["系统管理员导入部门：新建 2 个，修改 0 个（跳过 0 行）"]


def test_bad_rows_are_named_by_row_and_column_and_nothing_is_stored(core):
    with core.db.read() as conn:
        before = conn.execute(select(func.count()).select_from(department)).scalar()
    rows = "法规组,不存在部,,\n,示例单位,,\n培训组,人事部,nobody,\n人事部,示例单位,,\n人事部,,,\n"
    report = _import(core, rows, dry_run=True)
    assert (report["total"], report["valid"], report["invalid"]) == (5, 1, 4)
    errors = _errors(report)
    assert errors[2] == [{"column": "上级部门", "message": "上级部门“不存在部”不存在，文件中也没有"}]
    assert errors[3] == [{"column": "部门名称", "message": "请填写部门名称"}]
    assert errors[4] == [{"column": "负责人", "message": "负责人“nobody”不存在或已停用"}]
    assert errors[5] == [] and report["rows"][3]["action"] == "unchanged"
    assert errors[6] == [{"column": "部门名称", "message": "部门“人事部”与第 5 行重复"}]
    with pytest.raises(InvalidData) as refused:
        _import(core, rows)
    messages = [e.message for e in refused.value.errors]
    assert messages[0] == "第 2 行“上级部门”：上级部门“不存在部”不存在，文件中也没有"
    assert "第 4 行“负责人”：负责人“nobody”不存在或已停用" in messages
    with core.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(department)).scalar() == before
    assert _imports(core) == []


def test_a_cycle_is_an_error_of_each_row_in_it(core):
    # two new departments under each other, and 示例单位 moved below its own 业务部
    rows = "甲组,乙组,,\n乙组,甲组,,\n示例单位,业务部,,\n丙组,甲组,,\n"
    errors = _errors(_import(core, rows, dry_run=True))
    assert errors[2] == [{"column": "上级部门", "message": "上级部门形成循环：甲组 → 乙组 → 甲组"}]
    assert errors[3] == [{"column": "上级部门", "message": "上级部门形成循环：乙组 → 甲组 → 乙组"}]
    assert errors[4] == [{"column": "上级部门", "message": "上级部门形成循环：示例单位 → 业务部 → 示例单位"}]
    assert errors[5] == [{"column": "上级部门", "message": "上级部门“甲组”所在的第 2 行有误"}]
    with pytest.raises(InvalidData):
        _import(core, rows)
    assert "甲组" not in _tree(core) and _tree(core)["示例单位"]["parent"] is None


def test_existing_departments_are_updated_by_name_and_the_next_item_follows(core):
    first = initiate.start(core, "zhangsan", "leave", LEAVE)
    assert _assignees(core, first["id"]) == ["sunli"]  # the leader is now in the organisation cache
    rows = "业务部,,lisi,\n人事部,办公室,,\n"
    preview = _import(core, rows, dry_run=True, encoding="gb18030")
    assert [(r["action"], r["changes"]) for r in preview["rows"]] == [
        ("update", ["负责人：sunli → lisi"]),
        ("update", ["上级部门：示例单位 → 办公室"]),
    ]
    done = _import(core, rows, encoding="gb18030")
    assert done["created"] == [] and sorted(done["updated"]) == ["业务部", "人事部"]
    tree = _tree(core)
    assert tree["业务部"]["supervisor"] == "huangwei"  # an empty cell keeps the value
    assert tree["业务部"]["parent"] == "示例单位" and tree["人事部"]["parent"] == "办公室"
    second = initiate.start(core, "zhangsan", "leave", LEAVE)
    assert _assignees(core, second["id"]) == ["lisi"]


def test_only_the_good_rows_when_confirmed(core):
    rows = "采购部,示例单位,,\n采购一组,采购部,ghost,\n采购二组,采购一组,,\n"
    report = _import(core, rows, only_valid=True)
    assert report["created"] == ["采购部"] and report["invalid"] == 2
    assert _errors(report)[4] == [{"column": "上级部门", "message": "上级部门“采购一组”所在的第 3 行有误"}]
    assert "采购一组" not in _tree(core)
    assert _imports(core) == ["系统管理员导入部门：新建 1 个，修改 0 个（跳过 2 行）"]


def _assignees(core, instance_id: int) -> list[str]:
    with core.db.read() as conn:
        rows = conn.execute(
            select(user_account.c.username)
            .join(work_item, work_item.c.assignee_id == user_account.c.id)
            .where(work_item.c.instance_id == instance_id, work_item.c.status == "open", work_item.c.kind == "approve")
        )
        return [row.username for row in rows]
