"""The budget ledger on both databases: the year a claim counts in, the hold staying with its year's budget
when it is paid in the next year, imports from Excel, CSV and JSON (all rows or none), and 20 claims
submitted at once never overspending."""

from __future__ import annotations

import io
import threading
from datetime import datetime

import orjson
import pytest
from openpyxl import Workbook
from sqlalchemy import select

from engine.budget import ledger
from engine.errors import Forbidden, InvalidData
from engine.store.tables import user_account, work_item
from engine.work import budgets, decisions, initiate
from engine.work.kernel import claims


def _data(amount, department="业务部") -> dict:
    return {
        "claimant": "张三",
        "department": department,
        "expense_type": "差旅费",
        "lines": [{"date": "2026-03-01", "summary": "车票", "amount": amount}],
    }


def _line(core, year, category="差旅费", department="业务部"):
    with core.db.read() as conn:
        return ledger.line(conn, ledger.department_id(conn, department), category, year)


def _this_year(core) -> int:
    with core.db.read() as conn:
        return claims.budget_year(conn)


def test_the_budget_year_is_the_office_calendar_year(core):
    with core.db.read() as conn:
        assert claims.budget_year(conn, datetime(2026, 12, 31, 15, 59)) == 2026  # 23:59 in Shanghai
        assert claims.budget_year(conn, datetime(2026, 12, 31, 16, 0)) == 2027  # 00:00 on New Year's Day


def test_a_claim_paid_in_the_next_year_is_consumed_from_the_year_it_reserved(core, time_machine):
    time_machine.move_to(datetime(2026, 12, 30, 2, 0), tick=False)
    budgets.set_budget(core, "admin", "业务部", "差旅费", 2026, "3000")
    budgets.set_budget(core, "admin", "业务部", "差旅费", 2027, "5000")
    started = initiate.start(core, "zhangsan", "expense_claim", _data(2000))
    assert _line(core, 2026).reserved == 2000
    time_machine.move_to(datetime(2027, 1, 4, 2, 0), tick=False)
    for user in ("sunli", "qianhui"):
        _decide(core, user, started["id"])
    _decide(core, "fengyan", started["id"], {"pay_method": "现金", "pay_date": "2027-01-04"})
    old, new = _line(core, 2026), _line(core, 2027)
    assert (old.reserved, old.consumed, old.left) == (0, 2000, 1000)
    assert (new.reserved, new.consumed, new.left) == (0, 0, 5000)
    initiate.start(core, "zhangsan", "expense_claim", _data(4500))  # a claim of 2027 holds 2027's budget
    assert _line(core, 2027).reserved == 4500 and _line(core, 2026).reserved == 0


def _decide(core, user, instance_id, data=None):
    with core.db.read() as conn:
        item = conn.execute(
            select(work_item.c.id)
            .join(user_account, user_account.c.id == work_item.c.assignee_id)
            .where(
                work_item.c.instance_id == instance_id, user_account.c.username == user, work_item.c.status == "open"
            )
        ).scalar_one()
    decisions.complete(core, user, item, data or {}, "approve", "同意")


def test_import_from_excel_csv_and_json(core):
    book = Workbook()
    sheet = book.active
    sheet.append(["部门", "费用类型", "年度", "预算金额（元）"])
    sheet.append(["业务部", "差旅费", 2026, 12000.5])
    sheet.append(["财务部", "培训", 2026, "3000"])
    raw = io.BytesIO()
    book.save(raw)
    assert budgets.import_budgets(core, "admin", "xlsx", raw.getvalue()) == {"imported": 2}
    assert _line(core, 2026).amount == 12000.5
    csv = "department,category,year,amount\n业务部,差旅费,2026,15000\n办公室,办公用品,2026,800.00\n".encode("gb18030")
    assert budgets.import_budgets(core, "admin", "csv", csv) == {"imported": 2}
    assert _line(core, 2026).amount == 15000
    body = orjson.dumps({"budgets": [{"department": "法务部", "category": "培训", "year": 2026, "amount": "100"}]})
    assert budgets.import_budgets(core, "admin", "json", body) == {"imported": 1}
    assert _line(core, 2026, "培训", "法务部").amount == 100


def test_an_import_with_a_bad_row_stores_nothing_and_names_the_rows(core):
    csv = (
        "部门,费用类型,年度,预算金额\n业务部,差旅费,2026,15000\n业务部,旅游,2026,-1\n没有的部门,培训,2026,1\n".encode()
    )
    with pytest.raises(InvalidData) as refused:
        budgets.import_budgets(core, "admin", "csv", csv)
    message = refused.value.errors[0].message
    assert "第 3 行：费用类型必须是以下之一" in message and "第 3 行：预算金额必须是不小于 0 的金额" in message
    assert _line(core, 2026) is None  # the good first row was not kept either
    with pytest.raises(InvalidData) as unknown:
        budgets.import_budgets(core, "admin", "csv", "部门,费用类型,年度,预算金额\n没有的部门,培训,2026,1\n".encode())
    assert "第 2 行：部门“没有的部门”不存在" in unknown.value.errors[0].message


def test_only_administrators_keep_budgets(core):
    with pytest.raises(Forbidden):
        budgets.set_budget(core, "sunli", "业务部", "差旅费", 2026, "1")


def test_twenty_claims_at_once_never_overspend(core, backend):
    year = _this_year(core)
    budgets.set_budget(core, "admin", "业务部", "差旅费", year, "10000")
    barrier = threading.Barrier(20)
    accepted, refused, failures = [], [], []

    def submit(n: int) -> None:
        user = ("zhangsan", "lisi")[n % 2]
        barrier.wait()
        try:
            accepted.append(initiate.start(core, user, "expense_claim", _data(1000 + n))["id"])
        except InvalidData as exc:
            refused.append(exc.errors[0].message)
        except Exception as exc:  # noqa: BLE001 — collected and reported below
            failures.append(repr(exc))

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    line = _line(core, year)
    assert len(accepted) + len(refused) == 20
    assert len(accepted) == 9 and all("超出预算" in m for m in refused)
    assert line.reserved <= line.amount and line.left >= 0
    with core.db.read() as conn:
        holds = [ledger.hold_of(conn, i) for i in accepted]
    assert sum(h.amount for h in holds) / 100 == line.reserved


def test_an_import_names_a_file_row_by_its_line_even_after_blank_lines(core):
    csv = "部门,费用类型,年度,预算金额\n,,,\n业务部,培训,2026,x\n".encode()
    with pytest.raises(InvalidData) as refused:
        budgets.import_budgets(core, "admin", "csv", csv)
    assert refused.value.errors[0].message.startswith("第 3 行：预算金额")
