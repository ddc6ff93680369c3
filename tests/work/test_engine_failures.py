"""What SpiffWorkflow cannot run reaches the user as a located Chinese message, never a 500 or the library's
English: at the start (422, nothing stored), on a decision or a message (422, the instance 异常 for the
administrators to retry), or on the sender's side (a message whose payload cannot be correlated: 422 naming
the payload, the instance untouched). One minimal file per cause in tests/data/rt_*.bpmn."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from support import DATA

from engine.store.tables import instance, work_item
from engine.work import recovery

# A word of the library's English (identifiers such as element ids or variable names are short or quoted).
ENGLISH = re.compile(r"\b(Expected|exists|could not|object|not defined|Error|Dict key|must be)\b")


def deploy(api, name: str) -> None:
    with open(DATA / name, "rb") as handle:
        response = api("admin").post(
            "/api/v1/deployments", data={"files": (handle, name)}, content_type="multipart/form-data"
        )
    assert response.status_code == 201, response.get_json()


def start(api, process: str) -> int:
    response = api("zhangsan").post("/api/v1/instances", json={"process": process, "data": {}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def open_items(core, instance_id: int) -> list[int]:
    with core.db.read() as conn:
        query = select(work_item.c.id).where(work_item.c.instance_id == instance_id, work_item.c.status == "open")
        return sorted(conn.execute(query).scalars())


def status(core, instance_id: int) -> str:
    with core.db.read() as conn:
        return conn.execute(select(instance.c.status).where(instance.c.id == instance_id)).scalar()


def approve(api, item_id: int):
    return api("lisi").post(f"/api/v1/work-items/{item_id}/complete", json={"decision": "approve", "opinion": "同意"})


def assert_located_chinese(body: dict, element: str, words: str) -> None:
    assert body["element"] == element, body
    assert f"（{element}）" in body["error"] or f"“{element}”" in body["error"], body
    assert words in body["error"], body
    assert not ENGLISH.search(body["error"]), body


@pytest.mark.parametrize(
    "name, process, element, words",
    [
        ("rt_mi_output_item.bpmn", "rt_mi_output", "sign", "没有给出输出项"),
        ("rt_data_object.bpmn", "rt_data_object", "record", "数据对象“outcome”"),
    ],
)
def test_a_decision_the_engine_cannot_complete_puts_the_instance_in_error_with_a_chinese_reason(
    api, core, name, process, element, words
):
    deploy(api, name)
    instance_id = start(api, process)
    (item_id,) = open_items(core, instance_id)[:1]
    response = approve(api, item_id)
    assert response.status_code == 422, response.get_json()
    assert_located_chinese(response.get_json(), element, words)
    assert "异常" in response.get_json()["error"]
    assert status(core, instance_id) == "error"
    assert instance_id in [row["id"] for row in recovery.list_errors(core, "admin")]
    # The failed decision was rolled back whole: the administrator's retry puts the instance back where it
    # stood, its work item open again.
    retried = api("admin").post(f"/api/v1/admin/errors/{instance_id}/retry")
    assert retried.status_code == 200, retried.get_json()
    assert status(core, instance_id) == "running" and item_id in open_items(core, instance_id)


def test_a_sequential_review_over_a_collection_of_objects_reaches_every_item(api, core):
    deploy(api, "rt_mi_dict_items.bpmn")
    instance_id = start(api, "rt_mi_dicts")
    for _ in range(2):  # one per item: the second used to fail with "input item already exists"
        (item_id,) = open_items(core, instance_id)
        assert approve(api, item_id).status_code == 200
    assert status(core, instance_id) == "approved"


def test_a_collection_keyed_by_numbers_is_refused_at_the_start_naming_the_script(api, core, row_counts):
    deploy(api, "rt_mi_dict_keys.bpmn")
    before = row_counts()
    response = api("zhangsan").post("/api/v1/instances", json={"process": "rt_mi_keys", "data": {}})
    assert response.status_code == 422, response.get_json()  # was a 500: "Dict key must be str"
    assert_located_chinese(response.get_json(), "list", "字典的键必须是文本")
    assert row_counts() == before


def test_a_message_whose_correlation_cannot_be_read_is_refused_naming_the_payload(api, core):
    deploy(api, "rt_correlation.bpmn")
    instance_id = start(api, "rt_correlation")
    url = f"/api/v1/instances/{instance_id}/messages"
    response = api("admin").post(url, json={"name": "付款到账", "payload": {}})
    assert response.status_code == 422, response.get_json()  # was a 500
    body = response.get_json()
    assert body["errors"][0]["field"] == "payload" and "变量 order 未定义" in body["error"], body
    assert not ENGLISH.search(body["error"]), body
    assert status(core, instance_id) == "running"  # the sender's mistake: the instance is untouched
    response = api("admin").post(url, json={"name": "付款到账", "payload": {"order": {"no": "A-1"}}})
    assert response.status_code == 200, response.get_json()
    assert len(open_items(core, instance_id)) == 1  # 核对
