"""Bad input never becomes a 500 or an HTML page on the JSON API: bodies that are not objects, nesting 50,000
deep, NaN/Infinity, lone surrogates, NUL, numbers past 64 bits, values of the wrong type, texts longer than
their column. Each is a 4xx JSON answer naming the field, and nothing is stored."""

from __future__ import annotations

import io
import json

import pytest
from api_routes import caller_for, fill, start_leave, write_rules
from support import DATA, sign_in

from engine.work.views import worklist

NON_OBJECTS = {"list": b"[1]", "string": b'"x"', "number": b"1", "null": b"null"}
HOSTILE = {
    **NON_OBJECTS,
    "deep-array": b"[" * 50_000,
    "deep-object": b'{"a":' * 50_000,
    "nan": b'{"opinion": NaN, "reason": Infinity, "year": -Infinity}',
    "surrogate": b'{"opinion": "\\ud800", "reason": "\\udfff", "text": "\\ud800", "name": "\\ud800"}',
    "nul": b'{"opinion": "a\\u0000", "reason": "a\\u0000", "text": "a\\u0000", "name": "\\u0000"}',
    "huge-int": b'{"from_version": 18446744073709551616, "ids": [18446744073709551616]}',
    "broken": b'{"opinion": ',
    "latin-1": b'{"opinion": "\xe9"}',
}


def send(api, user, method, path, raw: bytes):
    return api(user).client.open(
        path, method=method, data=raw, content_type="application/json", headers=api(user).headers
    )


def assert_json_4xx(response, where):
    assert 400 <= response.status_code < 500, (where, response.status_code, response.get_data(as_text=True)[:300])
    assert response.is_json, (where, response.content_type)
    return response.get_json()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_every_json_endpoint_answers_a_hostile_body_with_json_4xx(app, api, row_counts, name):
    target = start_leave(api)
    before = row_counts()
    named_body = 0
    for method, rule in write_rules(app):
        if rule.endpoint == "api.revoke_token":  # takes no body, and would sign the caller out of the sweep
            continue
        path = fill(rule, target)
        response = send(api, caller_for(rule, target), method, path, HOSTILE[name])
        if response.status_code < 400:  # a route without a body (撤回, 已读 …) may do its work
            continue
        body = assert_json_4xx(response, (method, path))
        if response.status_code == 422 and body.get("errors"):
            named_body += 1
            assert all((e.get("field") or e.get("file")) and e["message"] for e in body["errors"]), body
    assert named_body >= 20, named_body
    if name in NON_OBJECTS or name.startswith("deep") or name in {"broken", "latin-1"}:
        assert row_counts()["instance"] == before["instance"]


@pytest.mark.parametrize("raw", list(NON_OBJECTS.values()), ids=list(NON_OBJECTS))
def test_token_endpoint_refuses_a_body_that_is_not_an_object(client, raw):
    response = client.post("/api/v1/auth/token", data=raw, content_type="application/json")
    body = assert_json_4xx(response, "token")
    assert body["errors"][0]["field"] == "body"
    assert "JSON 对象" in body["errors"][0]["message"]


def test_token_endpoint_refuses_a_name_that_is_not_text(client):
    response = client.post("/api/v1/auth/token", json={"username": ["zhangsan"], "password": 1})
    assert [e["field"] for e in assert_json_4xx(response, "token")["errors"]] == ["username"]


def test_deep_nesting_is_named_not_a_recursion_error(api):
    response = send(api, "zhangsan", "POST", "/api/v1/instances", b"[" * 50_000)
    assert assert_json_4xx(response, "deep")["errors"] == [
        {"field": "body", "message": "请求体嵌套层数过多（上限 32 层）"}
    ]
    data = {"process": "leave", "data": {"reason": json.loads("[" * 40 + "]" * 40)}}
    response = api("zhangsan").post("/api/v1/instances", json=data)
    assert [e["field"] for e in assert_json_4xx(response, "deep")["errors"]] == ["reason"]


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("opinion", {"opinion": 1}),
        ("opinion", {"opinion": ["同意"]}),
        ("opinion", {"opinion": {"text": "同意"}}),
        ("opinion", {"opinion": True}),
    ],
)
@pytest.mark.parametrize("operation", ["complete", "send-back", "transfer", "delegate", "add-signers"])
def test_opinion_that_is_not_text_is_named(api, ops, operation, field, body):
    target = start_leave(api)
    extra = {"to_user": "lisi", "users": ["lisi"], "position": "after"}
    ops.field_error(
        target.holder, f"/work-items/{target.item_id}/{operation}", {**extra, **body}, field, "意见必须是文字"
    )


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/delegations", {"delegate": 1, "starts_on": "2026-12-01", "ends_on": "2026-12-02"}, "delegate"),
        ("/delegations", {"delegate": "lisi", "starts_on": 20261201, "ends_on": "2026-12-02"}, "starts_on"),
        (
            "/delegations",
            {"delegate": "lisi", "starts_on": "2026-12-01", "ends_on": "2026-12-02", "reason": 7},
            "reason",
        ),
        (
            "/delegations",
            {"delegate": "lisi", "starts_on": "2026-12-01", "ends_on": "2026-12-02", "reason": "长" * 201},
            "reason",
        ),
        ("/phrases", {"text": 5}, "text"),
        ("/phrases", {"text": "长" * 501}, "text"),
        ("/instances/{instance}/cancel", {"reason": {"a": 1}}, "reason"),
        ("/instances/{instance}/urge", {"message": "长" * 201}, "message"),
        ("/instances/{instance}/cc", {"users": ["lisi"], "message": "长" * 501}, "message"),
    ],
)
def test_wrong_type_or_length_is_named_and_stores_nothing(api, ops, path, body, field):
    target = start_leave(api)
    ops.field_error("zhangsan", path.format(instance=target.instance_id), body, field)


