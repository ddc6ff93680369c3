"""Searching the boxes by title: what the user types is text, never a LIKE pattern (`_`, `%` and the escape
character match only themselves)."""

from __future__ import annotations

import pytest
from support import sign_in


@pytest.mark.parametrize("text", ["_", "%", "/", "%_", "\\", "/%"])
def test_wildcards_match_only_themselves(leave, api, client, core, text):
    started = leave.start()
    assert leave.my_item("sunli", started["id"])  # sunli has it in 待办; zhangsan in 我发起的
    for user, box in (("sunli", "todo"), ("zhangsan", "started")):
        found = api(user).get("/api/v1/work-items", query_string={"box": box, "q": text}).get_json()
        assert (found["total"], found["items"]) == (0, []), (box, text)
        title = api(user).get("/api/v1/work-items", query_string={"box": box, "q": "请假"}).get_json()
        assert title["total"] == 1
    sign_in(client, core, "sunli")
    page = client.get("/inbox/todo", query_string={"q": text}).get_data(as_text=True)
    assert started["title"] not in page
    assert started["title"] in client.get("/inbox/todo", query_string={"q": "请假"}).get_data(as_text=True)
