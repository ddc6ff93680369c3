"""The approval operations in a real browser (Debian's chromium driven by Playwright): 退回 and 重新提交,
前加签, 转办, 委派, 撤回/催办/撤销, 代理设置, and the whole 合同会签 with three parallel signers."""

from __future__ import annotations

import browser_office
import pytest

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())  # 撤回 / 撤销 ask for confirmation
    yield tab
    context.close()


class Office(browser_office.Office):
    """The 请假 steps besides the shared ones."""

    def open_started(self, title: str) -> None:
        self.page.goto(f"{self.base}/inbox/started")
        self.page.click(f"table.inbox a:has-text('{title}')")
        self.page.wait_for_url("**/instances/*")

    def more(self, operation: str) -> None:
        """Open one block of 更多操作 (退回, 转办, 加签 …)."""
        self.page.click(f"#op-{operation} > summary")

    def flash(self) -> str:
        self.page.wait_for_selector(".flash-success, .flash-error")
        return self.page.inner_text("main")

    def start_leave(self, end_date: str = "2026-11-24", reason: str = "回老家探亲") -> None:
        """A 年假 from Monday 2026-11-23 to `end_date` (天数 is computed from the dates)."""
        self.page.goto(f"{self.base}/start/leave")
        self.page.select_option("[name=leave_type]", "年假")
        self.page.fill("[name=start_date]", "2026-11-23")
        self.page.fill("[name=end_date]", end_date)
        self.page.fill("[name=reason]", reason)
        self.page.click("button:has-text('提交')")
        self.page.wait_for_url("**/instances/*")

    def draw_signature(self) -> None:
        self.page.click("summary:has-text('手写签名')")
        canvas = self.page.locator(".sigpad canvas")
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        x, y = box["x"] + 40, box["y"] + box["height"] / 2
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        for step in range(1, 30):
            self.page.mouse.move(x + step * 9, y + (18 if step % 6 < 3 else -18))
        self.page.mouse.up()
        assert self.page.input_value("#d-signature").startswith("data:image/png;base64,")


@pytest.fixture
def office(page, live_url) -> Office:
    return Office(page, live_url)


def test_send_back_then_resubmit(office):
    page = office.page
    office.login("zhangsan")
    office.start_leave()

    # 孙丽 sends it back; a blank reason is refused next to the field, the form stays open.
    office.login("sunli")
    office.open_task("张三的请假申请")
    office.more("send_back")
    assert page.input_value("#sb-to_node") == "initiator"  # no earlier node: the previous step is the drafter
    page.fill("#sb-opinion", "   ")
    page.click("#op-send_back button[type=submit]")
    page.wait_for_selector("#err-sb-opinion")
    assert "退回时必须填写意见" in page.inner_text("#err-sb-opinion")
    assert page.locator("#op-send_back").get_attribute("open") is not None
    page.fill("#sb-opinion", "请补充工作交接人")
    page.click("#op-send_back button[type=submit]")
    page.wait_for_url("**/inbox/todo*")
    assert "已退回至发起人（张三）" in office.flash()

    # 张三 sees why, corrects the application and resubmits it.
    office.login("zhangsan")
    office.open_task("张三的请假申请")
    assert "申请已退回，请修改后重新提交" in page.inner_text("#returned-note")
    assert "请补充工作交接人" in page.inner_text("#returned-note")
    assert page.input_value("[name=reason]") == "回老家探亲"  # prefilled with what was submitted
    page.select_option("[name=handover]", "lisi")
    page.click("button:has-text('重新提交')")
    page.wait_for_url("**/instances/*")
    body = office.flash()
    assert "已重新提交" in body and "审批中" in body

    # 孙丽 approves the corrected application; 张三 sees 已通过 with 退回 and 重新提交 in the 流转记录.
    office.login("sunli")
    office.open_task("张三的请假申请")
    assert "李四" in page.inner_text("main")
    office.approve("同意")
    office.login("zhangsan")
    office.open_started("张三的请假申请")
    body = page.inner_text("main")
    assert "已通过" in body
    for expected in ("退回", "退回至发起人（张三）", "请补充工作交接人", "重新提交"):
        assert expected in body, expected


