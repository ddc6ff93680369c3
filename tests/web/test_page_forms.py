"""The browser's forms across pages: a form that fails comes back (Post/Redirect/Get) filled in as it was
sent, its errors by field, nothing stored; an empty choice says 请选择 (a filter's says 全部)."""

from __future__ import annotations

import re
from html import unescape

from api_routes import start_leave
from support import sign_in

CSRF = "test-csrf"
EMPTY_CHOICES = {"请选择", "全部", "默认（新的在前）", "常用意见…"}


def post(client, path: str, **form):
    return client.post(path, data={"csrf_token": CSRF, **form})


def selected(html: str, name: str) -> str | None:
    """The value of the chosen option of the select `name` (None: none marked, the first shows)."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    chosen = re.search(r'<option value="([^"]*)"[^>]*\sselected', select)
    return chosen.group(1) if chosen else None


def test_a_refused_day_comes_back_as_typed_with_its_error(client, core, row_counts):
    sign_in(client, core, "admin")
    before = row_counts()
    response = post(client, "/admin/calendar/day", date="2026-10-09", is_workday="", note="停电", year="2026")
    assert response.status_code == 303 and "/admin/calendar" in response.headers["Location"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<option value="">请选择</option>' in html and selected(html, "is_workday") is None
    assert 'name="date" required value="2026-10-09"' in html and 'value="停电"' in html
    assert re.search(r'id="err-day-is_workday">请选择类型', html)
    assert row_counts() == before
    again = client.get("/admin/calendar").get_data(as_text=True)  # shown once
    assert 'value="停电"' not in again and 'id="err-day-is_workday"' not in again

    post(client, "/admin/calendar/day", date="2026-02-30", is_workday="0", note="", year="2026")
    html = client.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert selected(html, "is_workday") == "0" and 'id="err-day-date"' in html


def test_a_refused_import_keeps_the_pasted_schedule(client, core, row_counts):
    sign_in(client, core, "admin")
    before = row_counts()
    schedule = "2027-01-01 至 2027-01-03 休 元旦\n2027-02-30 班 不存在的日子"
    response = post(client, "/admin/calendar/import", year="2027", text=schedule)
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert schedule in unescape(html)
    assert re.search(r'id="err-import-text">日期“2027-02-30”无效', unescape(html))
    assert row_counts() == before

    post(client, "/admin/calendar/import", year="二〇二七", text="2027-01-01 休 元旦")
    html = unescape(client.get("/admin/calendar").get_data(as_text=True))
    assert 'value="二〇二七"' in html and "2027-01-01 休 元旦" in html
    assert re.search(r'id="err-import-year">年份必须是整数', html)


def test_refused_office_hours_keep_what_was_typed(client, core, row_counts):
    sign_in(client, core, "admin")
    before = row_counts()
    post(client, "/admin/office-hours", timezone="Mars/Base", periods="09:00-12:00, 14:00-18:00")
    html = client.get("/admin/calendar").get_data(as_text=True)
    assert 'value="Mars/Base"' in html and 'value="09:00-12:00, 14:00-18:00"' in html
    assert re.search(r'id="err-hours-timezone">未知的时区', html)
    assert row_counts() == before


def test_a_refused_batch_keeps_its_opinion(api, client, core, row_counts):
    start_leave(api)
    sign_in(client, core, "sunli")
    before = row_counts()
    response = client.post(
        "/inbox/todo/batch-approve",
        data={"csrf_token": CSRF, "opinion": "同意，按规定办理"},
        headers={"Referer": "http://localhost/inbox/todo"},
    )
    assert response.status_code == 303
    html = client.get("/inbox/todo").get_data(as_text=True)
    assert "请选择要批量同意的待办" in html and 'value="同意，按规定办理"' in html
    assert row_counts() == before


def test_every_empty_choice_says_what_it_means(api, client, core):
    target = start_leave(api)
    pages = {
        "zhangsan": ["/start/leave", "/start/contract_countersign", "/settings/delegation", "/inbox/started"],
        "sunli": [f"/work-items/{target.item_id}", "/inbox/todo", "/inbox/done"],
        "admin": ["/admin/calendar", f"/instances/{target.instance_id}"],
    }
    seen = set()
    for user, paths in pages.items():
        sign_in(client, core, user)
        for path in paths:
            html = client.get(path).get_data(as_text=True)
            for select in re.findall(r"<select\b.*?</select>", html, re.S):
                empty = re.search(r'<option value="">([^<]*)</option>', select)
                if empty is not None:
                    assert empty.group(1).strip() in EMPTY_CHOICES, (path, select[:200])
                    seen.add(empty.group(1).strip())
    assert {"请选择", "全部"} <= seen
