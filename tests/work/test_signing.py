"""Sign modes of a node (GLOSSARY): 单人审批 with a role of two members, 会签, 或签, 依次审批, 比例通过 and
意见征集, and the reject rules end / initiator / node:<id>.

tests/data/sign_modes.bpmn routes to one node per sign mode (the form field `mode` picks it; the signers
are the form field `signers`), then 总经理确认 (zhengqiang) shows that the node passed.
tests/data/sign_reject.bpmn has 初审 (sunli) and then a 会签 node per reject rule. After every step the
work items must agree with the SpiffWorkflow state (engine.consistency.problems).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from support import DATA

from engine.errors import Conflict
from engine.org import users
from engine.process import definitions
from engine.store import audit
from engine.store.tables import instance, user_account, work_item
from engine.work import consistency, decisions, initiate, retraction, rework

FILES = ("sign_form.json", "sign_modes.bpmn", "sign_reject.bpmn")
SIGNERS = ["chenjing", "zhaolei", "wangfang"]
NAMES = {"chenjing": "陈静", "zhaolei": "赵磊", "wangfang": "王芳", "lisi": "李四", "sunli": "孙丽"}


class Signing:
    """Drives the sign-mode test processes through the engine, checking the invariant after every step."""

    def __init__(self, core):
        self.core = core
        with core.db.write() as conn:
            definitions.deploy(conn, {name: (DATA / name).read_bytes() for name in FILES}, None)

    def check(self, instance_id: int) -> None:
        assert consistency.problems(self.core, instance_id) == []

    def start(self, process: str, mode: str, signers=None, user: str = "zhangsan") -> int:
        data = {"subject": f"{mode} 测试", "mode": mode}
        if signers is not None:
            data["signers"] = list(signers)
        instance_id = initiate.start(self.core, user, process, data)["id"]
        self.check(instance_id)
        return instance_id

    def rows(self, instance_id: int, node: str | None = None) -> list:
        with self.core.db.read() as conn:
            query = (
                select(work_item, user_account.c.username)
                .join(user_account, user_account.c.id == work_item.c.assignee_id)
                .where(work_item.c.instance_id == instance_id, work_item.c.kind == "approve")
                .order_by(work_item.c.id)
            )
            if node is not None:
                query = query.where(work_item.c.node_id == node)
            return list(conn.execute(query))

    def node(self, instance_id: int, node: str) -> dict[str, tuple]:
        """{username: (status, note, decision)} of the node's latest items, one per signer."""
        return {r.username: (r.status, r.note, r.decision) for r in self.rows(instance_id, node)}

    def open_items(self, instance_id: int) -> list[tuple[str, str]]:
        return [(r.node_id, r.username) for r in self.rows(instance_id) if r.status == "open"]

    def item(self, user: str, instance_id: int, status: str = "open"):
        mine = [r for r in self.rows(instance_id) if r.username == user and r.status == status]
        assert len(mine) == 1, mine
        return mine[0]

    def decide(self, user: str, instance_id: int, decision: str = "approve", opinion: str = "同意", **kwargs):
        result = decisions.complete(self.core, user, self.item(user, instance_id).id, {}, decision, opinion, **kwargs)
        self.check(instance_id)
        return result

    def refused(self, user: str, item_id: int, decision: str = "approve", opinion: str = "同意") -> str:
        instance_id = self._instance_of(item_id)
        before = self.rows(instance_id), self.history(instance_id)
        with pytest.raises(Conflict) as caught:
            decisions.complete(self.core, user, item_id, {}, decision, opinion)
        assert (self.rows(instance_id), self.history(instance_id)) == before  # nothing stored
        self.check(instance_id)
        return caught.value.message

    def _instance_of(self, item_id: int) -> int:
        with self.core.db.read() as conn:
            return conn.execute(select(work_item.c.instance_id).where(work_item.c.id == item_id)).scalar()

    def history(self, instance_id: int) -> list[dict]:
        with self.core.db.read() as conn:
            return audit.history(conn, instance_id)

    def events(self, instance_id: int) -> list[tuple]:
        return [(e["type"], e["actor"], e["node"], e["decision"]) for e in self.history(instance_id)]

    def status(self, instance_id: int) -> str:

        with self.core.db.read() as conn:
            return conn.execute(select(instance.c.status).where(instance.c.id == instance_id)).scalar()


