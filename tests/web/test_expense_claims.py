"""费用报销 through the REST API: every route by amount (< 5,000, ≥ 5,000, ≥ 50,000), 退回 by 财务审核 and
resubmission, 不通过 and 撤销 releasing the reserved budget, payment consuming it, and a claim over budget
refused (process setting `refuse`) or let through with a warning and an extra 分管领导 step (`warn`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from support import LeaveFlow, sign_in

from engine.process import definitions, library
from engine.work.kernel import claims

YEAR = datetime.now(ZoneInfo("Asia/Shanghai")).year


def lines(*amounts) -> list[dict]:
    return [
        {"date": f"{YEAR}-03-0{n + 1}", "summary": f"第 {n + 1} 笔", "amount": a, "receipts": 1}
        for n, a in enumerate(amounts)
    ]


def claim_data(*amounts, expense_type="差旅费", department="业务部") -> dict:
    return {
        "claimant": "张三",
        "department": department,
        "expense_type": expense_type,
        "lines": lines(*amounts),
    }


class Claims:
    def __init__(self, api, leave_flow):
        self.api = api
        self.flow = leave_flow

    def budget(self, amount, category="差旅费", department="业务部", year=YEAR):
        body = {"department": department, "category": category, "year": year, "amount": amount}
        client = self.api("admin")
        response = client.client.put("/api/v1/budgets", json=body, headers=client.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def line(self, category="差旅费", department="业务部") -> dict:
        found = self.api("admin").get(f"/api/v1/budgets?year={YEAR}&department={department}").get_json()["items"]
        return next(b for b in found if b["category"] == category)

    def submit(self, data, user="zhangsan"):
        return self.api(user).post("/api/v1/instances", json={"process": "expense_claim", "data": data})

    def start(self, *amounts, user="zhangsan") -> dict:
        response = self.submit(claim_data(*amounts), user)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def approvers(self, instance_id) -> list[str]:
        return [w["node_name"] for w in self.flow.detail(instance_id)["work_items"] if w["kind"] == "approve"]

    def pay(self, instance_id):
        item = self.flow.my_item("fengyan", instance_id)
        body = {
            "decision": "approve",
            "opinion": "已付款",
            "data": {"pay_method": "银行转账", "pay_date": f"{YEAR}-04-01"},
        }
        response = self.api("fengyan").post(f"/api/v1/work-items/{item['id']}/complete", json=body)
        assert response.status_code == 200, response.get_json()
        return response.get_json()


@pytest.fixture
def expense(api, leave_data):
    return Claims(api, LeaveFlow(api, leave_data))


def test_a_small_claim_goes_leader_finance_cashier_and_consumes_the_budget(expense):
    expense.budget(10000)
    started = expense.start(1200.5, 300.25, 99.25)
    detail = expense.flow.detail(started["id"])
    assert detail["data"]["total"] == 1600  # the server adds the lines up
    assert expense.line()["reserved"] == "1600.00" and expense.line()["remaining"] == "8400.00"
    expense.flow.decide("sunli", started["id"])
    expense.flow.decide("qianhui", started["id"])
    assert expense.pay(started["id"])["status"] == "approved"
    assert expense.approvers(started["id"]) == ["部门负责人审批", "财务审核", "出纳付款登记"]
    budget = expense.line()
    assert (budget["reserved"], budget["consumed"], budget["remaining"]) == ("0.00", "1600.00", "8400.00")
    assert expense.flow.detail(started["id"])["data"]["pay_method"] == "银行转账"


def test_from_5000_the_supervising_leader_approves(expense):
    expense.budget(100000)
    started = expense.start(3000, 2000)
    for user in ("sunli", "qianhui", "huangwei"):
        expense.flow.decide(user, started["id"])
    assert expense.pay(started["id"])["status"] == "approved"
    assert expense.approvers(started["id"]) == ["部门负责人审批", "财务审核", "分管领导审批", "出纳付款登记"]


def test_from_50000_the_general_manager_approves_too(expense):
    expense.budget(100000)
    started = expense.start(30000, 20000)
    for user in ("sunli", "qianhui", "huangwei", "zhengqiang"):
        expense.flow.decide(user, started["id"])
    assert expense.pay(started["id"])["status"] == "approved"
    assert expense.approvers(started["id"]) == [
        "部门负责人审批",
        "财务审核",
        "分管领导审批",
        "总经理审批",
        "出纳付款登记",
    ]
    assert expense.line()["consumed"] == "50000.00"


def test_finance_sends_back_naming_the_lines_and_the_corrected_claim_holds_its_new_total(expense):
    expense.budget(10000)
    started = expense.start(1000, 2000, 300)
    expense.flow.decide("sunli", started["id"])
    item = expense.flow.my_item("qianhui", started["id"])
    body = {"to_node": "initiator", "opinion": "第 2 行票据不全，第 3 行摘要不清"}
    response = expense.api("qianhui").post(f"/api/v1/work-items/{item['id']}/send-back", json=body)
    assert response.status_code == 200, response.get_json()
    history = expense.flow.detail(started["id"], "zhangsan")
    assert "第 2 行票据不全" in str(history)
    returned = expense.flow.my_item("zhangsan", started["id"])
    fixed = claim_data(1000, 1500)
    response = expense.flow.complete("zhangsan", returned["id"], data=fixed)
    assert response.status_code == 200, response.get_json()
    assert expense.line()["reserved"] == "2500.00"  # the old hold released, the new total held
    expense.flow.decide("qianhui", started["id"])  # straight back to 财务审核 (resubmit=direct)
    assert expense.pay(started["id"])["status"] == "approved"
    assert expense.line()["consumed"] == "2500.00" and expense.line()["reserved"] == "0.00"


def test_rejection_releases_the_budget(expense):
    expense.budget(10000)
    started = expense.start(4000)
    expense.flow.decide("sunli", started["id"])
    assert expense.flow.decide("qianhui", started["id"], "reject", "不符合报销规定")["status"] == "rejected"
    budget = expense.line()
    assert (budget["reserved"], budget["consumed"], budget["remaining"]) == ("0.00", "0.00", "10000.00")


def test_cancelling_releases_the_budget(expense):
    expense.budget(10000)
    started = expense.start(4000)
    expense.flow.decide("sunli", started["id"])
    response = expense.api("zhangsan").post(f"/api/v1/instances/{started['id']}/cancel", json={"reason": "填错了"})
    assert response.status_code == 200, response.get_json()
    assert expense.line()["reserved"] == "0.00" and expense.line()["remaining"] == "10000.00"


def test_a_claim_over_budget_is_refused_with_the_figures_and_nothing_is_stored(expense, core):
    expense.budget(1000)
    expense.start(600)
    response = expense.submit(claim_data(300, 200))
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors[0]["field"] == "total"
    assert "预算余额 ¥400.00，本次报销 ¥500.00，超出预算 ¥100.00" in errors[0]["message"]
    assert expense.line()["reserved"] == "600.00"
    no_budget = expense.submit(claim_data(10, expense_type="培训"))
    assert no_budget.status_code == 422 and "预算余额 ¥0.00" in no_budget.get_json()["errors"][0]["message"]


def test_a_bad_line_is_named_by_row_and_column(expense):
    expense.budget(1000)
    data = claim_data(100, 200)
    data["lines"][1]["amount"] = -5
    response = expense.submit(data)
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"field": "lines", "message": "费用明细第 2 行：金额（元）必须大于 0"}]


def _warn_mode(core):
    files = library.library_files()
    files["expense_claim.bpmn"] = files["expense_claim.bpmn"].replace(b'value="refuse"', b'value="warn"')
    with core.db.write() as conn:
        definitions.deploy(conn, files, None)


def test_warn_mode_lets_an_over_budget_claim_go_on_with_a_warning_and_an_extra_step(expense, core):
    _warn_mode(core)
    expense.budget(1000)
    response = expense.submit(claim_data(1200))
    assert response.status_code == 201, response.get_json()
    started = response.get_json()
    assert "超出预算" in started["warning"] and "超出预算 ¥200.00" in started["warning"]
    assert expense.line()["remaining"] == "-200.00"
    for user in ("sunli", "qianhui", "huangwei"):  # 分管领导 although the total is below 5,000
        expense.flow.decide(user, started["id"])
    assert expense.pay(started["id"])["status"] == "approved"
    assert expense.line()["consumed"] == "1200.00"
    assert claims.FLAG == "budget_over"


def test_the_remaining_budget_for_the_form(expense):
    expense.budget(10000)
    expense.start(2500)
    found = expense.api("zhangsan").get("/api/v1/processes/expense_claim/budget").get_json()
    assert found["department"] == "业务部" and found["year"] == YEAR and found["mode"] == "refuse"
    left = {c["category"]: c["remaining"] for c in found["categories"]}
    assert left["差旅费"] == "7500.00" and left["培训"] is None
    assert Decimal(left["差旅费"]) == Decimal("7500")


def test_the_budget_page_sets_and_imports_budgets_and_names_a_bad_field(client, core):
    token = sign_in(client, core, "admin")
    body = {"department": "业务部", "category": "培训", "year": str(YEAR), "amount": "abc", "csrf_token": token}
    refused = client.post("/admin/budgets", data=body, follow_redirects=True)
    assert "预算金额必须是不小于 0 的金额" in refused.get_data(as_text=True)
    saved = client.post("/admin/budgets", data={**body, "amount": "8000"})
    assert saved.status_code == 303
    pasted = f"部门,费用类型,年度,预算金额\n财务部,办公用品,{YEAR},1200.5\n"
    imported = client.post("/admin/budgets/import", data={"csv": pasted, "csrf_token": token}, follow_redirects=True)
    page = imported.get_data(as_text=True)
    assert "已导入 1 条预算" in page and "¥8000.00" in page and "¥1200.50" in page


def test_the_start_form_posts_its_rows_and_names_the_bad_one(client, core, expense):
    expense.budget(5000)
    token = sign_in(client, core, "zhangsan")
    form = client.get("/start/expense_claim").get_data(as_text=True)
    assert "预算余额" in form and "¥5,000.00" in form and 'value="张三"' in form
    body = {
        "claimant": "张三", "department": "业务部", "expense_type": "差旅费", "csrf_token": token, "priority": "正常",
        "lines-0-date": f"{YEAR}-03-01", "lines-0-summary": "车票", "lines-0-amount": "100",
        "lines-3-date": f"{YEAR}-03-02", "lines-3-summary": "住宿", "lines-3-amount": "0",
    }  # fmt: skip
    refused = client.post("/start/expense_claim", data=body, follow_redirects=True).get_data(as_text=True)
    assert "费用明细第 2 行：金额（元）必须大于 0" in refused
    assert expense.line()["reserved"] == "0.00"
    over = client.post("/start/expense_claim", data={**body, "lines-3-amount": "4950.5"}, follow_redirects=True)
    assert "超出预算 ¥50.50" in over.get_data(as_text=True)
    done = client.post("/start/expense_claim", data={**body, "lines-3-amount": "400"})
    assert done.status_code == 302 and expense.line()["reserved"] == "500.00"
