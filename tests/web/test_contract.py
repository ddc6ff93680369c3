"""合同会签 end to end through the REST API.

zhangsan drafts; 部门负责人审核 (sunli) → 部门会签 (财务部 chenjing + 法务部 zhaolei, + 办公室 wangfang for
工程类; all must approve, an opinion is required, any 不同意 returns it to the drafter) → 分管领导审批
(huangwei) → 总经理审批 (zhengqiang) when the amount is ≥ 500000 → 用印 (zhouwen, role 文书: the form
needs seal_type and copies) → 已通过. After every call the work items agree with the SpiffWorkflow state.
"""

from __future__ import annotations

import pytest
from support import Ops

COUNTERSIGN = "Task_countersign"


def contract(**overrides) -> dict:
    return {
        "contract_name": "办公楼改造工程合同",
        "counterparty": "某某建设有限公司",
        "amount": 800000,
        "contract_type": "工程类",
        "payment_terms": "签订后预付 30%，验收后付清",
        "main_terms": "三楼会议室及走廊改造，工期 60 天",
        **overrides,
    }


def start(ops: Ops, **overrides) -> int:
    return ops.start("contract_countersign", **contract(**overrides))


def countersign(ops: Ops, instance_id: int, signers: list[str]) -> None:
    """Each 会签 signer approves with an opinion; the node stays open until the last one."""
    for index, user in enumerate(signers):
        assert ops.open_items(instance_id) == [(COUNTERSIGN, u) for u in signers[index:]]
        assert ops.detail(instance_id, "zhangsan")["current_nodes"] == ["部门会签"] * (len(signers) - index)
        ops.decide(user, instance_id, opinion=f"{user} 会签同意")


def seal(ops: Ops, instance_id: int) -> dict:
    item_id = ops.mine("zhouwen", instance_id)
    return ops.complete("zhouwen", item_id, opinion="已用印", data={"seal_type": "合同专用章", "copies": 4})


# --- routes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contract_type", "amount", "signers", "general_manager"),
    [
        ("工程类", 800000, ["chenjing", "zhaolei", "wangfang"], True),
        ("工程类", 500000, ["chenjing", "zhaolei", "wangfang"], True),
        ("采购类", 120000, ["chenjing", "zhaolei"], False),
        ("采购类", 499999.99, ["chenjing", "zhaolei"], False),
        ("服务类", 600000, ["chenjing", "zhaolei"], True),
    ],
    ids=["engineering-800k", "engineering-500k", "purchase-120k", "purchase-just-below", "service-600k"],
)
def test_contract_route(ops, core, contract_type, amount, signers, general_manager):
    instance_id = start(ops, contract_type=contract_type, amount=amount, contract_name="测试合同")
    detail = ops.detail(instance_id, "zhangsan")
    assert detail["title"] == "张三的合同会签：测试合同"
    assert detail["process_name"] == "合同会签"

    assert ops.open_items(instance_id) == [("Task_dept_review", "sunli")]
    ops.decide("sunli", instance_id, opinion="业务需要，同意")

    # 部门会签: one node, all signers in parallel, each with an opinion.
    item = ops.item(signers[0], ops.mine(signers[0], instance_id))
    assert (item["node_name"], item["sign_mode"], item["sign_mode_label"]) == ("部门会签", "all", "会签")
    assert item["opinion_required"] is True
    assert [s["assignee"] for s in item["signers"]] == signers
    countersign(ops, instance_id, signers)

    assert ops.open_items(instance_id) == [("Task_vp", "huangwei")]
    ops.decide("huangwei", instance_id)
    if general_manager:
        assert ops.open_items(instance_id) == [("Task_gm", "zhengqiang")]
        ops.decide("zhengqiang", instance_id)
    assert ops.open_items(instance_id) == [("Task_seal", "zhouwen")]

    assert seal(ops, instance_id)["status"] == "approved"

    detail = ops.detail(instance_id, "zhangsan")
    assert (detail["status"], detail["status_label"]) == ("approved", "已通过")
    assert detail["data"]["seal_type"] == "合同专用章" and detail["data"]["copies"] == 4
    steps = [
        "Task_dept_review",
        *[COUNTERSIGN] * len(signers),
        "Task_vp",
        *(["Task_gm"] if general_manager else []),
        "Task_seal",
    ]
    assert [(e["type"], e["node"]) for e in detail["history"]] == [
        ("started", "StartEvent_draft"),
        *[("approved", node) for node in steps],
        ("ended", None),
    ]
    assert [e["label"] for e in detail["history"]][:2] == ["发起申请", "同意"]
    assert ops.notifications("zhangsan", "result") == ["您的申请“张三的合同会签：测试合同”已通过"]


