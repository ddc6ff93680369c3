"""The navigation bar marks exactly the page the user is on."""

import re

import pytest


def login(client, username="admin"):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": "oaflow-demo", "csrf_token": token})
    assert response.status_code == 302


@pytest.mark.parametrize(
    "path, label",
    [
        ("/inbox/todo", "待办"),
        ("/admin/processes", "流程管理"),
        ("/admin/calendar", "工作日历"),
        ("/reports/monthly", "月度统计"),
        ("/admin/monitor", "流程监控"),
        ("/admin/logs/login", "流程监控"),
    ],
)
def test_one_active_entry_in_the_navigation(client, path, label):
    login(client)
    html = client.get(path).get_data(as_text=True)
    nav = html[html.index("<nav") : html.index("</nav>")]
    active = re.findall(r'<a [^>]*class="[^"]*\bactive\b[^"]*"[^>]*>\s*([^<]+)', nav)
    assert [text.strip() for text in active] == [label]