def test_every_length_limit_is_checked_before_the_database(api, ops):
    """What the API accepts fits its column on PostgreSQL (delegation.reason is varchar(200), the phrase
    varchar(500), a day's note varchar(100)); one more character is a 422 naming the field and its limit."""
    target = start_leave(api)
    ops.field_error(
        "admin", f"/instances/{target.instance_id}/suspend", {"reason": "长" * 501}, "reason", "原因最多 500 个字"
    )
    response = api("admin").client.put(
        "/api/v1/admin/calendar/days/2026-10-08",
        json={"is_workday": True, "note": "长" * 101},
        headers=api("admin").headers,
    )
    assert [e["field"] for e in assert_json_4xx(response, "note")["errors"]] == ["note"]
    created = api("zhangsan").post(
        "/api/v1/delegations",
        json={"delegate": "lisi", "starts_on": "2026-12-01", "ends_on": "2026-12-02", "reason": "长" * 200},
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["reason"] == "长" * 200
    assert api("zhangsan").post("/api/v1/phrases", json={"text": "长" * 500}).status_code == 201


def test_long_send_back_opinion_is_kept_whole(api, leave, ops):
    """A 退回 opinion of 501 characters (once refused by PostgreSQL's varchar(500) message title)."""
    target = start_leave(api)
    opinion = "请补充" * 167  # 501 characters
    ops.do(target.holder, f"/work-items/{target.item_id}/send-back", {"opinion": opinion})
    assert ops.last_event(target.instance_id)["opinion"] == opinion
    ops.field_error(target.holder, "/phrases", {"text": "x" * 501}, "text", "常用意见最多 500 个字")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/instances/99999999999999999999999",
        "/api/v1/work-items/18446744073709551616",
        "/api/v1/instances/9223372036854775808/waiting",
        "/api/v1/processes/leave/versions/99999999999999999999/diagram",
        "/api/v1/instances/2147483648",
        "/api/v1/instances/2147483648/waiting",
    ],
)
def test_ids_past_64_bits_in_the_address_are_json_404(api, path):
    """And past 32 bits: the id columns are INTEGER on PostgreSQL."""
    response = api("admin").get(path)
    assert response.status_code == 404 and response.is_json


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/work-items?page=99999999999999999999999", "page"),
        ("/api/v1/work-items?per_page=-99999999999999999999", "per_page"),
        ("/api/v1/notifications?page=99999999999999999999", "page"),
        ("/api/v1/processes/leave/diff?from=99999999999999999999&to=1", "from"),
        ("/api/v1/work-items?page=abc", "page"),
    ],
)
def test_page_numbers_past_64_bits_are_named(api, path, field):
    body = assert_json_4xx(api("admin").get(path), path)
    assert [e["field"] for e in body["errors"]] == [field]


def test_a_page_far_past_the_end_is_empty_not_an_overflow(api):
    last = api("admin").get(f"/api/v1/work-items?page={2**62}&per_page=100")
    assert last.status_code == 200 and last.get_json()["items"] == []
    assert last.get_json()["page"] == worklist.MAX_PAGE


def test_ids_past_64_bits_in_a_body_are_named(api, ops):
    ops.field_error("admin", "/notifications/read", {"ids": [2**63]}, "ids[0]")
    ops.field_error("admin", "/notifications/read", {"ids": [2**31]}, "ids")  # INTEGER on PostgreSQL
    ops.field_error("admin", "/processes/leave/migrations", {"from_version": 1, "to_version": 2**31}, "to_version")
    ops.field_error("admin", "/notifications/read", {"ids": [2**70]}, "ids")  # a float once past 2**64
    ops.field_error(
        "admin", "/processes/leave/migrations/dry-run", {"from_version": 2**64, "to_version": 1}, "from_version"
    )
    ops.field_error(
        "admin", "/processes/leave/migrations/dry-run", {"from_version": 2**70, "to_version": 1}, "from_version"
    )


