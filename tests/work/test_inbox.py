"""The boxes on the engine API: each filter and sort order, 批量同意, the marks of items that came back (退回,
撤回, 委派返回, 会签中的不同意) or were urged (催办), and when 催办 is possible again."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select, update
from support import CONTRACT

from engine.errors import InvalidData
from engine.org import users
from engine.store.tables import event_log, utcnow, work_item
from engine.time.working_days import local_iso, to_local
from engine.work import decisions
from engine.work.views import detail as details
from engine.work.views import worklist


def me(core, username: str) -> users.User:
    with core.db.read() as conn:
        return users.require_user(conn, username)


def listed(core, username: str, box: str = "todo", **args) -> list[int]:
    """The instance ids of the user's box, in the order listed."""
    result = worklist.work_items(core, me(core, username), box, per_page=100, args=args)
    return [item["instance_id"] for item in result["items"]]


def refused(core, username: str, box: str = "todo", **args) -> list[str]:
    with pytest.raises(InvalidData) as caught:
        worklist.work_items(core, me(core, username), box, args=args)
    return [e.field for e in caught.value.errors]


def set_item(core, item_id: int, **values) -> None:
    with core.db.write() as conn:
        conn.execute(update(work_item).where(work_item.c.id == item_id).values(**values))


@pytest.fixture
def three(ops):
    """sunli's 待办: zhangsan's urgent leave, lisi's normal leave, zhangsan's contract (in that order)."""
    urgent = ops.start(priority="紧急")
    normal = ops.start(user="lisi")
    contract = ops.start("contract_countersign", **CONTRACT)
    return urgent, normal, contract


# =================================================================================================
# Filters and sorting
# =================================================================================================


def test_each_filter_narrows_the_todo_box(ops, core, three):
    urgent, normal, contract = three
    assert listed(core, "sunli") == [contract, normal, urgent]  # newest first, as before
    assert listed(core, "sunli", process="leave") == [normal, urgent]
    assert listed(core, "sunli", process="contract_countersign") == [contract]
    assert listed(core, "sunli", initiator="lisi") == [normal]
    assert listed(core, "sunli", priority="紧急") == [urgent]
    assert listed(core, "sunli", status="running") == [contract, normal, urgent]
    assert listed(core, "sunli", status="approved") == []
    assert listed(core, "sunli", process="leave", initiator="zhangsan", priority="紧急") == [urgent]


def test_the_arrival_range_is_counted_in_office_days(ops, core, three):
    urgent, normal, _contract = three
    # 09:00 on 1 March in Shanghai, and 01:00 on 1 March in Shanghai (still 28 February in UTC).
    set_item(core, ops.mine("sunli", urgent), created_at=datetime(2026, 3, 1, 1, 0))
    set_item(core, ops.mine("sunli", normal), created_at=datetime(2026, 2, 28, 17, 0))
    assert listed(core, "sunli", arrived_from="2026-03-01", arrived_to="2026-03-01") == [urgent, normal]
    assert listed(core, "sunli", arrived_to="2026-02-28") == []
    assert listed(core, "sunli", arrived_from="2026-03-02", arrived_to="2026-03-31") == []


def test_overdue_and_due_soon(ops, core, three):
    urgent, normal, contract = three
    now = utcnow()
    set_item(core, ops.mine("sunli", urgent), due_at=now - timedelta(hours=1))
    set_item(core, ops.mine("sunli", normal), due_at=now + timedelta(hours=3))
    set_item(core, ops.mine("sunli", contract), due_at=now + timedelta(days=3))
    assert listed(core, "sunli", overdue="1") == [urgent]
    assert listed(core, "sunli", due_soon="1") == [normal]
    assert listed(core, "sunli", overdue="0", due_soon="0") == [contract, normal, urgent]
    # The applicant's view of the same applications: a step of theirs is overdue.
    assert listed(core, "zhangsan", "started", overdue="1") == [urgent]
    assert listed(core, "lisi", "started", due_soon="1") == [normal]