@pytest.fixture
def signing(core) -> Signing:
    return Signing(core)


def finish(signing: Signing, instance_id: int) -> None:
    """The node passed: 总经理确认 is the one open step; approving it ends the instance 已通过."""
    assert signing.open_items(instance_id) == [("Task_after", "zhengqiang")]
    assert signing.decide("zhengqiang", instance_id)["status"] == "approved"
    assert signing.status(instance_id) == "approved"


# --- 单人审批 ---------------------------------------------------------------------------------------


@pytest.fixture
def two_cashiers(core):
    """The role 核算员 (no demo account holds it) has two members: lisi and wangfang."""
    with core.db.write() as conn:
        for name in ("lisi", "wangfang"):
            users.grant_role(conn, users.find_user(conn, name).id, "核算员")


def test_single_with_a_role_of_two_members_first_one_decides(signing, two_cashiers):
    instance_id = signing.start("sign_modes", "single")
    rows = signing.rows(instance_id, "Task_single")
    assert [(r.username, r.status) for r in rows] == [("wangfang", "open"), ("lisi", "open")]
    assert len({r.task_id for r in rows}) == 1  # one node, two holders
    wangfang_item = signing.item("wangfang", instance_id).id

    signing.decide("lisi", instance_id, opinion="已核对")

    assert signing.node(instance_id, "Task_single") == {
        "lisi": ("done", None, "approve"),
        "wangfang": ("cancelled", "已由他人处理", None),
    }
    message = signing.refused("wangfang", wangfang_item)
    assert message == "该待办已由他人处理，无需再处理"
    assert ("approved", "lisi", "Task_single", "approve") in signing.events(instance_id)
    assert [e for e in signing.events(instance_id) if e[1] == "wangfang"] == []
    finish(signing, instance_id)


def test_single_with_a_role_of_two_members_reject_ends_it(signing, two_cashiers):
    instance_id = signing.start("sign_modes", "single")

    assert signing.decide("wangfang", instance_id, "reject", "不符合报销规定")["status"] == "rejected"

    assert signing.node(instance_id, "Task_single") == {
        "lisi": ("cancelled", "已由他人处理", None),
        "wangfang": ("done", None, "reject"),
    }
    assert signing.events(instance_id)[-2:] == [
        ("rejected", "wangfang", "Task_single", "reject"),
        ("ended", None, None, None),
    ]


# --- 会签 -------------------------------------------------------------------------------------------


def test_all_sign_passes_only_when_every_signer_approves(signing):
    instance_id = signing.start("sign_modes", "all", SIGNERS)
    assert signing.open_items(instance_id) == [("Task_all", u) for u in SIGNERS]

    for done, user in enumerate(SIGNERS[:-1], start=1):
        signing.decide(user, instance_id, opinion=f"{NAMES[user]}同意")
        # Still at 会签: the approved ones are done, the rest still open, nothing further yet.
        assert signing.open_items(instance_id) == [("Task_all", u) for u in SIGNERS[done:]]
        assert signing.status(instance_id) == "running"

    signing.decide(SIGNERS[-1], instance_id, opinion="王芳同意")

    assert signing.node(instance_id, "Task_all") == {u: ("done", None, "approve") for u in SIGNERS}
    assert [e[:3] for e in signing.events(instance_id) if e[0] == "approved"] == [
        ("approved", u, "Task_all") for u in SIGNERS
    ]
    finish(signing, instance_id)


def test_all_sign_one_reject_applies_the_reject_rule(signing):
    instance_id = signing.start("sign_modes", "all", SIGNERS)
    signing.decide("chenjing", instance_id)

    result = signing.decide("zhaolei", instance_id, "reject", "条款有风险")

    assert result["status"] == "rejected"
    assert signing.node(instance_id, "Task_all") == {
        "chenjing": ("done", None, "approve"),
        "zhaolei": ("done", None, "reject"),
        "wangfang": ("cancelled", "节点已被否决", None),
    }
    assert signing.open_items(instance_id) == []
    history = signing.history(instance_id)
    assert history[-1]["message"] == "流程结束：不通过"
    assert [(e["type"], e["opinion"]) for e in history if e["actor"] == "zhaolei"] == [("rejected", "条款有风险")]


# --- 或签 -------------------------------------------------------------------------------------------