def test_add_signer_before(office):
    page = office.page
    office.login("zhangsan")
    office.start_leave()

    # 孙丽 asks 刘洋 (人事部) to approve before her: her own item waits.
    office.login("sunli")
    office.open_task("张三的请假申请")
    office.more("add_signers")
    page.fill("#op-add_signers .people-filter", "刘洋")
    assert not page.locator("#op-add_signers input[value=zhaolei]").is_visible()  # filtered out
    page.check("#op-add_signers input[name=users][value=liuyang]")
    page.check("#op-add_signers input[name=position][value=before]")
    page.fill("#as-opinion", "请人事部先核对假期余额")
    page.click("#op-add_signers button[type=submit]")
    page.wait_for_url("**/work-items/*")
    body = office.flash()
    assert "已加签：刘洋（前加签）" in body
    assert "暂不能处理：等待前加签人处理" in body
    signers = page.inner_text("#signers")
    assert "刘洋" in signers and "前加签" in signers and "等待" in signers
    page.goto(f"{office.base}/inbox/todo")
    assert "等待他人处理" in page.inner_text("main")

    # 刘洋 approves first and sees who is waiting for him.
    office.login("liuyang")
    office.open_task("张三的请假申请")
    assert "孙丽" in page.inner_text("#signers")
    office.approve("年假余额充足")

    # 孙丽's item is back; she sees 刘洋's opinion on the node and decides.
    office.login("sunli")
    office.open_task("张三的请假申请")
    signers = page.inner_text("#signers")
    assert "年假余额充足" in signers and "同意" in signers
    office.approve("同意")
    office.login("zhangsan")
    office.open_started("张三的请假申请")
    body = page.inner_text("main")
    assert "已通过" in body and "前加签：刘洋" in body


def test_parallel_add_then_remove_signer(office):
    """并加签 then 减签: the signer added alongside me can be taken off again before acting."""
    page = office.page
    office.login("zhangsan")
    office.start_leave()

    office.login("sunli")
    office.open_task("张三的请假申请")
    office.more("add_signers")
    page.check("#op-add_signers input[name=users][value=liuyang]")
    page.check("#op-add_signers input[name=position][value=parallel]")
    page.click("#op-add_signers button[type=submit]")
    page.wait_for_url("**/work-items/*")
    assert "已加签：刘洋（并加签）" in office.flash()
    assert "并加签" in page.inner_text("#signers")

    office.more("remove_signers")
    page.check("#op-remove_signers input[name=users][value=liuyang]")
    page.click("#op-remove_signers button[type=submit]")
    page.wait_for_url("**/work-items/*")
    assert "已减签：刘洋" in office.flash()
    assert "已被减签" in page.inner_text("#signers")
    assert page.locator("#op-remove_signers").count() == 0
    office.approve("同意")


def test_recall_from_done_box(office):
    """撤回审批: 孙丽 takes back her 同意 from 已办 while 黄伟 (next step) has not acted."""
    page = office.page
    office.login("zhangsan")
    office.start_leave(end_date="2026-11-27")  # 5 days, more than 3: 分管领导审批 follows

    office.login("sunli")
    office.open_task("张三的请假申请")
    office.approve("同意")
    page.goto(f"{office.base}/inbox/done")
    page.click("table.inbox button:has-text('撤回')")
    page.wait_for_url("**/instances/*")
    body = office.flash()
    assert "已撤回审批" in body and "您有一项待办" in body
    page.click("a:has-text('去办理')")
    page.wait_for_url("**/work-items/*")
    office.approve("同意，注意交接")

    office.login("huangwei")
    office.open_task("张三的请假申请")
    assert "撤回审批" in page.inner_text("main")  # the 流转记录 shows it