def test_sorting_by_arrival_due_time_and_priority(ops, core, three):
    urgent, normal, contract = three
    now = utcnow()
    set_item(core, ops.mine("sunli", urgent), due_at=now + timedelta(days=2))
    set_item(core, ops.mine("sunli", normal), due_at=now + timedelta(days=1))
    set_item(core, ops.mine("sunli", contract), due_at=now + timedelta(days=3))
    assert listed(core, "sunli", sort="arrived") == [urgent, normal, contract]
    assert listed(core, "sunli", sort="-arrived") == [contract, normal, urgent]
    assert listed(core, "sunli", sort="due") == [normal, urgent, contract]
    assert listed(core, "sunli", sort="-due") == [contract, urgent, normal]
    assert listed(core, "sunli", sort="priority")[0] == urgent
    assert listed(core, "sunli", sort="-priority")[-1] == urgent
    assert listed(core, "zhangsan", "started", sort="arrived") == [urgent, contract]


def test_the_other_boxes_filter_too(ops, core, three):
    urgent, normal, _contract = three
    ops.decide("sunli", normal)  # lisi's 2-day leave: approved, 知会人事部
    assert listed(core, "sunli", "done") == [normal]
    assert listed(core, "sunli", "done", process="contract_countersign") == []
    assert listed(core, "sunli", "done", status="approved") == [normal]
    assert listed(core, "zhangsan", "started", process="leave") == [urgent]
    assert listed(core, "zhangsan", "started", priority="正常", process="leave") == []
    assert listed(core, "liuyang", "cc", initiator="lisi") == [normal]  # 知会人事部
    assert listed(core, "liuyang", "cc", initiator="zhangsan") == []
    assert listed(core, "liuyang", "cc", status="approved", sort="-arrived") == [normal]


@pytest.mark.parametrize(
    ("box", "args", "fields"),
    [
        ("todo", {"process": "no_such_process"}, ["process"]),
        ("todo", {"initiator": "nobody"}, ["initiator"]),
        ("todo", {"arrived_from": "2026-3-1"}, ["arrived_from"]),
        ("todo", {"arrived_from": "2026-03-02", "arrived_to": "2026-03-01"}, ["arrived_to"]),
        ("todo", {"priority": "很急"}, ["priority"]),
        ("todo", {"overdue": "yes please"}, ["overdue"]),
        ("todo", {"overdue": "1", "due_soon": "1"}, ["due_soon"]),
        ("todo", {"status": "open"}, ["status"]),
        ("todo", {"sort": "title"}, ["sort"]),
        ("started", {"sort": "due"}, ["sort"]),
        ("done", {"due_soon": "1"}, ["due_soon"]),
        ("todo", {"priority": "x", "sort": "y"}, ["priority", "sort"]),
    ],
)
def test_bad_filters_name_the_parameter(core, box, args, fields):
    assert refused(core, "sunli", box, **args) == fields


def test_filtered_lists_read_indexes(ops, core, three):
    """No filter or sort makes a box scan the work items, the applications or the audit trail."""
    if not core.db.is_sqlite:
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    ops.do("zhangsan", f"/instances/{three[0]}/urge", {"message": "请尽快"})
    seen = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    engine = core.db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        for box in ("todo", "done", "started", "cc"):
            for args in (
                {},
                {"process": "leave"},
                {"initiator": "zhangsan"},
                {"arrived_from": "2026-01-01", "arrived_to": "2026-12-31"},
                {"priority": "紧急"},
                {"overdue": "1"},
                {"status": "running"},
                {"sort": "priority"},
                {"sort": "due"} if box in ("todo", "done") else {"sort": "arrived"},
                {"due_soon": "1"} if box != "done" else {},
            ):
                listed(core, "sunli" if box != "started" else "zhangsan", box, **args)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    with engine.connect() as conn:
        for statement, parameters in seen:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            # a scan of a table, or an application's steps found by due time across the whole office
            scans = [
                row[-1]
                for row in plan
                if re.match(r"SCAN (work_item|instance|event|step)\b", row[-1])
                or "step USING INDEX ix_work_item_due" in row[-1]
            ]
            assert not scans, (statement, plan)


