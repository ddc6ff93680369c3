"""The 发文字号 contract over REST: doc_no on the instance, 公文查询, the register's administration (422
naming the field, 403 for anyone but an administrator), and deploy-time checks of doc_no="allocate"."""

from __future__ import annotations

import pytest
from support import DATA

from engine.process import definitions
from engine.store.tables import utcnow
from engine.time.office_hours import work_calendar

FILES = ("docno_form.json", "docno_flow.bpmn")


@pytest.fixture
def year(core, ops) -> int:
    ops.deploy(*FILES)
    with core.db.read() as conn:
        return work_calendar(conn).local(utcnow()).year


def _start(ops, title="关于试行发文字号的通知") -> int:
    return ops.start("docno_flow", title=title, doc_prefix="示例办发")


def test_the_instance_carries_its_doc_no_once_numbered_and_search_finds_it(ops, api, year):
    instance_id = _start(ops)
    assert ops.detail(instance_id)["doc_no"] is None
    ops.decide("sunli", instance_id)
    assert ops.detail(instance_id)["doc_no"] is None
    ops.decide("wangfang", instance_id)
    text = f"示例办发〔{year}〕1号"
    assert ops.detail(instance_id)["doc_no"] == text
    assert ops.detail(instance_id, "zhangsan")["data"]["doc_no"] == text
    started = api("zhangsan").get("/api/v1/work-items?box=started").get_json()["items"]
    assert [(i["instance_id"], i["doc_no"]) for i in started] == [(instance_id, text)]
    todo = api("lisi").get("/api/v1/work-items?box=todo").get_json()["items"]
    assert [i["doc_no"] for i in todo] == [text]

    found = api("lisi").get("/api/v1/documents", query_string={"doc_no": text}).get_json()
    assert [(i["id"], i["doc_no"], i["title"], i["process"]) for i in found["items"]] == [
        (instance_id, text, "关于试行发文字号的通知", "docno_flow")
    ]
    assert api("chenjing").get("/api/v1/documents", query_string={"doc_no": text}).get_json()["items"] == []
    assert api("chenjing").get(f"/api/v1/instances/{instance_id}").status_code == 404
    bad = api("admin").get("/api/v1/documents?year=twenty")
    assert bad.status_code == 422 and [e["field"] for e in bad.get_json()["errors"]] == ["year"]


def test_administrators_keep_the_register_and_bad_input_names_the_field(ops, api, year):
    first = _start(ops)
    ops.decide("sunli", first)
    ops.decide("wangfang", first)
    base = f"/api/v1/admin/doc-numbers/示例办发/{year}"
    admin = api("admin")

    ops.field_error("admin", f"/admin/doc-numbers/示例办发/{year}/void", {"number": 1}, "reason")
    ops.field_error("admin", f"/admin/doc-numbers/示例办发/{year}/void", {"number": 0, "reason": "x"}, "number")
    refused = admin.client.put(base, headers=admin.headers, json={"next": 1})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["next"]
    refused = admin.client.put(f"/api/v1/admin/doc-numbers/示例[办]发/{year}", headers=admin.headers, json={"next": 5})
    assert [e["field"] for e in refused.get_json()["errors"]] == ["prefix"]
    refused = admin.client.put("/api/v1/admin/doc-numbers/示例办发/26x", headers=admin.headers, json={"next": 5})
    assert [e["field"] for e in refused.get_json()["errors"]] == ["year"]

    ok = admin.client.put(base, headers=admin.headers, json={"next": 30, "reason": "接续纸质登记簿"})
    assert ok.status_code == 200 and ok.get_json()["next"] == 30
    assert admin.post(f"{base}/reserve", json={"number": 30, "reason": "留给年报"}).status_code == 201
    assert admin.post(f"{base}/void", json={"number": 1, "reason": "文件撤销", "reuse": True}).status_code == 200
    (counter,) = admin.get("/api/v1/admin/doc-numbers").get_json()["items"]
    assert (counter["next"], counter["allocated"], counter["voided"], counter["reserved"]) == (30, 0, 1, 1)

    second = _start(ops, "第二份")
    ops.decide("sunli", second)
    ops.decide("wangfang", second)
    assert ops.detail(second)["doc_no"] == f"示例办发〔{year}〕1号"  # the reusable voided number first
    third = _start(ops, "第三份")
    ops.decide("sunli", third)
    ops.decide("wangfang", third)
    assert ops.detail(third)["doc_no"] == f"示例办发〔{year}〕31号"  # 30 is reserved
    assigned = admin.post(f"{base}/assign", json={"number": 30, "instance_id": first})
    assert assigned.status_code == 200 and ops.detail(first)["doc_no"] == f"示例办发〔{year}〕30号"


@pytest.mark.parametrize("user", ["zhangsan", "sunli"])
def test_anyone_else_is_refused_and_nothing_changes(ops, api, year, user):
    base = f"/admin/doc-numbers/示例办发/{year}"
    assert api(user).get("/api/v1/admin/doc-numbers").status_code == 403
    ops.refused(user, f"{base}/void", {"number": 1, "reason": "x"}, 403)
    ops.refused(user, f"{base}/reserve", {"count": 1}, 403)
    ops.refused(user, f"{base}/assign", {"number": 1, "instance_id": 1}, 403)
    response = api(user).client.put(f"/api/v1{base}", headers=api(user).headers, json={"next": 9})
    assert response.status_code == 403


def _flow_with(prop: str, form: bool = True) -> dict[str, bytes]:
    bpmn = (DATA / "docno_flow.bpmn").read_text(encoding="utf-8").replace('value="allocate"', f'value="{prop}"')
    if not form:
        bpmn = bpmn.replace('<spiffworkflow:property name="form" value="docno_form" />', "")
    return {"docno_flow.bpmn": bpmn.encode(), "docno_form.json": (DATA / "docno_form.json").read_bytes()}


def test_deploy_refuses_a_doc_no_other_than_allocate_naming_the_element():
    problems = [p for p in definitions.validate_files(_flow_with("yes")) if p.severity == "error"]
    assert [(p.element, "doc_no 'yes' 无效" in p.message) for p in problems] == [("Task_number", True)]


def test_deploy_refuses_allocation_without_a_doc_prefix_source():
    problems = [p for p in definitions.validate_files(_flow_with("allocate", form=False)) if p.severity == "error"]
    assert [p.element for p in problems] == ["Task_number"]
    assert "doc_prefix" in problems[0].message
    assert [p for p in definitions.validate_files(_flow_with("allocate")) if p.severity == "error"] == []
