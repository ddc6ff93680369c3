"""天数 of a 请假 is computed by the server from the dates on the working calendar (法定节假日 off, 调休 on,
half days by 上午/下午), never taken from the client: on 发起, on 重新提交 after 退回, and the route follows
the computed value. The issue: 天数 = 1 for a 16-day range skipped 分管领导 and 总经理; 天数 = 100000 passed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.store.tables import instance

VP, GM = "Task_vp", "Task_gm"


def walk(leave, instance_id: int) -> list[str]:
    """Approve every step as its holder; the nodes passed, in order."""
    passed = []
    while items := leave.open_items(instance_id):
        (item,) = items
        passed.append(item["node"])
        response = leave.complete(item["assignee"], item["id"])
        assert response.status_code == 200, response.get_json()
    return passed


def test_a_16_day_range_sent_as_one_day_is_counted_and_routed_by_the_server(api, leave, leave_data):
    # 2026-11-02 (Mon) to 2026-11-17 (Tue): 12 working days, whatever the client says.
    data = {**leave_data(start_date="2026-11-02", end_date="2026-11-17"), "days": 1}
    response = api("zhangsan").post("/api/v1/instances", json={"process": "leave", "data": data})
    assert response.status_code == 201, response.get_json()
    started = response.get_json()
    assert started["data"]["days"] == 12
    assert started["title"] == "张三的请假申请（年假 12 天）"
    assert walk(leave, started["id"]) == ["Task_dept_leader", VP, GM]


@pytest.mark.parametrize("sent", [1, 100000, -3, "两天", 10**30, None])
def test_whatever_the_client_sends_for_the_computed_field_is_replaced(api, leave_data, leave, sent):
    body = {"process": "leave", "data": {**leave_data(), "days": sent}}  # 2026-11-23..24
    response = api("zhangsan").post("/api/v1/instances", json=body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["data"]["days"] == 2


def test_holidays_are_not_counted_and_make_up_days_are(leave):
    # 国庆 2026: 10-01..10-07 off, Saturday 10-10 is a 调休 working day; 中秋 Friday 09-25 off.
    started = leave.start(start_date="2026-09-24", end_date="2026-10-12")
    # 09-24, 28, 29, 30, 10-08, 09, 10 (Saturday, 调休), 12
    assert leave.detail(started["id"])["data"]["days"] == 8


@pytest.mark.parametrize(
    ("start_half", "end_half", "days"),
    [("上午", "下午", 3), ("下午", "下午", 2.5), ("上午", "上午", 2.5), ("下午", "上午", 2)],
)
def test_half_days(leave, start_half, end_half, days):
    started = leave.start(start_date="2026-11-23", end_date="2026-11-25", start_half=start_half, end_half=end_half)
    assert leave.detail(started["id"])["data"]["days"] == days


def test_half_a_day_goes_to_the_department_leader_only(leave):
    started = leave.start(start_date="2026-11-23", end_date="2026-11-23", end_half="上午")
    assert leave.detail(started["id"])["data"]["days"] == 0.5
    assert started["title"] == "张三的请假申请（年假 0.5 天）"
    assert walk(leave, started["id"]) == ["Task_dept_leader"]


@pytest.mark.parametrize(
    ("dates", "field", "words"),
    [
        ({"start_date": "2026-11-24", "end_date": "2026-11-23"}, "end_date", "结束日期不能早于开始日期"),
        (
            {"start_date": "2026-11-23", "end_date": "2026-11-23", "start_half": "下午", "end_half": "上午"},
            "end_half",
            "同一天从下午开始就不能在上午结束",
        ),
        ({"start_date": "2026-11-28", "end_date": "2026-11-29"}, "days", "没有工作日"),  # a weekend
        ({"start_date": "2026-10-01", "end_date": "2026-10-07"}, "days", "天数为 0"),  # 国庆
        ({"start_date": "2026-01-05", "end_date": "2027-01-06"}, "end_date", "跨度 367 天，超过了 366 天"),
        ({"start_date": "2026-11-23", "end_date": "2999-01-01"}, "end_date", "超过了 366 天"),
        ({"start_date": "2026-11-23", "end_date": None}, "end_date", "请填写结束日期"),
        ({"start_date": "2026-13-01"}, "start_date", "开始日期不是有效的日期"),
        ({"start_half": "中午"}, "start_half", "开始时间必须是以下之一：上午、下午"),
    ],
)
def test_ranges_that_give_no_leave_are_refused_naming_the_field(api, core, leave_data, dates, field, words):
    data = {k: v for k, v in {**leave_data(), **dates}.items() if v is not None}
    response = api("zhangsan").post("/api/v1/instances", json={"process": "leave", "data": data})
    assert response.status_code == 422, response.get_json()
    errors = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    assert field in errors and words in errors[field], errors
    assert "days" not in errors or field == "days"  # no second, confusing error on 天数
    with core.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(instance)).scalar() == 0


def test_resubmission_recounts_the_days_and_reroutes(ops, leave, leave_data):
    instance_id = ops.start(days=2)
    item = leave.my_item("sunli", instance_id)
    ops.do("sunli", f"/work-items/{item['id']}/send-back", {"to_node": "initiator", "opinion": "请按实际日期填写"})
    resubmit = leave.my_item("zhangsan", instance_id)
    data = {**leave_data(start_date="2026-11-02", end_date="2026-11-17"), "days": 2}  # the old value, sent back
    response = leave.complete("zhangsan", resubmit["id"], opinion=None, data=data)
    assert response.status_code == 200, response.get_json()
    assert leave.detail(instance_id)["data"]["days"] == 12
    assert walk(leave, instance_id) == ["Task_dept_leader", VP, GM]


def test_a_bad_resubmission_keeps_the_stored_application(ops, leave, leave_data):
    instance_id = ops.start(days=2)
    item = leave.my_item("sunli", instance_id)
    ops.do("sunli", f"/work-items/{item['id']}/send-back", {"to_node": "initiator", "opinion": "日期不对"})
    resubmit = leave.my_item("zhangsan", instance_id)
    weekend = leave_data(start_date="2026-11-28", end_date="2026-11-29")
    ops.field_error(
        "zhangsan", f"/work-items/{resubmit['id']}/complete", {"decision": "approve", "data": weekend}, "days"
    )
    assert leave.detail(instance_id)["data"]["days"] == 2
    assert leave.detail(instance_id)["data"]["end_date"] == "2026-11-24"
