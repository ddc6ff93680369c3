"""The boxes over HTTP: filters and sorting in the query (422 naming the parameter), 批量同意, the 催办 answer;
and times shown in the office's time zone (deployment times, the calendar's today) with the clock frozen
after 16:00 UTC, when Shanghai is already on the next day."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import time_machine
from support import CONTRACT, DATA, ApiClient, sign_in

from engine.process import definitions

# 17:00 UTC on 4 March 2026 is 01:00 on 5 March in the office.
LATE_UTC = datetime(2026, 3, 4, 17, 0, tzinfo=timezone.utc)


def todo(api, user: str, query: str = "", status: int = 200):
    box = "" if "&box=" in query else "&box=todo"
    response = api(user).get(f"/api/v1/work-items?per_page=20{box}{query}")
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_filters_and_sorting_in_the_query(ops, api):
    urgent = ops.start(priority="紧急")
    normal = ops.start(user="lisi")
    found = todo(api, "sunli", "&priority=紧急")
    assert [i["instance_id"] for i in found["items"]] == [urgent] and found["total"] == 1
    assert [i["instance_id"] for i in todo(api, "sunli", "&initiator=lisi&process=leave")["items"]] == [normal]
    assert [i["instance_id"] for i in todo(api, "sunli", "&sort=arrived")["items"]] == [urgent, normal]
    assert [i["instance_id"] for i in todo(api, "sunli", "&sort=priority&status=running")["items"]][0] == urgent
    item = todo(api, "sunli")["items"][0]
    assert item["came_back"] is None and item["urged"] is None and item["batch"] is True


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("&process=nope", ["process"]),
        ("&initiator=nobody", ["initiator"]),
        ("&arrived_from=yesterday", ["arrived_from"]),
        ("&arrived_from=2026-05-02&arrived_to=2026-05-01", ["arrived_to"]),
        ("&priority=very", ["priority"]),
        ("&overdue=2", ["overdue"]),
        ("&status=done", ["status"]),
        ("&sort=-title", ["sort"]),
        ("&sort=due&box=started", ["sort"]),
    ],
)
def test_bad_filters_are_422_naming_the_parameter(ops, api, query, fields):
    answer = todo(api, "sunli", query, status=422)
    assert [e["field"] for e in answer["errors"]] == fields and answer["error"]


def test_batch_complete(ops, api):
    first, second = ops.start(), ops.start(user="lisi")
    contract = ops.start("contract_countersign", **CONTRACT)
    ids = [ops.mine("sunli", i) for i in (first, second, contract)]
    response = api("sunli").post("/api/v1/work-items/batch-complete", json={"ids": ids, "opinion": "同意，注意交接"})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [(r["id"], r["ok"], r.get("error")) for r in results] == [
        (ids[0], True, None),
        (ids[1], True, None),
        (ids[2], False, "本节点不允许批量审批，请逐件办理"),
    ]
    approved = [e for e in ops.history(first) if e["type"] == "approved"]
    assert [(e["actor"], e["opinion"]) for e in approved] == [("sunli", "同意，注意交接")]
    # The same ids again: all refused, nothing changed.
    again = ops.refused("sunli", "/work-items/batch-complete", {"ids": ids[:2]}, 200)["results"]
    assert [r["error"] for r in again] == ["该待办已处理，无需重复提交"] * 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"ids": list(range(1, 102))}, "一次最多批量审批 100 项，您选了 101 项"),
        ({"ids": []}, "请选择要批量同意的待办"),
        ({"ids": "1,2"}, None),
        ({"ids": [1, "x"]}, None),
        ({}, None),
    ],
)
def test_batch_complete_refuses_bad_batches(ops, body, message):
    ops.field_error("sunli", "/work-items/batch-complete", body, "ids", message)


def test_batch_complete_needs_a_sign_in(client):
    response = client.post("/api/v1/work-items/batch-complete", json={"ids": [1]})
    assert response.status_code == 401


def test_urge_answers_when_it_may_be_sent_again(ops):
    instance_id = ops.start()
    answer = ops.do("zhangsan", f"/instances/{instance_id}/urge")
    assert answer["again_at"] == ops.detail(instance_id, "zhangsan")["urge_again_at"]
    assert answer["again_at"].endswith("+08:00")


# --- times in the office's time zone -------------------------------------------------------------------


def _deploy_late(core):
    with time_machine.travel(LATE_UTC, tick=False), core.db.write() as conn:
        definitions.deploy(conn, {n: (DATA / n).read_bytes() for n in ("simple.bpmn", "simple_form.json")}, None)


def test_deployment_times_are_office_time_everywhere(core, client, api):
    _deploy_late(core)
    versions = api("admin").get("/api/v1/processes/simple/versions").get_json()
    listed = versions["items"] if isinstance(versions, dict) else versions
    assert listed[0]["deployed_at"] == "2026-03-05T01:00:00+08:00"
    sign_in(client, core, "admin")
    for page in ("/admin/processes/simple", "/admin/processes/simple/versions/1"):
        html = client.get(page).get_data(as_text=True)
        assert "2026-03-05 01:00" in html, page
        assert "2026-03-04 17:00" not in html, page


def test_the_calendar_marks_the_office_day_as_today_after_16_utc(core, client, api):
    with time_machine.travel(LATE_UTC, tick=False):  # signed in at that time: sessions do not run backwards
        sign_in(client, core, "admin")
        html = client.get("/admin/calendar").get_data(as_text=True)
        year = api("admin").get("/api/v1/admin/calendar").get_json()["year"]
    today = re.findall(r'class="[^"]*\btoday\b[^"]*" title="(\d{4}-\d{2}-\d{2})', html)
    assert today == ["2026-03-05"]
    assert year == 2026
    with time_machine.travel(datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc), tick=False):
        answer = ApiClient(client, "admin").get("/api/v1/admin/calendar").get_json()  # a token of that day
        assert answer.get("year") == 2027, str(answer)[:300]