def test_transfer(office):
    page = office.page
    office.login("zhangsan")
    office.start_leave()

    office.login("sunli")
    office.open_task("张三的请假申请")
    office.more("transfer")
    page.select_option("#tr-to_user", "wangfang")
    page.fill("#tr-opinion", "本周出差，请王主任办理")
    page.click("#op-transfer button[type=submit]")
    page.wait_for_url("**/inbox/todo*")
    assert "已转办给王芳" in office.flash()
    assert page.locator("table.inbox a:has-text('张三的请假申请')").count() == 0
    page.goto(f"{office.base}/inbox/done")
    assert "转办" in page.inner_text("table.inbox")

    office.login("wangfang")
    office.open_task("张三的请假申请")
    assert "转办：孙丽 → 王芳" in page.inner_text("main")
    office.approve("同意")
    office.login("zhangsan")
    office.open_started("张三的请假申请")
    body = page.inner_text("main")
    assert "已通过" in body and "王芳" in body


def test_delegate_and_resolve(office):
    """委派: the delegatee handles it and hands it back; the delegator still decides."""
    page = office.page
    office.login("zhangsan")
    office.start_leave()

    office.login("sunli")
    office.open_task("张三的请假申请")
    office.more("delegate")
    page.select_option("#dl-to_user", "lisi")
    page.click("#op-delegate button[type=submit]")
    page.wait_for_url("**/inbox/todo*")
    assert "已委派给李四" in office.flash()

    office.login("lisi")
    office.open_task("张三的请假申请")
    assert "办理后交回委派人决定" in page.inner_text("#delegated-note")
    assert page.locator("button[value=reject]").count() == 0
    page.fill("#d-opinion", "已核实，交接安排妥当")
    page.click("button:has-text('办理完成')")
    page.wait_for_url("**/inbox/todo*")
    assert "已办理完成" in office.flash()

    office.login("sunli")
    office.open_task("张三的请假申请")
    assert "已核实，交接安排妥当" in page.inner_text("#signers")
    office.approve("同意")


def test_withdraw_urge_cancel(office):
    page = office.page
    office.login("zhangsan")
    office.start_leave()

    # 撤回: nobody has acted yet, so 张三 may pull it back; it waits in his 待办 for correction.
    page.click("button:has-text('撤回申请')")
    page.wait_for_url("**/instances/*")
    assert "已撤回申请" in office.flash()
    office.open_task("张三的请假申请")
    page.click("button:has-text('重新提交')")
    page.wait_for_url("**/instances/*")

    # 催办 the current handler, then 撤销 with a reason (required).
    page.click("#op-urge > summary")
    page.fill("#ur-message", "明天出发，请尽快")
    page.click("#op-urge button[type=submit]")
    assert "已催办：孙丽" in office.flash()
    page.click("#op-cancel > summary")
    page.fill("#cx-reason", " ")
    page.click("#op-cancel button[type=submit]")
    page.wait_for_selector("#err-cx-reason")
    page.fill("#cx-reason", "行程取消")
    page.click("#op-cancel button[type=submit]")
    page.wait_for_url("**/instances/*")
    body = office.flash()
    assert "已撤销申请" in body and "已撤销" in body and "行程取消" in body
    assert page.locator("#ops").count() == 0  # nothing left to do


def test_delegation_settings(office):
    """代理: 孙丽 names 李四 for her absence; her waiting items move, marked 代理 孙丽; she ends it early."""
    page = office.page
    office.login("zhangsan")
    office.start_leave()

    office.login("sunli")
    page.click(".usermenu summary")
    page.click(".usermenu a:has-text('代理设置')")
    page.wait_for_url("**/settings/delegation")
    page.select_option("#dg-delegate", "lisi")
    page.check("input[name=scope][value=some]")
    page.check("input[name=processes][value=leave]")
    page.fill("#dg-reason", "出差")
    page.check("input[name=move_existing]")
    page.click("#new-delegation button[type=submit]")
    page.wait_for_url("**/settings/delegation")
    body = office.flash()
    assert "由李四代理" in body and "已转交 1 项待办" in body
    table = page.inner_text("table.delegations")
    assert "生效中" in table and "请假申请" in table

    office.login("lisi")
    assert "代理 孙丽" in page.inner_text("table.inbox")
    office.open_task("张三的请假申请")
    assert "代理 孙丽" in page.inner_text("main")

    office.login("sunli")
    page.goto(f"{office.base}/settings/delegation")
    page.click("button:has-text('提前结束')")
    page.wait_for_url("**/settings/delegation")
    assert "已结束李四的代理" in office.flash()
    assert "已结束" in page.inner_text("table.delegations")