@pytest.mark.parametrize("raw", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_calendar_import_refuses_non_finite_numbers(api, raw):
    body = f'{{"year": 2027, "holidays": [{{"start": {raw}, "end": "2027-01-01", "name": "元旦"}}], "workdays": []}}'
    response = send(api, "admin", "POST", "/api/v1/admin/calendar/import", body.encode())
    assert [e["field"] for e in assert_json_4xx(response, raw)["errors"]] == ["holidays[0].start"]
    year = send(api, "admin", "POST", "/api/v1/admin/calendar/import", f'{{"year": {raw}}}'.encode())
    assert [e["field"] for e in assert_json_4xx(year, raw)["errors"]] == ["year"]


@pytest.mark.parametrize("body", [b"[1]", b'["day28"]', b'"day28"', b'{"snapshot": ["day28"]}', b'{"snapshot": 1}'])
def test_snapshot_body_must_be_an_object_naming_the_snapshot(api, body):
    response = send(api, "admin", "POST", "/api/v1/reports/monthly/snapshot", body)
    assert [e["field"] for e in assert_json_4xx(response, body)["errors"]] in (["body"], ["snapshot"])


def test_lone_surrogates_are_named(api, row_counts):
    before = row_counts()
    raw = b'{"process": "leave", "data": {"reason": "\\ud800", "leave_type": "\xe5\xb9\xb4\xe5\x81\x87"}}'
    response = send(api, "zhangsan", "POST", "/api/v1/instances", raw)
    assert [e["field"] for e in assert_json_4xx(response, "surrogate")["errors"]] == ["reason"]
    response = send(api, "zhangsan", "POST", "/api/v1/phrases", b'{"text": "ok \\udc00"}')
    assert [e["field"] for e in assert_json_4xx(response, "surrogate")["errors"]] == ["text"]
    assert row_counts() == before


def test_nul_is_refused_everywhere_before_the_database(api, client, row_counts):
    """PostgreSQL cannot store NUL: in a JSON string, a query, an address or a browser form it is a 422."""
    before = row_counts()
    response = api("zhangsan").post("/api/v1/instances", json={"process": "leave", "data": {"reason": "a\x00b"}})
    assert [e["field"] for e in assert_json_4xx(response, "nul")["errors"]] == ["reason"]
    for path, field in (("/api/v1/work-items?q=%00", "q"), ("/api/v1/processes/le%00ave", "path")):
        body = assert_json_4xx(api("zhangsan").get(path), path)
        assert [e["field"] for e in body["errors"]] == [field]
    assert row_counts() == before


def test_the_api_never_answers_html(app, api, client, monkeypatch):
    assert client.get("/api/v1/nothing").is_json
    assert client.delete("/api/v1/me").status_code == 405 and client.delete("/api/v1/me").is_json
    big = client.post("/api/v1/auth/token", data=b"x" * (9 * 1024 * 1024), content_type="application/json")
    assert big.status_code == 413 and big.is_json

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(worklist, "item_counts", broken)
    response = api("zhangsan").get("/api/v1/me")
    assert response.status_code == 500 and response.is_json
    assert response.get_json() == {"error": "服务器内部错误，请稍后重试或联系管理员"}


@pytest.mark.parametrize(
    "path",
    [
        "/admin/processes/leave?from=99999999999999999999999&to=1",
        "/admin/calendar?year=99999999999999999999999",
        "/inbox/todo?page=99999999999999999999999",
        "/work-items/99999999999999999999999",
    ],
)
def test_pages_answer_numbers_past_64_bits_without_a_500(client, core, path):
    sign_in(client, core, "admin")
    response = client.get(path)
    assert response.status_code in (200, 404, 422), response.status_code


def _simple_with(**replace) -> bytes:
    text = (DATA / "simple.bpmn").read_text()
    for old, new in replace.items():
        text = text.replace(old, new, 1)
    return text.encode()


@pytest.mark.parametrize(
    ("bpmn", "file_name", "message"),
    [
        (_simple_with(简单审批="名" * 201), "simple.bpmn", "流程的 名称（name） 过长：最多 200 个字符"),
        (_simple_with(负责人审批="名" * 201), "simple.bpmn", "节点的 名称（name） 过长：最多 200 个字符"),
        (_simple_with(), "x" * 300 + ".bpmn", "文件名过长：最多 255 个字符"),
    ],
    ids=["process-name", "task-name", "file-name"],
)
def test_deploy_refuses_names_longer_than_their_columns(api, row_counts, bpmn, file_name, message):
    """On PostgreSQL these were a DataError (definition.name, bpmn_file) or, for a task, a 500 at run time."""
    before = row_counts()
    files = [(io.BytesIO(bpmn), file_name), (io.BytesIO((DATA / "simple_form.json").read_bytes()), "simple_form.json")]
    response = api("admin").post("/api/v1/deployments", data={"files": files}, content_type="multipart/form-data")
    body = assert_json_4xx(response, file_name)
    assert any(message in e["message"] for e in body["errors"]), body
    assert row_counts() == before