def test_countersign_requires_an_opinion(ops):
    instance_id = start(ops)
    ops.decide("sunli", instance_id)
    item_id = ops.mine("chenjing", instance_id)
    ops.field_error(
        "chenjing", f"/work-items/{item_id}/complete", {"decision": "approve"}, "opinion", "本节点要求填写审批意见"
    )
    ops.field_error(
        "chenjing",
        f"/work-items/{item_id}/complete",
        {"decision": "reject", "opinion": "  "},
        "opinion",
        "不同意时必须填写意见",
    )


# --- 不同意 in 会签 returns to the drafter ----------------------------------------------------------------


def test_any_disagreement_in_countersign_returns_to_the_drafter_and_the_route_is_walked_again(ops):
    instance_id = start(ops)
    ops.decide("sunli", instance_id, opinion="同意")
    ops.decide("chenjing", instance_id, opinion="付款条件可以")

    ops.decide("zhaolei", instance_id, "reject", "违约责任条款缺失")

    # wangfang's open 会签 item is cancelled; zhangsan holds the application for rework.
    assert ops.status(instance_id) == "running"
    assert ops.items(instance_id) == [
        ("Task_dept_review", "sunli", "done", "approve", None),
        (COUNTERSIGN, "chenjing", "done", "approve", None),
        (COUNTERSIGN, "zhaolei", "done", "reject", None),
        (COUNTERSIGN, "wangfang", "cancelled", None, "节点已被否决"),
        ("StartEvent_draft", "zhangsan", "open", None, None),
    ]
    history = ops.history(instance_id)
    assert [(e["type"], e["label"], e["actor"], e["message"]) for e in history[-2:]] == [
        ("rejected", "不同意", "zhaolei", None),
        ("sent_back", "退回", None, "按节点设置，不同意即退回发起人修改"),
    ]
    assert history[-2]["opinion"] == "违约责任条款缺失"
    assert ops.notifications("zhangsan", "returned") == [
        "您的申请“张三的合同会签：办公楼改造工程合同”已退回：违约责任条款缺失"
    ]
    resubmit_id = ops.mine("zhangsan", instance_id)
    resubmit = ops.item("zhangsan", resubmit_id)
    assert (resubmit["node_name"], resubmit["actions"]) == ("发起人修改后重新提交", ["resubmit", "cancel"])
    assert resubmit["form"]["title"] == "合同会签"  # the draft form, to correct
    assert ops.todo("wangfang") == []

    # The corrected draft is validated like a new one.
    ops.field_error(
        "zhangsan",
        f"/work-items/{resubmit_id}/complete",
        {"decision": "approve", "data": contract(amount=0)},
        "amount",
        "合同金额（元）必须大于 0",
    )

    corrected = contract(main_terms="三楼改造，工期 60 天；增加违约责任条款", amount=450000, contract_type="采购类")
    ops.complete("zhangsan", resubmit_id, opinion=None, data=corrected)

    # Walked again from the start: sunli, then 会签 (now 采购类: two signers), then 分管领导 — no 总经理.
    assert ops.detail(instance_id)["data"]["amount"] == 450000
    assert ops.open_items(instance_id) == [("Task_dept_review", "sunli")]
    ops.decide("sunli", instance_id, opinion="已补充违约条款，同意")
    countersign(ops, instance_id, ["chenjing", "zhaolei"])
    ops.decide("huangwei", instance_id)
    assert ops.open_items(instance_id) == [("Task_seal", "zhouwen")]
    assert seal(ops, instance_id)["status"] == "approved"
    types = [e["type"] for e in ops.history(instance_id)]
    assert types.count("resubmitted") == 1 and types[-1] == "ended"


def test_first_disagreement_cancels_every_other_signer(ops):
    instance_id = start(ops)
    ops.decide("sunli", instance_id)

    ops.decide("wangfang", instance_id, "reject", "工期不合理")

    assert [i for i in ops.items(instance_id) if i[0] == COUNTERSIGN] == [
        (COUNTERSIGN, "chenjing", "cancelled", None, "节点已被否决"),
        (COUNTERSIGN, "zhaolei", "cancelled", None, "节点已被否决"),
        (COUNTERSIGN, "wangfang", "done", "reject", None),
    ]
    assert ops.open_items(instance_id) == [("StartEvent_draft", "zhangsan")]


