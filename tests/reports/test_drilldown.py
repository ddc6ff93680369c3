"""月度统计's drill-down: the list behind each figure of a department, a process and a person has exactly as
many items as the figure, its hours average to the figure's average, and the page's charts link to it."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select
from support import sign_in

from engine.errors import InvalidData
from engine.reports import drilldown, monthly
from engine.store.tables import work_item
from engine.work import decisions, initiate

SH = ZoneInfo("Asia/Shanghai")
END = datetime(2025, 12, 1, 10, 0)  # counted after November ended (naive UTC)


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=SH), tick=False)


def leave(start: str) -> dict:
    return {"leave_type": "事假", "start_date": start, "end_date": start, "reason": "家中有事"}


def decide(core, instance_id: int, user: str) -> None:
    with core.db.read() as conn:
        item_id = conn.execute(
            select(work_item.c.id).where(work_item.c.instance_id == instance_id, work_item.c.status == "open")
        ).scalar()
    decisions.complete(core, user, item_id, {}, "approve", "同意")


@pytest.fixture
def november(core):
    """Handled on time, handled late, open and late at month end, open and on time, and an October item."""
    with at(2025, 10, 27, 9, 0):
        october = initiate.start(core, "zhangsan", "leave", leave("2025-10-29"))["id"]
    with at(2025, 10, 28, 9, 0):
        decide(core, october, "sunli")
    with at(2025, 11, 3, 9, 0):
        on_time = initiate.start(core, "zhangsan", "leave", leave("2025-11-05"), "正常")["id"]
    with at(2025, 11, 4, 10, 30):
        decide(core, on_time, "sunli")
    with at(2025, 11, 10, 14, 0):
        late = initiate.start(core, "lisi", "leave", leave("2025-11-11"), "紧急")["id"]
    with at(2025, 11, 12, 9, 30):
        decide(core, late, "sunli")
    with at(2025, 11, 20, 9, 0):
        initiate.start(core, "zhangsan", "leave", leave("2025-11-21"), "紧急")
    with at(2025, 11, 27, 16, 30):
        initiate.start(core, "chenjing", "leave", leave("2025-12-01"), "正常")
    return core


FIGURES = {"handled": "handled", "open_at_end": "open_at_end", "overdue": "overdue", "counted": None}


def test_each_figure_lists_as_many_items_as_it_counts(november):
    with november.db.read() as conn:
        report = monthly.compute(conn, "2025-11", END)
        checked = 0
        for scope in monthly.SCOPES:
            for row in report[scope]:
                for measure, figure in FIGURES.items():
                    listed = drilldown.items_behind(conn, "2025-11", scope, row["key"], measure, END)["items"]
                    if figure is not None:
                        assert len(listed) == row[figure], (scope, row["key"], measure)
                    else:  # the average is over every counted item
                        average = round(sum(i["hours"] for i in listed) / len(listed), 2)
                        assert average == pytest.approx(row["avg_hours"], abs=0.01), (scope, row["key"])
                    checked += 1
    assert checked == 4 * sum(len(report[scope]) for scope in monthly.SCOPES) >= 4 * 5


def test_the_list_names_the_items_and_what_they_count(november):
    with november.db.read() as conn:
        overdue = drilldown.items_behind(conn, "2025-11", "person", "sunli", "overdue", END)
        handled = drilldown.items_behind(conn, "2025-11", "process", "leave", "handled", END)
    assert overdue["name"] == "孙丽" and overdue["measure_label"] == "超时件数"
    assert [(i["title"], i["handled"], i["open_at_end"]) for i in overdue["items"]] == [
        ("李四的请假申请（事假 1 天）", True, False),
        ("张三的请假申请（事假 1 天）", False, True),
    ]
    assert [i["hours"] for i in overdue["items"]] == [12.0, 52.0]
    assert overdue["items"][0]["created_at"] == "2025-11-10T14:00:00+08:00"
    assert handled["name"] == "请假申请" and len(handled["items"]) == 2  # October's approval is not November's


def test_a_bad_question_names_its_field(november):
    with november.db.read() as conn:
        for args, field in (
            (("2025-11", "team", "x", "handled"), "scope"),
            (("2025-11", "process", "leave", "sum"), "measure"),
            (("2025-11", "process", " ", "handled"), "key"),
            (("2025-13", "process", "leave", "handled"), "month"),
        ):
            with pytest.raises(InvalidData) as error:
                drilldown.items_behind(conn, *args, now=END)
            assert error.value.errors[0].field == field


def test_the_page_draws_charts_whose_bars_open_the_items_behind_them(november, client):
    with time_machine.travel(datetime(2025, 12, 1, 18, 0, tzinfo=SH), tick=False):
        sign_in(client, november, "admin")
        html = client.get("/reports/monthly?month=2025-11").get_data(as_text=True)
        for scope in ("department", "process"):
            for chart in ("handled", "hours", "overdue"):
                assert f'id="chart-{scope}-{chart}"' in html
        assert "<script" not in html.split("<main", 1)[1] and "cdn" not in html.lower()
        links = re.findall(
            r'<a href="(/reports/monthly/items\?[^"]+)" class="bar-link">\s*<title>([^<]+)</title>', html
        )
        bars = {unescape_amp(href): title for href, title in links}
        handled = next(h for h in bars if "scope=process" in h and "measure=handled" in h)
        assert bars[handled] == "请假申请：2"
        page = client.get(handled)
        assert page.status_code == 200
        assert re.search(r'id="drill-count">2<', page.get_data(as_text=True))
        overdue = next(h for h in bars if "scope=department" in h and "measure=overdue" in h)
        count = int(re.search(r'id="drill-count">(\d+)<', client.get(overdue).get_data(as_text=True)).group(1))
        assert count == 2  # 业务部: B handled late and D open past its due time
        assert client.get("/reports/monthly/items?month=2025-11&scope=team&key=x&measure=handled").status_code == 422


def unescape_amp(href: str) -> str:
    return href.replace("&amp;", "&")
