"""Monthly statistics checked against figures computed by hand for a small fixture month (November 2025,
a month without holidays: every weekday has 7.5 office hours, 08:30–12:00 and 13:30–17:30)."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select
from support import sign_in

from engine.reports import monthly
from engine.store import audit
from engine.store.tables import work_item
from engine.work import decisions, initiate

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=SH), tick=False)


def leave(user: str, start: str):
    return {"leave_type": "事假", "start_date": start, "end_date": start, "reason": "家中有事"}


def open_item(core, instance_id: int):
    with core.db.read() as conn:
        return conn.execute(
            select(work_item).where(work_item.c.instance_id == instance_id, work_item.c.status == "open")
        ).one()


@pytest.fixture
def november(core):
    """The fixture month. Hand-computed figures for sunli (业务部经理):
    A  zhangsan 11-03 09:00 正常 (due 11-06 17:30), approved 11-04 10:30: 3 + 4 + 2 = 9 h, on time
    B  lisi     11-10 14:00 紧急 (due 11-11 17:30), approved 11-12 09:30: 3.5 + 7.5 + 1 = 12 h, overdue
    D  zhangsan 11-20 09:00 紧急 (due 11-21 17:30), still open at month end: 7 + 7.5 + 5 × 7.5 = 52 h, overdue;
       催办 once on 11-25 (and once in December, which does not count)
    E  zhangsan 10-27, approved 10-28: October, not counted
    and for huangwei (示例单位, 分管领导):
    C  chenjing 11-27 16:30 正常 (her own department's leader is herself, so it goes to huangwei; due 12-02),
       open at month end: 1 + 7.5 = 8.5 h, not overdue
    """
    with at(2025, 10, 27, 9, 0):
        e = initiate.start(core, "zhangsan", "leave", leave("zhangsan", "2025-10-29"))
    with at(2025, 10, 28, 9, 0):
        decisions.complete(core, "sunli", open_item(core, e["id"]).id, {}, "approve", "同意")
    with at(2025, 11, 3, 9, 0):
        a = initiate.start(core, "zhangsan", "leave", leave("zhangsan", "2025-11-05"), "正常")
    with at(2025, 11, 4, 10, 30):
        decisions.complete(core, "sunli", open_item(core, a["id"]).id, {}, "approve", "同意")
    with at(2025, 11, 10, 14, 0):
        b = initiate.start(core, "lisi", "leave", leave("lisi", "2025-11-11"), "紧急")
    with at(2025, 11, 12, 9, 30):
        decisions.complete(core, "sunli", open_item(core, b["id"]).id, {}, "approve", "同意")
    with at(2025, 11, 20, 9, 0):
        d = initiate.start(core, "zhangsan", "leave", leave("zhangsan", "2025-11-21"), "紧急")
    d_item = open_item(core, d["id"])
    with at(2025, 11, 25, 10, 0):
        with core.db.write() as conn:
            audit.record(conn, "urged", instance_id=d["id"], work_item_id=d_item.id, message="请尽快审批")
    with at(2025, 11, 27, 16, 30):
        initiate.start(core, "chenjing", "leave", leave("chenjing", "2025-12-01"), "正常")
    with at(2025, 12, 2, 10, 0):
        with core.db.write() as conn:
            audit.record(conn, "urged", instance_id=d["id"], message="十二月的催办")
    return core


SUNLI = {
    "handled": 2,
    "avg_hours": round(73 / 3, 2),
    "open_at_end": 1,
    "overdue": 2,
    "overdue_rate": 0.6667,
    "urged": 1,
}
HUANGWEI = {"handled": 0, "avg_hours": 8.5, "open_at_end": 1, "overdue": 0, "overdue_rate": 0.0, "urged": 0}


def figures(entry: dict) -> dict:
    return {k: entry[k] for k in SUNLI}


def test_statistics_match_the_hand_computed_figures(november):
    with at(2025, 12, 15, 9, 0):
        with november.db.read() as conn:
            report = monthly.compute(conn, "2025-11")
    assert report["complete"] is True and report["as_of"] == "2025-12-01T00:00:00+08:00"
    people = {e["key"]: e for e in report["person"]}
    assert set(people) == {"sunli", "huangwei"}
    assert figures(people["sunli"]) == SUNLI
    assert (people["sunli"]["name"], people["sunli"]["department"]) == ("孙丽", "业务部")
    assert figures(people["huangwei"]) == HUANGWEI
    departments = {e["key"]: figures(e) for e in report["department"]}
    assert departments == {"业务部": SUNLI, "示例单位": HUANGWEI}
    [process] = report["process"]
    assert (process["key"], process["name"]) == ("leave", "请假申请")
    assert figures(process) == {
        "handled": 2,
        "avg_hours": round(81.5 / 4, 2),
        "open_at_end": 2,
        "overdue": 2,
        "overdue_rate": 0.5,
        "urged": 1,
    }


def test_the_current_month_counts_up_to_now(november):
    with at(2025, 11, 21, 12, 0):
        with november.db.read() as conn:
            report = monthly.compute(conn, "2025-11")
    sunli = {e["key"]: e for e in report["person"]}["sunli"]
    # D is open and not yet overdue at 11-21 12:00: 7 + 3.5 h so far.
    assert (sunli["handled"], sunli["open_at_end"], sunli["overdue"]) == (2, 1, 1)
    assert sunli["avg_hours"] == round((9 + 12 + 10.5) / 3, 2)
    assert report["complete"] is False


def test_snapshot_on_the_28th_is_taken_once(november):
    with at(2025, 11, 28, 18, 0):
        assert monthly.take_snapshot(november, "day28") == 5  # 2 people, 2 departments, 1 process
        assert monthly.take_snapshot(november, "day28") == 0  # a second scheduler adds nothing
    with november.db.read() as conn:
        stored = monthly.load_snapshot(conn, "2025-11", "day28")
    assert figures({e["key"]: e for e in stored["person"]}["sunli"]) == SUNLI


def test_report_api_page_and_excel(november, api, client):
    with at(2025, 12, 15, 9, 0):
        admin = api("admin")
        response = admin.get("/api/v1/reports/monthly?month=2025-11")
        assert response.status_code == 200
        body = response.get_json()
        assert figures({e["key"]: e for e in body["person"]}["sunli"]) == SUNLI
        assert body["source"] == "live"
        assert api("sunli").get("/api/v1/reports/monthly?month=2025-11").status_code == 403
        bad = admin.get("/api/v1/reports/monthly?month=2025-13")
        assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "month"
        assert admin.get("/api/v1/reports/monthly?month=2025-11&source=day28").status_code == 404
        bad = admin.get("/api/v1/reports/monthly?month=2025-11&source=weekly")
        assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "source"

        xlsx = admin.get("/api/v1/reports/monthly.xlsx?month=2025-11")
        assert xlsx.status_code == 200 and xlsx.headers["Content-Type"].startswith("application/vnd.openxml")
        book = load_workbook(io.BytesIO(xlsx.data))
        assert book.sheetnames == ["按人员", "按部门", "按流程"]
        rows = list(book["按人员"].iter_rows(values_only=True))
        assert rows[1] == (
            "姓名",
            "用户名",
            "部门",
            "办理件数",
            "平均办理时长（工作小时）",
            "月末未办结",
            "超时件数",
            "超时率",
            "收到催办",
        )
        sunli = next(r for r in rows[2:] if r[1] == "sunli")
        assert sunli == ("孙丽", "sunli", "业务部", 2, round(73 / 3, 2), 1, 2, 0.6667, 1)

        sign_in(client, november, "admin")
        page = client.get("/reports/monthly?month=2025-11").get_data(as_text=True)
        assert "月度统计" in page and "孙丽" in page and "66.7%" in page
        assert client.get("/reports/monthly.xlsx?month=2025-11").status_code == 200
        sign_in(client, november, "sunli")
        assert client.get("/reports/monthly?month=2025-11").status_code == 403