def test_any_sign_first_approval_closes_the_node(signing):
    instance_id = signing.start("sign_modes", "any", SIGNERS)
    assert signing.open_items(instance_id) == [("Task_any", u) for u in SIGNERS]
    late = {u: signing.item(u, instance_id).id for u in ("chenjing", "wangfang")}

    signing.decide("zhaolei", instance_id, opinion="可以")

    assert signing.node(instance_id, "Task_any") == {
        "chenjing": ("cancelled", "已由他人处理", None),
        "zhaolei": ("done", None, "approve"),
        "wangfang": ("cancelled", "已由他人处理", None),
    }
    for user, item_id in late.items():
        assert signing.refused(user, item_id) == "该待办已由他人处理，无需再处理"
        assert signing.refused(user, item_id, "reject", "不同意") == "该待办已由他人处理，无需再处理"
    finish(signing, instance_id)


def test_any_sign_first_reject_closes_the_node(signing):
    instance_id = signing.start("sign_modes", "any", SIGNERS)

    assert signing.decide("wangfang", instance_id, "reject", "不同意")["status"] == "rejected"

    # GLOSSARY: the first decision — approve or reject — closes the node; the others: 已由他人处理.
    assert signing.node(instance_id, "Task_any") == {
        "chenjing": ("cancelled", "已由他人处理", None),
        "zhaolei": ("cancelled", "已由他人处理", None),
        "wangfang": ("done", None, "reject"),
    }


# --- 依次审批 ---------------------------------------------------------------------------------------


def test_sequential_signers_act_in_the_listed_order(signing, api):
    instance_id = signing.start("sign_modes", "sequential", SIGNERS)
    rows = signing.rows(instance_id, "Task_sequential")
    assert [(r.username, r.status, r.seq) for r in rows] == [
        ("chenjing", "open", 0),
        ("zhaolei", "waiting", 1),
        ("wangfang", "waiting", 2),
    ]
    zhaolei = signing.item("zhaolei", instance_id, "waiting").id

    # The second signer cannot act yet, does not see it in 待办, and is offered no action.
    assert signing.refused("zhaolei", zhaolei) == "该待办暂不能处理：等待他人处理"
    todo = api("zhaolei").get("/api/v1/work-items?box=todo").get_json()
    assert todo["total"] == 0
    detail = api("zhaolei").get(f"/api/v1/work-items/{zhaolei}").get_json()
    assert (detail["status"], detail["actions"], detail["sign_mode_label"]) == ("waiting", [], "依次审批")

    signing.decide("chenjing", instance_id, opinion="预算已核实")

    assert signing.node(instance_id, "Task_sequential") == {
        "chenjing": ("done", None, "approve"),
        "zhaolei": ("open", None, None),
        "wangfang": ("waiting", None, None),
    }
    # Now zhaolei may act and sees the previous opinion in the signer list.
    detail = api("zhaolei").get(f"/api/v1/work-items/{zhaolei}").get_json()
    assert detail["status"] == "open"
    assert detail["actions"][:2] == ["approve", "reject"]
    assert [(s["assignee"], s["status"], s["opinion"]) for s in detail["signers"]] == [
        ("chenjing", "done", "预算已核实"),
        ("zhaolei", "open", None),
        ("wangfang", "waiting", None),
    ]
    assert api("zhaolei").get("/api/v1/work-items?box=todo").get_json()["total"] == 1

    signing.decide("zhaolei", instance_id, opinion="条款无异议")
    detail = api("wangfang").get(f"/api/v1/work-items/{signing.item('wangfang', instance_id).id}").get_json()
    assert [s["opinion"] for s in detail["signers"]] == ["预算已核实", "条款无异议", None]
    signing.decide("wangfang", instance_id)

    assert [e[1] for e in signing.events(instance_id) if e[0] == "approved"] == SIGNERS
    finish(signing, instance_id)