# =================================================================================================
# 批量同意
# =================================================================================================


def test_batch_approval_reports_each_item(ops, core, three):
    urgent, normal, contract = three
    ops.deploy("batch_opinion.bpmn")
    needs_opinion = ops.start("batch_opinion")
    mine = [ops.mine("sunli", i) for i in (urgent, normal, contract, needs_opinion)]
    done = ops.mine("sunli", ops.start(user="lisi"))
    ops.complete("sunli", done)
    own_leave = ops.start(user="sunli")  # sunli takes part in it, but another holds its item
    someone_elses = ops.mine(ops.open_items(own_leave)[0][1], own_leave)
    ids = [*mine, done, someone_elses, 999_999]

    result = decisions.complete_batch(core, "sunli", ids, "")

    answers = {r["id"]: (r["ok"], r.get("error")) for r in result["results"]}
    assert [r["id"] for r in result["results"]] == ids
    assert answers == {
        mine[0]: (True, None),
        mine[1]: (True, None),
        mine[2]: (False, "本节点不允许批量审批，请逐件办理"),
        mine[3]: (False, "本节点要求填写审批意见"),
        done: (False, "该待办已处理，无需重复提交"),
        someone_elses: (False, "这不是您的待办，不能处理"),
        999_999: (False, "待办不存在"),
    }
    assert result["approved"] == 2
    assert "title" in result["results"][0] and "title" not in result["results"][5]
    # Each approval is its own command: its own audit event; the refused ones are untouched.
    assert ops.status(urgent) == "approved" and ops.status(normal) == "approved"
    assert [e["type"] for e in ops.history(urgent)].count("approved") == 1
    assert ops.open_items(contract) == [("Task_dept_review", "sunli")]
    assert ops.open_items(needs_opinion) == [("Task_review", "sunli")]

    again = decisions.complete_batch(core, "sunli", [mine[3]], "已核对")
    assert again["results"] == [{"id": mine[3], "ok": True, "title": again["results"][0]["title"]}]


def test_batch_approval_is_capped_and_checked(core):
    with pytest.raises(InvalidData) as caught:
        decisions.complete_batch(core, "sunli", list(range(1, 102)), "同意")
    assert [(e.field, e.message) for e in caught.value.errors] == [("ids", "一次最多批量审批 100 项，您选了 101 项")]
    for bad in ([], "1,2", [1, "2"], None):
        with pytest.raises(InvalidData) as caught:
            decisions.complete_batch(core, "sunli", bad, "同意")
        assert [e.field for e in caught.value.errors] == ["ids"]


def test_the_todo_list_says_which_items_may_be_batched(ops, core, three):
    urgent, _normal, contract = three
    items = worklist.work_items(core, me(core, "sunli"), "todo", args={})["items"]
    batch = {i["instance_id"]: i["batch"] for i in items}
    assert batch[urgent] is True and batch[contract] is False


# =================================================================================================
# Items that came back, and 催办
# =================================================================================================


def came_back(core, username: str, instance_id: int) -> dict | None:
    items = worklist.work_items(core, me(core, username), "todo", per_page=100, args={})["items"]
    (item,) = [i for i in items if i["instance_id"] == instance_id]
    page = details.get_work_item(core, me(core, username), item["id"])
    assert page["came_back"] == item["came_back"]  # the list and the task page say the same
    return item["came_back"]


def test_sent_back_to_the_drafter(ops, core):
    instance_id = ops.start()
    ops.do("sunli", f"/work-items/{ops.mine('sunli', instance_id)}/send-back", {"opinion": "请补充交接安排"})
    mark = came_back(core, "zhangsan", instance_id)
    assert (mark["kind"], mark["action"], mark["by"], mark["reason"]) == ("退回", "退回", "孙丽", "请补充交接安排")
    assert mark["node_name"] == "部门负责人审批" and mark["at"].endswith("+08:00")