def test_department_review_disagreement_also_returns_to_the_drafter(ops):
    instance_id = start(ops, contract_type="采购类", amount=80000)
    ops.decide("sunli", instance_id, "reject", "先询价三家")
    assert ops.open_items(instance_id) == [("StartEvent_draft", "zhangsan")]
    corrected = contract(contract_type="采购类", amount=78000)
    ops.complete("zhangsan", ops.mine("zhangsan", instance_id), opinion=None, data=corrected)
    assert ops.open_items(instance_id) == [("Task_dept_review", "sunli")]


def test_drafter_may_cancel_instead_of_resubmitting(ops):
    instance_id = start(ops)
    ops.decide("sunli", instance_id)
    ops.decide("chenjing", instance_id, "reject", "预算不足")
    ops.do("zhangsan", f"/instances/{instance_id}/cancel", {"reason": "项目取消"})
    assert ops.status(instance_id) == "cancelled"
    assert ops.open_items(instance_id) == []


# --- 用印 ------------------------------------------------------------------------------------------


def at_seal(ops: Ops) -> int:
    instance_id = start(ops, contract_type="采购类", amount=30000)
    ops.decide("sunli", instance_id)
    countersign(ops, instance_id, ["chenjing", "zhaolei"])
    ops.decide("huangwei", instance_id)
    assert ops.open_items(instance_id) == [("Task_seal", "zhouwen")]
    return instance_id


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"copies": 2}, "seal_type", "请填写用印类型"),
        ({"seal_type": "合同专用章"}, "copies", "请填写用印份数"),
        ({"seal_type": "私章", "copies": 2}, "seal_type", "用印类型必须是以下之一：合同专用章、公章"),
        ({"seal_type": "公章", "copies": 0}, "copies", "用印份数不能小于 1"),
        ({"seal_type": "公章", "copies": 51}, "copies", "用印份数不能大于 50"),
        ({"seal_type": "公章", "copies": 2.5}, "copies", "用印份数的格式不正确"),
        ({"seal_type": "公章", "copies": 2, "stamp_by": "x"}, "stamp_by", "表单中没有这个字段"),
    ],
    ids=["no-seal-type", "no-copies", "unknown-seal", "zero-copies", "too-many", "fraction", "unknown-field"],
)
def test_seal_form_is_validated(ops, data, field, message):
    instance_id = at_seal(ops)
    item_id = ops.mine("zhouwen", instance_id)
    ops.field_error("zhouwen", f"/work-items/{item_id}/complete", {"decision": "approve", "data": data}, field, message)


def test_seal_node_allows_only_transfer_and_cc(ops):
    instance_id = at_seal(ops)
    item_id = ops.mine("zhouwen", instance_id)
    assert ops.item("zhouwen", item_id)["actions"] == ["approve", "reject", "transfer", "cc"]
    assert ops.item("zhouwen", item_id)["form"]["required"] == ["seal_type", "copies"]
    ops.refused("zhouwen", f"/work-items/{item_id}/send-back", {"opinion": "x"}, 403, "本节点不允许退回")
    ops.refused("zhouwen", f"/work-items/{item_id}/delegate", {"to_user": "wangfang"}, 403, "本节点不允许委派")

    ops.do("zhouwen", f"/work-items/{item_id}/transfer", {"to_user": "wangfang", "opinion": "我休假"})
    wangfang_item = ops.mine("wangfang", instance_id)
    result = ops.complete("wangfang", wangfang_item, opinion="已盖章", data={"seal_type": "公章", "copies": 2})
    assert result["status"] == "approved"


# --- the draft itself ---------------------------------------------------------------------------------


def test_invalid_draft_names_every_bad_field_and_stores_nothing(ops, row_counts):
    before = row_counts()
    response = ops.api("zhangsan").post(
        "/api/v1/instances",
        json={"process": "contract_countersign", "data": contract(amount=-5, contract_type="租赁类", main_terms="")},
    )
    assert response.status_code == 422
    assert {e["field"]: e["message"] for e in response.get_json()["errors"]} == {
        "amount": "合同金额（元）必须大于 0",
        "contract_type": "合同类型必须是以下之一：工程类、采购类、服务类、其他",
        "main_terms": "请填写主要条款",
    }
    assert row_counts() == before
