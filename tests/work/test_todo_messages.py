"""新待办 messages end with their work item: once it is closed (decided, handed over, withdrawn, cancelled …)
its 待办-type messages are read, and the bell stops asking for work that is done."""

from __future__ import annotations

from support import CONTRACT


def unread_todos(ops, user: str) -> list[dict]:
    listed = ops.api(user).get("/api/v1/notifications?unread=1&per_page=100").get_json()["items"]
    return [m for m in listed if m["kind"] == "todo"]


def test_approving_reads_the_todo_message(ops):
    instance_id = ops.start(days=2)
    (todo,) = unread_todos(ops, "sunli")
    assert todo["work_item_id"] == ops.mine("sunli", instance_id)

    ops.decide("sunli", instance_id)

    assert unread_todos(ops, "sunli") == []


def test_a_handover_reads_the_old_holders_todo_message(ops):
    instance_id = ops.start(days=2)
    item_id = ops.mine("sunli", instance_id)

    ops.do("sunli", f"/work-items/{item_id}/transfer", {"to_user": "lisi"})

    assert unread_todos(ops, "sunli") == []
    (todo,) = unread_todos(ops, "lisi")  # the new holder's is unread until they act
    assert todo["work_item_id"] == ops.mine("lisi", instance_id)
    ops.decide("lisi", instance_id)
    assert unread_todos(ops, "lisi") == []


def test_withdrawing_reads_the_approvers_todo_message(ops):
    instance_id = ops.start(days=2)
    other = ops.start(days=3)  # another application still waiting: its message stays unread
    assert len(unread_todos(ops, "sunli")) == 2

    ops.do("zhangsan", f"/instances/{instance_id}/withdraw")

    assert [m["work_item_id"] for m in unread_todos(ops, "sunli")] == [ops.mine("sunli", other)]


def test_a_node_passed_by_another_signer_reads_everyones_todo_message(ops):
    # 会签 rejected by one signer: the other signers' items are cancelled, their messages read.
    instance_id = ops.start("contract_countersign", **CONTRACT)
    ops.decide("sunli", instance_id, opinion="部门同意")
    assert [m["kind"] for m in unread_todos(ops, "chenjing")] == ["todo"]

    ops.decide("zhaolei", instance_id, decision="reject", opinion="条款有风险")

    assert unread_todos(ops, "chenjing") == unread_todos(ops, "zhaolei") == []
