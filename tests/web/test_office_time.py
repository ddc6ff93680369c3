"""Every time the office reads is office time: with the clock frozen after 16:00 UTC (Shanghai already on
the next day), each page that shows a time shows the office's, never the stored UTC, and every time the
API answers carries the office's offset. The one formatter for pages is webapp.layout.format_time (`|when`);
the engine gives ISO times through engine.time.working_days.local_iso."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import time_machine
from sqlalchemy import select
from support import expression_bpmn, sign_in

from engine.process import definitions
from engine.store.tables import work_item

# 17:00 UTC on 4 March 2026 is 01:00 on 5 March in the office.
LATE_UTC = datetime(2026, 3, 4, 17, 0, tzinfo=timezone.utc)
OFFICE = "2026-03-05 01:00"
STORED = ("2026-03-04 17:00", "2026-03-04T17:00")
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def times_in(answer, path: str = "") -> list[tuple[str, str]]:
    """Every (where, value) in a JSON answer that is a date with a time of day."""
    if isinstance(answer, dict):
        return [found for key, value in answer.items() for found in times_in(value, f"{path}.{key}")]
    if isinstance(answer, list):
        return [found for i, value in enumerate(answer) for found in times_in(value, f"{path}[{i}]")]
    return [(path, answer)] if isinstance(answer, str) and ISO_TIME.match(answer) else []


def failed_instance(core, api) -> int:
    """An application in 异常 (its completion condition divides by zero), for the 异常申请 page."""
    with core.db.write() as conn:
        content = expression_bpmn("completionCondition", "amount / (amount - 5) > 1")
        definitions.deploy(conn, {"hostile.bpmn": content}, None)
    instance_id = api("zhangsan").post("/api/v1/instances", json={"process": "hostile", "data": {"amount": 5}})
    instance_id = instance_id.get_json()["id"]
    with core.db.read() as conn:
        first = conn.execute(
            select(work_item.c.id).where(work_item.c.instance_id == instance_id).order_by(work_item.c.id)
        ).scalar()
    answer = api("lisi").post(f"/api/v1/work-items/{first}/complete", json={"decision": "approve", "opinion": "同意"})
    assert answer.status_code == 422
    return instance_id


def test_every_page_shows_office_time(ops, core, client, api):
    with time_machine.travel(LATE_UTC, tick=False):
        instance_id = ops.start()
        ops.do("zhangsan", f"/instances/{instance_id}/urge", {"message": "请尽快"})
        item_id = ops.mine("sunli", instance_id)
        failed_instance(core, api)
        pages = {
            "sunli": ["/inbox/todo", f"/work-items/{item_id}", f"/instances/{instance_id}", "/notifications"],
            "zhangsan": ["/inbox/started", f"/instances/{instance_id}", f"/instances/{instance_id}/print"],
            "admin": ["/admin/errors", "/admin/processes/leave", "/admin/processes/leave/versions/1"],
        }
        for user, paths in pages.items():
            sign_in(client, core, user)
            for path in paths:
                response = client.get(path)
                html = response.get_data(as_text=True)
                assert response.status_code == 200, path
                assert not [t for t in STORED if t in html], path
                if not path.startswith("/admin/processes"):  # the shipped process was deployed earlier
                    assert OFFICE in html or OFFICE[5:] in html, path


def test_every_time_the_api_answers_is_office_time(ops, core, api):
    with time_machine.travel(LATE_UTC, tick=False):
        instance_id = ops.start()
        ops.do("zhangsan", f"/instances/{instance_id}/urge", {"message": "请尽快"})
        item_id = ops.mine("sunli", instance_id)
        failed = failed_instance(core, api)
        answers = {
            "sunli": [
                "/api/v1/work-items?box=todo",
                f"/api/v1/work-items/{item_id}",
                f"/api/v1/instances/{instance_id}",
            ],
            "zhangsan": ["/api/v1/work-items?box=started", "/api/v1/notifications"],
            "admin": ["/api/v1/admin/errors", "/api/v1/processes/leave/versions"],
        }
        seen = []
        for user, paths in answers.items():
            for path in paths:
                response = api(user).get(path)
                assert response.status_code == 200, path
                found = times_in(response.get_json(), path)
                assert [(where, value) for where, value in found if not value.endswith("+08:00")] == [], path
                seen += [value for _, value in found]
        assert "2026-03-05T01:00:00+08:00" in seen
        retried = api("admin").post(f"/api/v1/admin/errors/{failed}/retry").get_json()
        assert [value for _, value in times_in(retried) if not value.endswith("+08:00")] == []
