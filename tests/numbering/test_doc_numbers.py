"""The 发文字号 register on the engine API, on SQLite and PostgreSQL.

tests/data/docno_flow.bpmn: 拟稿 (zhangsan: 标题, 机关代字) → 核稿 (sunli) → 编号 (wangfang, doc_no="allocate")
→ 分发 (lisi) → 归档. The number is given when 编号 completes, never earlier, and only once.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from support import DATA

from engine.errors import Conflict, Forbidden, InvalidData
from engine.numbering import register
from engine.org import users
from engine.process import definitions
from engine.store.tables import event_log, user_account, utcnow, work_item
from engine.store.tables_doc_numbers import doc_number
from engine.time.office_hours import work_calendar
from engine.work import consistency, decisions, doc_numbers, initiate, rework
from engine.work.views import detail, documents

FILES = ("docno_form.json", "docno_flow.bpmn")


class Flow:
    def __init__(self, core):
        self.core = core
        with core.db.write() as conn:
            definitions.deploy(conn, {name: (DATA / name).read_bytes() for name in FILES}, None)
            self.year = work_calendar(conn).local(utcnow()).year

    def start(self, prefix: str = "示例办发", title: str = "关于试行发文字号的通知", user: str = "zhangsan") -> int:
        return initiate.start(self.core, user, "docno_flow", {"title": title, "doc_prefix": prefix})["id"]

    def item(self, user: str, instance_id: int) -> int:
        with self.core.db.read() as conn:
            return conn.execute(
                select(work_item.c.id)
                .join(user_account, user_account.c.id == work_item.c.assignee_id)
                .where(
                    work_item.c.instance_id == instance_id,
                    user_account.c.username == user,
                    work_item.c.status == "open",
                )
            ).scalar_one()

    def approve(self, user: str, instance_id: int) -> None:
        decisions.complete(self.core, user, self.item(user, instance_id), {}, "approve", "同意")
        assert consistency.problems(self.core, instance_id) == []

    def number(self, instance_id: int) -> None:
        """核稿 and 编号: the instance gets its 文号."""
        self.approve("sunli", instance_id)
        self.approve("wangfang", instance_id)

    def doc_no(self, instance_id: int) -> str | None:
        with self.core.db.read() as conn:
            shown = detail.instance_detail(self.core, conn, users.find_user(conn, "admin"), instance_id)
        assert shown["doc_no"] == shown["data"].get("doc_no")
        return shown["doc_no"]

    def rows(self) -> list[tuple]:
        with self.core.db.read() as conn:
            return [
                (r.prefix, r.year, r.number, r.status, r.instance_id)
                for r in conn.execute(select(doc_number).order_by(doc_number.c.prefix, doc_number.c.number))
            ]

    def text(self, number: int, prefix: str = "示例办发") -> str:
        return f"{prefix}〔{self.year}〕{number}号"

    def events(self, kind: str) -> list[str]:
        with self.core.db.read() as conn:
            return list(conn.execute(select(event_log.c.message).where(event_log.c.type == kind)).scalars())


@pytest.fixture
def flow(core) -> Flow:
    return Flow(core)


def test_the_number_is_given_only_when_the_allocating_node_completes(flow):
    first = flow.start()
    assert flow.doc_no(first) is None  # a draft has no number
    flow.approve("sunli", first)
    assert flow.doc_no(first) is None  # 核稿 passed: still none
    flow.approve("wangfang", first)
    assert flow.doc_no(first) == flow.text(1)
    second = flow.start()
    flow.number(second)
    assert flow.doc_no(second) == flow.text(2)
    other = flow.start(prefix="示例办函")
    flow.number(other)
    assert flow.doc_no(other) == flow.text(1, "示例办函")  # one counter per 代字
    assert flow.rows() == [
        ("示例办函", flow.year, 1, "allocated", other),
        ("示例办发", flow.year, 1, "allocated", first),
        ("示例办发", flow.year, 2, "allocated", second),
    ]
    assert flow.events("doc_no_allocated") == [
        flow.text(1),
        flow.text(2),
        flow.text(1, "示例办函"),
    ]


def test_a_send_back_keeps_the_number_and_a_second_pass_gives_no_new_one(flow):
    instance_id = flow.start()
    flow.number(instance_id)
    rework.send_back(flow.core, "lisi", flow.item("lisi", instance_id), "initiator", "请修改标题")
    assert flow.doc_no(instance_id) == flow.text(1)  # with the drafter, still numbered
    decisions.complete(
        flow.core,
        "zhangsan",
        flow.item("zhangsan", instance_id),
        {"title": "改后的标题", "doc_prefix": "示例办发"},
        "approve",
        None,
    )
    assert flow.doc_no(instance_id) == flow.text(1)
    flow.number(instance_id)  # through 核稿 and 编号 once more
    assert flow.doc_no(instance_id) == flow.text(1)
    rework.send_back(flow.core, "lisi", flow.item("lisi", instance_id), "Task_number", "请核对")
    flow.approve("wangfang", instance_id)
    assert flow.doc_no(instance_id) == flow.text(1)
    assert [r[2] for r in flow.rows()] == [1]
    flow.approve("lisi", instance_id)
    assert flow.doc_no(instance_id) == flow.text(1)


def test_the_year_starts_its_own_counter_at_one(flow):
    with flow.core.db.write() as conn:
        assert register.allocate(conn, "示例办发", 2026, None).number == 1
        assert register.allocate(conn, "示例办发", 2026, None).number == 2
        assert register.allocate(conn, "示例办发", 2027, None).text == "示例办发〔2027〕1号"


def test_set_next_continues_a_paper_register_and_never_goes_back(flow):
    first = flow.start()
    flow.number(first)
    result = doc_numbers.set_next(flow.core, "admin", "示例办发", flow.year, 40, "接续纸质登记簿")
    assert (result["was"], result["next"]) == (2, 40)
    second = flow.start()
    flow.number(second)
    assert flow.doc_no(second) == flow.text(40)
    with pytest.raises(InvalidData) as caught:
        doc_numbers.set_next(flow.core, "admin", "示例办发", flow.year, 40, None)
    assert [e.field for e in caught.value.errors] == ["next"]
    assert "40" in caught.value.errors[0].message
    assert flow.events("doc_no_changed") == [f"示例办发〔{flow.year}〕下一个文号：2 → 40（原因：接续纸质登记簿）"]


def test_a_voided_number_left_void_is_never_given_again(flow):
    first = flow.start()
    flow.number(first)
    with pytest.raises(InvalidData) as caught:
        doc_numbers.void(flow.core, "admin", "示例办发", flow.year, 1, "  ")
    assert [e.field for e in caught.value.errors] == ["reason"]
    doc_numbers.void(flow.core, "admin", "示例办发", flow.year, 1, "文件撤销")
    assert flow.doc_no(first) is None  # the instance no longer holds it
    second = flow.start()
    flow.number(second)
    assert flow.doc_no(second) == flow.text(2)
    assert flow.events("doc_no_voided") == [f"{flow.text(1)}：已使用 → 作废（原因：文件撤销）"]


def test_a_voided_number_made_reusable_is_taken_first(flow):
    ids = [flow.start(title=f"第{n}份") for n in range(3)]
    for instance_id in ids:
        flow.number(instance_id)
    doc_numbers.void(flow.core, "admin", "示例办发", flow.year, 2, "重复编号", reuse=True)
    doc_numbers.void(flow.core, "admin", "示例办发", flow.year, 1, "文件撤销", reuse=True)
    again = [flow.start(title="再发一份"), flow.start(title="又一份"), flow.start(title="第三份")]
    for instance_id in again:
        flow.number(instance_id)
    assert [flow.doc_no(i) for i in again] == [flow.text(1), flow.text(2), flow.text(4)]


def test_reserved_numbers_are_skipped_and_can_be_assigned(flow):
    assert doc_numbers.reserve(flow.core, "admin", "示例办发", flow.year, number=2, reason="留给年度报告")[
        "numbers"
    ] == [2]
    assert doc_numbers.reserve(flow.core, "admin", "示例办发", flow.year, count=2)["numbers"] == [1, 3]
    with pytest.raises(Conflict):
        doc_numbers.reserve(flow.core, "admin", "示例办发", flow.year, number=2)
    instance_id = flow.start()
    flow.number(instance_id)
    assert flow.doc_no(instance_id) == flow.text(4)
    draft = flow.start(title="年度报告")
    result = doc_numbers.assign(flow.core, "admin", "示例办发", flow.year, 2, draft)
    assert result["doc_no"] == flow.doc_no(draft) == flow.text(2)
    flow.number(draft)  # 编号 completes: it keeps the assigned number
    assert flow.doc_no(draft) == flow.text(2)
    with pytest.raises(Conflict):
        doc_numbers.assign(flow.core, "admin", "示例办发", flow.year, 4, draft)  # not reserved
    (counter,) = doc_numbers.list_counters(flow.core, "admin")
    assert counter == {
        "prefix": "示例办发",
        "year": flow.year,
        "next": 5,
        "next_text": flow.text(5),
        "allocated": 2,
        "voided": 0,
        "reusable": [],
        "reserved": 2,
        "reserved_numbers": [1, 3],
    }
    assert flow.events("doc_no_reserved") == [
        f"示例办发〔{flow.year}〕预留文号 2（原因：留给年度报告）",
        f"示例办发〔{flow.year}〕预留文号 1、3",
    ]
    assert flow.events("doc_no_assigned") == [f"分配预留文号：{flow.text(2)}"]


def test_only_the_keepers_may_change_the_register(flow):
    for call in (
        lambda: doc_numbers.list_counters(flow.core, "zhangsan"),
        lambda: doc_numbers.set_next(flow.core, "zhangsan", "示例办发", flow.year, 5),
        lambda: doc_numbers.void(flow.core, "zhangsan", "示例办发", flow.year, 1, "x"),
        lambda: doc_numbers.reserve(flow.core, "zhangsan", "示例办发", flow.year, number=1),
    ):
        with pytest.raises(Forbidden):
            call()
    assert flow.rows() == []


def test_documents_are_found_by_number_title_and_year_by_those_who_may_see_them(flow):
    numbered = flow.start(title="关于春节放假的通知")
    flow.number(numbered)
    draft = flow.start(title="关于年终总结的通知")
    found = documents.search(flow.core, "admin", doc_no=flow.text(1))
    assert [(i["id"], i["doc_no"]) for i in found["items"]] == [(numbered, flow.text(1))]
    assert [i["id"] for i in documents.search(flow.core, "admin")["items"]] == [draft, numbered]
    assert [i["id"] for i in documents.search(flow.core, "zhangsan", q="年终")["items"]] == [draft]
    assert [i["id"] for i in documents.search(flow.core, "wangfang", doc_no="示例办发")["items"]] == [numbered]
    assert documents.search(flow.core, "chenjing")["items"] == []  # no part in either
    assert documents.search(flow.core, "admin", year=flow.year - 1)["items"] == []
    assert documents.search(flow.core, "admin", year=flow.year)["total"] == 2


def test_fifty_allocations_at_once_leave_no_gap_and_no_duplicate(flow, backend):
    ids = [flow.start(title=f"并发{n}") for n in range(50)]
    for instance_id in ids:
        flow.approve("sunli", instance_id)
    items = [flow.item("wangfang", i) for i in ids]
    barrier = threading.Barrier(len(items))
    failures = []

    def decide(item_id: int) -> None:
        barrier.wait()
        try:
            decisions.complete(flow.core, "wangfang", item_id, {}, "approve", "同意")
        except Exception as exc:  # noqa: BLE001 — collected and reported below
            failures.append(repr(exc))

    threads = [threading.Thread(target=decide, args=(i,)) for i in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    numbers = sorted(r[2] for r in flow.rows())
    assert numbers == list(range(1, 51))
    assert sorted(flow.doc_no(i) for i in ids) == sorted(flow.text(n) for n in range(1, 51))


def test_voiding_the_number_of_a_finished_document_does_not_finish_it_again(flow):
    instance_id = flow.start()
    flow.number(instance_id)
    flow.approve("lisi", instance_id)
    ended = flow.events("ended")
    doc_numbers.void(flow.core, "admin", "示例办发", flow.year, 1, "登记错误", reuse=True)
    assert flow.doc_no(instance_id) is None
    assert flow.events("ended") == ended
    with flow.core.db.read() as conn:
        shown = detail.instance_detail(flow.core, conn, users.find_user(conn, "zhangsan"), instance_id)
    assert (shown["status"], shown["ended_at"] is not None) == ("approved", True)
    assert shown["history"][-1]["label"] == "文号作废"
    assert flow.rows() == [("示例办发", flow.year, 1, "reusable", None)]
