"""REST API input handling: form validation names every bad field and stores nothing; priorities,
unknown processes, malformed bodies and approval input."""

from __future__ import annotations

import json

import pytest


def start(api, data, user="zhangsan", **body):
    return api(user).post("/api/v1/instances", json={"process": "leave", "data": data, **body})


def without(data: dict, *names: str) -> dict:
    return {k: v for k, v in data.items() if k not in names}


def fields(response) -> list[str]:
    body = response.get_json()
    assert response.status_code == 422, body
    for error in body["errors"]:
        assert set(error) == {"field", "message"}
        assert error["message"].strip(), error
    return [e["field"] for e in body["errors"]]


# One bad value each → exactly that field is named, with a message a clerk can act on.
INVALID = {
    "missing reason": (lambda d: without(d, "reason"), "reason", "请填写事由"),
    "blank reason": (lambda d: {**d, "reason": "   "}, "reason", "请填写事由"),
    "missing start date": (lambda d: without(d, "start_date"), "start_date", "请填写开始日期"),
    "no working day": (
        lambda d: {**d, "start_date": "2026-11-28", "end_date": "2026-11-29"},
        "days",
        "天数为 0：2026-11-28 至 2026-11-29 没有工作日",
    ),
    "longer than a year": (lambda d: {**d, "end_date": "2027-12-01"}, "end_date", "超过了 366 天"),
    "bad half day": (lambda d: {**d, "start_half": "中午"}, "start_half", "开始时间必须是以下之一：上午、下午"),
    "bad start date": (lambda d: {**d, "start_date": "2026-02-30"}, "start_date", "开始日期不是有效的日期"),
    "bad end date": (lambda d: {**d, "end_date": "下周一"}, "end_date", "结束日期不是有效的日期"),
    "end before start": (
        lambda d: {**d, "start_date": "2026-11-24", "end_date": "2026-11-23"},
        "end_date",
        "结束日期不能早于开始日期",
    ),
    "leave type": (lambda d: {**d, "leave_type": "旅游假"}, "leave_type", "请假类型必须是以下之一"),
    "unknown handover": (lambda d: {**d, "handover": "nobody"}, "handover", "用户 'nobody' 不存在"),
    "handover not text": (lambda d: {**d, "handover": ["lisi"]}, "handover", "工作交接人的格式不正确"),
    "unknown field": (lambda d: {**d, "salary": 100000}, "salary", "表单中没有这个字段"),
    "workflow variable": (lambda d: {**d, "initiator": "zhengqiang"}, "initiator", "表单中没有这个字段"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_leave_data_names_the_field_and_stores_nothing(api, leave_data, row_counts, case):
    change, field, message = INVALID[case]
    before = row_counts()

    response = start(api, change(leave_data()))

    assert fields(response) == [field]
    assert message in response.get_json()["errors"][0]["message"]
    assert message in response.get_json()["error"]
    assert row_counts() == before


def test_every_bad_field_is_named_at_once(api, row_counts):
    before = row_counts()
    data = {
        "leave_type": "旅游假",
        "start_date": "2026-11-24",
        "end_date": "2026-11-20",
        "end_half": "傍晚",
        "days": 1.3,  # computed by the server: never an error of its own
        "handover": "nobody",
        "extra": "x",
    }
    response = start(api, data)
    assert sorted(fields(response)) == sorted(["leave_type", "end_date", "end_half", "reason", "handover", "extra"])
    assert row_counts() == before


@pytest.mark.parametrize("raw", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_non_finite_numbers_are_a_field_error_not_a_crash(api, leave_data, row_counts, raw):
    # Python's JSON reader accepts these literals, JSON does not: the API's one JSON reader refuses them
    # wherever they stand, naming the field (even the computed 天数, whose finite values are merely ignored).
    data = json.dumps(leave_data()).replace('"2026-11-23"', raw, 1)
    body = f'{{"process": "leave", "data": {data}}}'
    before = row_counts()
    response = api("zhangsan").post("/api/v1/instances", data=body, content_type="application/json")
    assert fields(response) == ["start_date"]
    forged = json.dumps(leave_data())[:-1] + f', "days": {raw}}}'
    response = api("zhangsan").post(
        "/api/v1/instances", data=f'{{"process": "leave", "data": {forged}}}', content_type="application/json"
    )
    assert fields(response) == ["days"]
    assert row_counts() == before


def test_valid_data_is_cleaned_before_it_is_stored(api, leave_data):
    sent = leave_data(
        reason="  回老家探亲  ", end_date=" 2026-11-25 ", end_half="上午", handover=" lisi ", leave_type="病假"
    )
    response = start(api, sent)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["data"] == {
        "leave_type": "病假",
        "start_date": "2026-11-23",
        "end_date": "2026-11-25",
        "end_half": "上午",
        "days": 2.5,
        "reason": "回老家探亲",
        "handover": "lisi",
    }
    assert body["title"] == "张三的请假申请（病假 2.5 天）"


def test_empty_optional_field_is_dropped(api, leave_data):
    response = start(api, leave_data(handover=""))
    assert response.status_code == 201, response.get_json()
    assert "handover" not in response.get_json()["data"]


@pytest.mark.parametrize("priority", ["紧急", "重要", "正常"])
def test_priority_is_kept(api, leave_data, priority):
    response = start(api, leave_data(), priority=priority)
    assert response.status_code == 201
    assert response.get_json()["priority"] == priority
    assert priority in response.get_json()["history"][0]["message"]


def test_default_priority_is_normal(api, leave_data):
    assert start(api, leave_data()).get_json()["priority"] == "正常"


@pytest.mark.parametrize("priority", ["urgent", "特急", 1])
def test_invalid_priority(api, leave_data, row_counts, priority):
    before = row_counts()
    response = start(api, leave_data(), priority=priority)
    assert fields(response) == ["priority"]
    assert row_counts() == before


def test_unknown_process_is_404(api, leave_data, row_counts):
    before = row_counts()
    response = api("zhangsan").post("/api/v1/instances", json={"process": "no_such_process", "data": leave_data()})
    assert response.status_code == 404
    assert "no_such_process" in response.get_json()["error"]
    assert row_counts() == before
    assert api("zhangsan").get("/api/v1/processes/no_such_process").status_code == 404


@pytest.mark.parametrize("process", [None, "", 42])
def test_missing_process_name(api, leave_data, process):
    response = api("zhangsan").post("/api/v1/instances", json={"process": process, "data": leave_data()})
    assert fields(response) == ["process"]


def test_data_must_be_an_object(api, row_counts):
    before = row_counts()
    assert fields(start(api, ["年假", 2])) == ["data"]
    assert row_counts() == before


@pytest.mark.parametrize(
    "kwargs",
    [{"data": "not json", "content_type": "application/json"}, {"data": "x=1"}, {"json": ["a list"]}],
    ids=["broken-json", "form-encoded", "json-array"],
)
def test_body_must_be_a_json_object(api, row_counts, kwargs):
    before = row_counts()
    assert fields(api("zhangsan").post("/api/v1/instances", **kwargs)) == ["body"]
    assert row_counts() == before


def test_unknown_route_is_json_404(api):
    response = api("zhangsan").get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json() == {"error": "接口不存在"}


# --- processes ------------------------------------------------------------------------------------

LEAVE_FIELDS = ["leave_type", "start_date", "start_half", "end_date", "end_half", "days", "reason", "handover"]


def test_process_list_and_start_form(api):
    listed = api("zhangsan").get("/api/v1/processes").get_json()
    assert sorted((p["key"], p["name"], p["version"]) for p in listed["items"]) == [
        ("account_request", "OA系统账号申请", 1),
        ("contract_countersign", "合同会签", 1),
        ("expense_claim", "费用报销", 1),
        ("incoming_document", "收文", 1),
        ("leave", "请假申请", 1),
        ("outgoing_document", "发文", 1),
        ("request_report", "请示报告", 1),
    ]
    detail = api("zhangsan").get("/api/v1/processes/leave").get_json()
    assert detail["startable"] is True
    assert set(detail["start_form"]["properties"]) == set(LEAVE_FIELDS)
    assert detail["start_form"]["required"] == ["leave_type", "start_date", "end_date", "reason"]
    assert detail["start_form"]["properties"]["days"]["readOnly"] is True  # computed by the server
    assert [n["name"] for n in detail["nodes"]] == ["部门负责人审批", "分管领导审批", "总经理审批"]


def test_instance_form_keeps_field_order(leave):
    # Property order in the form file is the order fields are shown in.
    detail = leave.detail(leave.start()["id"], "zhangsan")
    assert list(detail["form"]["properties"]) == LEAVE_FIELDS
    assert list(detail["data"]) == ["leave_type", "start_date", "end_date", "days", "reason"]


# --- approving ------------------------------------------------------------------------------------


def open_item(leave, row_counts):
    instance_id = leave.start()["id"]
    item = leave.my_item("sunli", instance_id)
    return instance_id, item, row_counts()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "maybe", "opinion": "再说"}, "decision"),
        ({"decision": "reject", "opinion": "x" * 2001}, "opinion"),
        ({"decision": "approve", "data": {"days": 1}}, "days"),
        ({"decision": "approve", "data": {"approved": False}}, "approved"),
    ],
    ids=["bad-decision", "long-opinion", "rewrite-days", "inject-variable"],
)
def test_invalid_completion_changes_nothing(api, leave, row_counts, body, field):
    instance_id, item, before = open_item(leave, row_counts)
    response = api("sunli").post(f"/api/v1/work-items/{item['id']}/complete", json=body)
    assert fields(response) == [field]
    assert row_counts() == before
    detail = leave.detail(instance_id)
    assert detail["status"] == "running"
    assert [(w["assignee"], w["status"]) for w in detail["work_items"]] == [("sunli", "open")]
    assert detail["data"]["days"] == 2