def test_sequential_recall_puts_the_next_signer_back_in_line(signing):
    instance_id = signing.start("sign_modes", "sequential", SIGNERS)
    first = signing.item("chenjing", instance_id).id
    signing.decide("chenjing", instance_id, opinion="先同意")

    retraction.recall(signing.core, "chenjing", first)
    signing.check(instance_id)

    # chenjing decides again first; zhaolei, who had not acted, waits for that again.
    rows = signing.rows(instance_id, "Task_sequential")
    assert [(r.username, r.status, r.origin, r.note) for r in rows] == [
        ("chenjing", "cancelled", "rule", "已撤回"),
        ("zhaolei", "waiting", "rule", None),
        ("wangfang", "waiting", "rule", None),
        ("chenjing", "open", "recall", None),
    ]
    assert signing.refused("zhaolei", rows[1].id) == "该待办暂不能处理：等待他人处理"
    signing.decide("chenjing", instance_id, opinion="再次同意")
    assert signing.open_items(instance_id) == [("Task_sequential", "zhaolei")]
    signing.decide("zhaolei", instance_id)
    signing.decide("wangfang", instance_id)
    finish(signing, instance_id)


def test_sequential_reject_stops_the_line(signing):
    instance_id = signing.start("sign_modes", "sequential", SIGNERS)
    signing.decide("chenjing", instance_id)

    assert signing.decide("zhaolei", instance_id, "reject", "不同意")["status"] == "rejected"

    assert signing.node(instance_id, "Task_sequential") == {
        "chenjing": ("done", None, "approve"),
        "zhaolei": ("done", None, "reject"),
        "wangfang": ("cancelled", "节点已被否决", None),
    }


# --- 比例通过 ---------------------------------------------------------------------------------------


def test_ratio_two_of_three_passes(signing):
    instance_id = signing.start("sign_modes", "ratio", SIGNERS)
    signing.decide("chenjing", instance_id)
    signing.decide("zhaolei", instance_id, "reject", "我反对")
    # One approval, one rejection of three: 2/3 is still reachable.
    assert signing.open_items(instance_id) == [("Task_ratio", "wangfang")]
    assert signing.status(instance_id) == "running"

    signing.decide("wangfang", instance_id)

    assert signing.node(instance_id, "Task_ratio") == {
        "chenjing": ("done", None, "approve"),
        "zhaolei": ("done", None, "reject"),
        "wangfang": ("done", None, "approve"),
    }
    finish(signing, instance_id)


def test_ratio_reached_early_cancels_the_rest(signing):
    instance_id = signing.start("sign_modes", "ratio", SIGNERS)
    signing.decide("zhaolei", instance_id)
    signing.decide("wangfang", instance_id)

    assert signing.node(instance_id, "Task_ratio")["chenjing"] == ("cancelled", "已由他人处理", None)
    finish(signing, instance_id)


def test_ratio_two_of_three_fails(signing):
    instance_id = signing.start("sign_modes", "ratio", SIGNERS)
    signing.decide("chenjing", instance_id, "reject", "预算超标")
    assert signing.status(instance_id) == "running"  # one rejection: 2 of 3 is still possible

    assert signing.decide("zhaolei", instance_id, "reject", "没有必要")["status"] == "rejected"

    assert signing.node(instance_id, "Task_ratio") == {
        "chenjing": ("done", None, "reject"),
        "zhaolei": ("done", None, "reject"),
        "wangfang": ("cancelled", "未达到通过比例", None),
    }
    assert signing.history(instance_id)[-1]["message"] == "流程结束：不通过"


def test_ratio_node_sent_back_to_counts_only_the_new_votes(signing):
    # 2 of 3 passed; 总经理确认 sends it back to the 比例 node. The two who approved decide again, and
    # their first-round approvals no longer count: one new 不同意 of two signers fails the node.
    instance_id = signing.start("sign_modes", "ratio", SIGNERS)
    signing.decide("chenjing", instance_id)
    signing.decide("zhaolei", instance_id)

    rework.send_back(signing.core, "zhengqiang", signing.item("zhengqiang", instance_id).id, None, "请再表决")
    signing.check(instance_id)
    assert signing.open_items(instance_id) == [("Task_ratio", "chenjing"), ("Task_ratio", "zhaolei")]

    signing.decide("chenjing", instance_id)
    assert signing.open_items(instance_id) == [("Task_ratio", "zhaolei")]  # 1 of 2 is below 2/3
    assert signing.decide("zhaolei", instance_id, "reject", "改变主意")["status"] == "rejected"


# --- 意见征集 ---------------------------------------------------------------------------------------


