"""Post/Redirect/Get: a browser form that fails is answered with a redirect back to its page, where the Chinese
message (and, where practical, what was typed) is shown — never an error page at the POST address, which a
refresh would send again; and never a 500 for bad form input."""

from __future__ import annotations

import pytest
from api_routes import fill, start_leave
from support import sign_in

CSRF = "test-csrf"

# What a careless or hostile form sends: nothing, text where numbers go, NUL, far too much.
FORMS = {
    "empty": {},
    "nonsense": {
        "decision": "maybe",
        "opinion": "",
        "to_user": "nobody",
        "users": ["nobody"],
        "position": "sideways",
        "year": "二〇二七",
        "date": "昨天",
        "is_workday": "perhaps",
        "from_version": "x",
        "to_version": "99999999999999999999999",
        "instance_ids": "1,99999999999999999999999",
        "starts_on": "2026-02-30",
        "days": "1e400",
        "text": "",
    },
    "nul": {"opinion": "a\x00b", "reason": "a\x00b", "text": "a\x00", "delegate": "\x00"},
    "long": {"opinion": "长" * 3000, "reason": "长" * 3000, "text": "长" * 600, "message": "长" * 600},
}


def page_post_rules(app):
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods and not r.rule.startswith("/api/")]
    return sorted((r for r in rules if r.rule != "/logout"), key=lambda r: r.rule)


@pytest.mark.parametrize("form", list(FORMS))
def test_every_failing_form_post_redirects_back(app, api, client, core, form):
    target = start_leave(api)
    sign_in(client, core, "admin")
    for rule in page_post_rules(app):
        path = fill(rule, target, key="leave", version=1)
        response = client.post(
            path,
            data={"csrf_token": CSRF, **FORMS[form]},
            headers={"Referer": f"http://localhost/instances/{target.instance_id}"},
        )
        assert response.status_code in (302, 303), (path, response.status_code, response.get_data(as_text=True)[:400])
        page = client.get(response.headers["Location"])
        assert page.status_code < 500, (path, response.headers["Location"])


def test_a_stale_form_goes_back_with_a_message(api, client, core):
    target = start_leave(api)
    sign_in(client, core, "zhangsan")
    response = client.post(
        f"/instances/{target.instance_id}/urge",
        data={"csrf_token": "stale"},
        headers={"Referer": f"http://localhost/instances/{target.instance_id}"},
        follow_redirects=True,
    )
    assert [r.status_code for r in response.history] == [303]
    assert response.request.path == f"/instances/{target.instance_id}"
    assert "页面已过期或请求无效" in response.get_data(as_text=True)


def test_start_form_errors_come_back_with_what_was_typed(client, core, row_counts):
    sign_in(client, core, "zhangsan")
    before = row_counts()
    form = {
        "csrf_token": CSRF,
        "leave_type": "年假",
        "start_date": "2026-11-23",
        "end_date": "2026-11-20",
        "reason": "回老家探亲",
    }
    response = client.post("/start/leave", data=form)
    assert response.status_code == 303 and response.headers["Location"].endswith("/start/leave")
    page = client.get("/start/leave").get_data(as_text=True)
    assert "不能早于" in page and "回老家探亲" in page
    assert "不能早于" not in client.get("/start/leave").get_data(as_text=True)  # shown once
    assert row_counts() == before


def test_reject_without_opinion_comes_back_to_the_task_page(api, client, core):
    target = start_leave(api)
    sign_in(client, core, target.holder)
    path = f"/work-items/{target.item_id}"
    response = client.post(path, data={"csrf_token": CSRF, "decision": "reject", "opinion": ""})
    assert response.status_code == 303 and response.headers["Location"].endswith(path)
    assert "不同意时必须填写意见" in client.get(path).get_data(as_text=True)


def test_operation_errors_reopen_the_form_on_the_task_page(api, client, core):
    target = start_leave(api)
    sign_in(client, core, target.holder)
    path = f"/work-items/{target.item_id}"
    response = client.post(f"{path}/send-back", data={"csrf_token": CSRF, "opinion": "长" * 2001})
    assert response.status_code == 303 and response.headers["Location"].endswith(path)
    assert "意见最多 2000 个字" in client.get(path).get_data(as_text=True)


def test_nul_in_a_form_is_a_message_not_a_database_error(api, client, core, row_counts):
    target = start_leave(api)
    sign_in(client, core, "zhangsan")
    before = row_counts()
    response = client.post(
        f"/instances/{target.instance_id}/cancel",
        data={"csrf_token": CSRF, "reason": "不请了\x00"},
        headers={"Referer": f"http://localhost/instances/{target.instance_id}"},
        follow_redirects=True,
    )
    assert response.request.path == f"/instances/{target.instance_id}"
    assert "reason 不能含有 NUL 字符" in response.get_data(as_text=True)
    assert row_counts() == before


def test_phrase_too_long_keeps_the_text(client, core):
    sign_in(client, core, "lisi")
    response = client.post("/settings/phrases", data={"csrf_token": CSRF, "text": "好" * 501})
    assert response.status_code == 303
    page = client.get("/settings/phrases").get_data(as_text=True)
    assert "常用意见最多 500 个字" in page and "好" * 501 in page