def test_completion_body_must_be_json(api, leave, row_counts):
    _instance_id, item, before = open_item(leave, row_counts)
    response = api("sunli").post(f"/api/v1/work-items/{item['id']}/complete", data="approve")
    assert fields(response) == ["body"]
    assert row_counts() == before


def test_unknown_work_item_is_404(api):
    assert api("sunli").post("/api/v1/work-items/99999/complete", json={"decision": "approve"}).status_code == 404
    assert api("sunli").get("/api/v1/work-items/99999").status_code == 404


def test_work_item_detail_offers_actions_only_to_its_holder(api, leave):
    instance_id = leave.start()["id"]
    item = leave.my_item("sunli", instance_id)
    mine = api("sunli").get(f"/api/v1/work-items/{item['id']}").get_json()
    everything = ["approve", "reject", "send_back", "transfer", "delegate", "add_signers", "cc"]
    assert (mine["mine"], mine["actions"], mine["node_name"]) == (True, everything, "部门负责人审批")
    assert mine["data"]["reason"] == "回老家探亲"
    theirs = api("zhangsan").get(f"/api/v1/work-items/{item['id']}").get_json()
    assert (theirs["mine"], theirs["actions"]) == (False, [])
    leave.decide("sunli", instance_id)
    assert api("sunli").get(f"/api/v1/work-items/{item['id']}").get_json()["actions"] == []