def test_contract_countersign_with_three_parallel_signers(office):
    """合同会签 (工程类, 600,000 元): 张三 drafts → 孙丽 → 陈静, 赵磊, 王芳 in parallel → 黄伟 → 郑强 →
    周文 用印 → 张三 sees 已通过, every opinion and the handwritten signature in the 流转记录."""
    page = office.page
    office.login("zhangsan")
    page.goto(f"{office.base}/start/contract_countersign")
    page.fill("[name=contract_name]", "办公楼改造工程")
    page.fill("[name=counterparty]", "某建设工程有限公司")
    page.fill("[name=amount]", "600000")
    page.select_option("[name=contract_type]", "工程类")
    page.fill("[name=payment_terms]", "签订后预付 30%，验收后付清")
    page.fill("[name=main_terms]", "工期 90 天，质保两年")
    page.click("button:has-text('提交')")
    page.wait_for_url("**/instances/*")
    assert "部门负责人审核" in page.inner_text("main")

    office.login("sunli")
    office.open_task("办公楼改造工程")
    page.fill("#d-opinion", "同意，请各部门会签")
    office.draw_signature()
    page.click("button[value=approve]")
    page.wait_for_url("**/inbox/todo*")

    # 部门会签: three parallel signers, opinion required; each sees the others' state and opinions.
    office.login("chenjing")
    office.open_task("办公楼改造工程")
    signers = page.inner_text("#signers")
    assert "会签" in signers
    for name in ("陈静", "赵磊", "王芳"):
        assert name in signers
    assert page.locator("#d-opinion").get_attribute("required") is not None  # 意见必填 on this node
    page.select_option("select[data-phrase-for=d-opinion]", "同意，请按规定办理")  # a 常用意见
    assert page.input_value("#d-opinion") == "同意，请按规定办理"
    page.fill("#d-opinion", "财务部同意，预算已落实")
    page.check("#decide input[name=save_phrase]")
    office.approve()
    assert "已保存为常用意见" in page.inner_text("main")

    office.login("zhaolei")
    office.open_task("办公楼改造工程")
    signers = page.inner_text("#signers")
    assert "财务部同意，预算已落实" in signers  # 陈静's opinion, already given
    office.approve("法务部同意，条款无异议")

    office.login("wangfang")
    office.open_task("办公楼改造工程")
    office.approve("办公室同意")

    office.login("huangwei")
    office.open_task("办公楼改造工程")
    office.approve("同意，报总经理")

    office.login("zhengqiang")
    office.open_task("办公楼改造工程")
    office.approve("同意")

    # 用印: 周文 fills the seal register (用印类型, 份数).
    office.login("zhouwen")
    office.open_task("办公楼改造工程")
    page.select_option("[name=seal_type]", "合同专用章")
    page.fill("[name=copies]", "3")
    office.approve("已用印")

    office.login("zhangsan")
    office.open_started("办公楼改造工程")
    body = page.inner_text("main")
    assert "已通过" in body
    for expected in (
        "同意，请各部门会签",
        "财务部同意，预算已落实",
        "法务部同意，条款无异议",
        "办公室同意",
        "同意，报总经理",
        "已用印",
        "合同专用章",
        "流程结束",
    ):
        assert expected in body, expected
    signature = page.locator("img.signature")
    assert signature.count() == 1
    signature.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('img.signature').naturalWidth > 0")