def test_sent_back_to_an_earlier_node(ops, core):
    instance_id = ops.start(days=12)
    ops.decide("sunli", instance_id)
    ops.decide("huangwei", instance_id)
    item_id = ops.mine("zhengqiang", instance_id)
    ops.do("zhengqiang", f"/work-items/{item_id}/send-back", {"opinion": "请再核实天数", "to_node": "Task_vp"})
    mark = came_back(core, "huangwei", instance_id)
    assert (mark["kind"], mark["by"], mark["reason"], mark["node_name"]) == (
        "退回",
        "郑强",
        "请再核实天数",
        "总经理审批",
    )


def test_withdrawn_and_recalled(ops, core):
    withdrawn = ops.start()
    ops.do("zhangsan", f"/instances/{withdrawn}/withdraw")
    mark = came_back(core, "zhangsan", withdrawn)
    assert (mark["kind"], mark["action"], mark["by"]) == ("撤回", "撤回申请", "张三")

    recalled = ops.start(days=5)
    item_id = ops.mine("sunli", recalled)
    ops.decide("sunli", recalled)
    ops.do("sunli", f"/work-items/{item_id}/recall")
    mark = came_back(core, "sunli", recalled)
    assert (mark["kind"], mark["action"], mark["by"]) == ("撤回", "撤回审批", "孙丽")


def test_delegation_returned(ops, core):
    instance_id = ops.start()
    item_id = ops.mine("sunli", instance_id)
    ops.do("sunli", f"/work-items/{item_id}/delegate", {"to_user": "lisi", "opinion": "请核实考勤"})
    assert came_back(core, "lisi", instance_id) is None
    ops.do("lisi", f"/work-items/{ops.mine('lisi', instance_id)}/resolve", {"opinion": "考勤无误"})
    mark = came_back(core, "sunli", instance_id)
    assert (mark["kind"], mark["by"], mark["reason"]) == ("委派返回", "李四", "考勤无误")


def test_a_countersign_rejection_tells_the_drafter_who_and_why(ops, core):
    instance_id = ops.start("contract_countersign", **CONTRACT)
    ops.decide("sunli", instance_id, opinion="部门同意")
    ops.decide("chenjing", instance_id, "reject", "付款条件不符合财务制度")
    mark = came_back(core, "zhangsan", instance_id)
    assert (mark["kind"], mark["action"], mark["by"], mark["reason"], mark["node_name"]) == (
        "退回",
        "不同意",
        "陈静",
        "付款条件不符合财务制度",
        "部门会签",
    )


def test_a_plain_item_did_not_come_back(ops, core):
    assert came_back(core, "sunli", ops.start()) is None


def test_urged_items_are_marked_and_the_next_urge_time_is_told(ops, core):
    instance_id = ops.start()
    assert ops.detail(instance_id, "zhangsan")["urge_again_at"] is None
    answer = ops.do("zhangsan", f"/instances/{instance_id}/urge", {"message": "明天出发"})
    with core.db.read() as conn:
        urged_at = conn.execute(select(event_log.c.created_at).where(event_log.c.type == "urged")).scalar()
    again = urged_at + timedelta(hours=1)
    assert answer["again_at"][:16] == local_iso(again)[:16]
    detail = ops.detail(instance_id, "zhangsan")
    assert "urge" not in detail["actions"]
    assert detail["urge_again_at"] == local_iso(again)
    items = worklist.work_items(core, me(core, "sunli"), "todo", args={})["items"]
    assert items[0]["urged"] == {"times": 1, "last_at": local_iso(urged_at)}
    assert details.get_work_item(core, me(core, "sunli"), items[0]["id"])["urged"]["times"] == 1
    assert (
        to_local(again).strftime("%H:%M")
        in ops.refused("zhangsan", f"/instances/{instance_id}/urge", None, 409)["error"]
    )
    # Someone who may not urge at all is not told a time.
    assert ops.detail(instance_id, "admin")["urge_again_at"] is None
