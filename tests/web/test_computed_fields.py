"""Computed fields on the web: the start form shows 天数 read-only and never posts it, the page and the API
preview what it comes to, and a form post with a forged 天数 is counted by the server all the same."""

from __future__ import annotations

import re

from support import sign_in


def test_the_start_page_shows_the_computed_field_read_only_and_unnamed(client, core):
    sign_in(client, core, "zhangsan")
    html = client.get("/start/leave").get_data(as_text=True)
    field = re.search(r'<input type="text" id="f-days"[^>]*>', html).group(0)
    assert "readonly" in field and "name=" not in field  # never posted: the server computes it
    assert 'data-preview-url="/start/leave/preview"' in html
    assert 'name="start_half"' in html and 'name="end_half"' in html
    assert "<script>" not in html  # the preview lives in oaflow.js (a CSP is coming)


def test_a_posted_form_with_a_forged_days_is_counted_by_the_server(client, core, leave):
    token = sign_in(client, core, "zhangsan")
    form = {
        "csrf_token": token,
        "leave_type": "年假",
        "start_date": "2026-11-02",
        "end_date": "2026-11-17",
        "start_half": "上午",
        "end_half": "下午",
        "days": "1",
        "reason": "探亲",
    }
    response = client.post("/start/leave", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    instance_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert leave.detail(instance_id)["data"]["days"] == 12


def test_the_page_preview_answers_json(client, core):
    token = sign_in(client, core, "zhangsan")
    body = {"data": {"start_date": "2026-09-28", "end_date": "2026-10-12", "start_half": "下午"}}
    response = client.post("/start/leave/preview", json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 200
    assert response.get_json() == {"values": {"days": 6.5}, "errors": []}  # 国庆 off, 10-10 调休 on
    response = client.post("/start/leave/preview", json=body)  # no CSRF token
    assert response.status_code == 400


def test_the_api_preview_names_the_problem_and_saves_nothing(api):
    def preview(data):
        response = api("zhangsan").post("/api/v1/processes/leave/computed", json={"data": data})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    assert preview({}) == {"values": {"days": None}, "errors": []}
    assert preview({"start_date": "2026-11-23", "end_date": "2026-11-24", "end_half": "上午"})["values"] == {
        "days": 1.5
    }
    weekend = preview({"start_date": "2026-11-28", "end_date": "2026-11-29"})
    assert weekend["values"] == {"days": None}
    assert [e["field"] for e in weekend["errors"]] == ["days"] and "没有工作日" in weekend["errors"][0]["message"]
    assert preview({"start_date": "2026-11-28", "end_date": "2026-11-20"})["errors"] == [
        {"field": "end_date", "message": "结束日期不能早于开始日期"}
    ]
    assert api("zhangsan").get("/api/v1/work-items?box=started").get_json()["items"] == []


def test_the_api_preview_refuses_bad_bodies_and_unknown_processes(api):
    assert api("zhangsan").post("/api/v1/processes/leave/computed", json=[1]).status_code == 422
    assert api("zhangsan").post("/api/v1/processes/nope/computed", json={"data": {}}).status_code == 404


def test_the_openapi_document_describes_computed_fields(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert "x-computed" in document["paths"]["/instances"]["post"]["description"]
    assert "post" in document["paths"]["/processes/{key}/computed"]


def test_the_resubmission_page_shows_the_stored_days_read_only_and_previews_a_new_count(client, core, ops, leave):
    instance_id = ops.start(days=2)
    item = leave.my_item("sunli", instance_id)
    ops.do("sunli", f"/work-items/{item['id']}/send-back", {"to_node": "initiator", "opinion": "日期不对"})
    resubmit_id = ops.mine("zhangsan", instance_id)
    token = sign_in(client, core, "zhangsan")
    html = client.get(f"/work-items/{resubmit_id}").get_data(as_text=True)
    field = re.search(r'<input type="text" id="f-days"[^>]*>', html).group(0)
    assert 'value="2"' in field and "readonly" in field and "name=" not in field
    assert f'data-preview-url="/work-items/{resubmit_id}/preview"' in html
    body = {"data": {"start_date": "2026-11-23", "end_date": "2026-11-27"}}
    answer = client.post(f"/work-items/{resubmit_id}/preview", json=body, headers={"X-CSRF-Token": token})
    assert answer.get_json() == {"values": {"days": 5}, "errors": []}
    api_answer = ops.api("zhangsan").post(f"/api/v1/work-items/{resubmit_id}/computed", json=body)
    assert api_answer.get_json() == {"values": {"days": 5}, "errors": []}
    # Someone else's item: not theirs to preview.
    assert ops.api("lisi").post(f"/api/v1/work-items/{resubmit_id}/computed", json=body).status_code == 404
    assert leave.detail(instance_id)["data"]["days"] == 2  # a preview saves nothing


def test_an_approval_form_without_computed_fields_previews_nothing(ops, leave):
    instance_id = ops.start(days=2)
    item = leave.my_item("sunli", instance_id)
    answer = ops.api("sunli").post(f"/api/v1/work-items/{item['id']}/computed", json={"data": {}})
    assert answer.get_json() == {"values": {}, "errors": []}