def test_collect_gathers_opinions_without_veto(signing, api):
    instance_id = signing.start("sign_modes", "collect", SIGNERS[:2])
    chenjing = signing.item("chenjing", instance_id).id

    # Opinion collection has no veto: 不同意 is refused, and not offered.
    assert signing.refused("chenjing", chenjing, "reject", "不同意") == "意见征集节点不能否决：请填写意见后提交"
    actions = api("chenjing").get(f"/api/v1/work-items/{chenjing}").get_json()["actions"]
    assert "approve" in actions and "reject" not in actions

    signing.decide("chenjing", instance_id, opinion="建议压缩预算")
    assert signing.open_items(instance_id) == [("Task_collect", "zhaolei")]
    signing.decide("zhaolei", instance_id, opinion="法律上有风险，建议修改第三条")

    history = [e for e in signing.history(instance_id) if e["node"] == "Task_collect"]
    assert [(e["type"], e["label"], e["actor"], e["opinion"]) for e in history] == [
        ("commented", "提交意见", "chenjing", "建议压缩预算"),
        ("commented", "提交意见", "zhaolei", "法律上有风险，建议修改第三条"),
    ]
    finish(signing, instance_id)


# --- reject rules -------------------------------------------------------------------------------------


def at_countersign(signing: Signing, rule: str) -> int:
    instance_id = signing.start("sign_reject", rule, ["chenjing", "zhaolei"])
    signing.decide("sunli", instance_id, opinion="初审同意")
    assert signing.open_items(instance_id) == [(f"Task_{rule}", "chenjing"), (f"Task_{rule}", "zhaolei")]
    return instance_id


def test_reject_rule_end(signing):
    instance_id = at_countersign(signing, "end")

    assert signing.decide("zhaolei", instance_id, "reject", "不可行")["status"] == "rejected"

    assert signing.node(instance_id, "Task_end") == {
        "chenjing": ("cancelled", "节点已被否决", None),
        "zhaolei": ("done", None, "reject"),
    }
    assert [e[0] for e in signing.events(instance_id)][-2:] == ["rejected", "ended"]


def test_reject_rule_initiator_returns_to_the_drafter(signing):
    instance_id = at_countersign(signing, "initiator")

    result = signing.decide("chenjing", instance_id, "reject", "金额写错了")

    assert result["status"] == "running"
    assert signing.node(instance_id, "Task_initiator") == {
        "chenjing": ("done", None, "reject"),
        "zhaolei": ("cancelled", "节点已被否决", None),
    }
    resubmit = signing.item("zhangsan", instance_id)
    assert (resubmit.origin, resubmit.node_name) == ("resubmit", "发起人修改后重新提交")
    sent_back = signing.history(instance_id)[-1]
    assert (sent_back["type"], sent_back["message"]) == ("sent_back", "按节点设置，不同意即退回发起人修改")

    # The drafter corrects it; the route is walked again from 初审.
    decisions.complete(
        signing.core,
        "zhangsan",
        resubmit.id,
        {"subject": "已改正金额", "mode": "initiator", "signers": ["chenjing", "zhaolei"]},
        "approve",
        None,
    )
    signing.check(instance_id)
    assert signing.open_items(instance_id) == [("Task_first", "sunli")]
    signing.decide("sunli", instance_id)
    assert signing.open_items(instance_id) == [("Task_initiator", "chenjing"), ("Task_initiator", "zhaolei")]
    signing.decide("chenjing", instance_id)
    signing.decide("zhaolei", instance_id)
    finish(signing, instance_id)


def test_reject_rule_node_goes_back_to_the_named_node(signing):
    instance_id = at_countersign(signing, "node")

    signing.decide("zhaolei", instance_id, "reject", "请初审再核实")

    assert signing.status(instance_id) == "running"
    assert signing.open_items(instance_id) == [("Task_first", "sunli")]
    assert signing.node(instance_id, "Task_node") == {
        "chenjing": ("cancelled", "节点已被否决", None),
        "zhaolei": ("done", None, "reject"),
    }
    sent_back = signing.history(instance_id)[-1]
    assert (sent_back["type"], sent_back["node"], sent_back["message"]) == (
        "sent_back",
        "Task_node",
        "按节点设置，不同意即退回初审修改",
    )

    signing.decide("sunli", instance_id, opinion="已再核实")
    # Back at the 会签 node with its signers afresh.
    assert signing.open_items(instance_id) == [("Task_node", "chenjing"), ("Task_node", "zhaolei")]
    signing.decide("zhaolei", instance_id)
    signing.decide("chenjing", instance_id)
    finish(signing, instance_id)
