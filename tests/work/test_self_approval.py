"""The applicant never decides their own application (engine.org.deciders): not through 代理, not through
转办 / 委派 / 加签, not at the top of the approval chain (the 总经理's own leave goes to the 董事长 the
organisation names); and the 流转记录 says whom a delegate acted for ("张三（代 孙丽）")."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from support import CONTRACT, sign_in

from engine.org.deciders import TOP_APPROVER_KEY
from engine.store.tables import setting, utcnow
from engine.time.working_days import to_local


def delegate_to(ops, user: str, delegate: str, **extra) -> dict:
    today = to_local(utcnow()).date()
    body = {"delegate": delegate, "starts_on": str(today), "ends_on": str(today + timedelta(days=7)), **extra}
    response = ops.api(user).post("/api/v1/delegations", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- 代理 -----------------------------------------------------------------------------------------------------


def test_a_delegate_never_gets_their_own_application(ops):
    delegate_to(ops, "sunli", "zhangsan")

    own = ops.start(days=2)  # zhangsan's own leave reaches sunli's step

    assert ops.items(own) == [("Task_dept_leader", "sunli", "open", None, None)]  # it stays with sunli
    assert own not in ops.todo("zhangsan")
    passed_over = [e for e in ops.history(own) if e["type"] == "assigned"]
    assert [e["message"] for e in passed_over] == [
        "孙丽的代理人张三是本申请的申请人，不能审批自己的申请，本待办仍由孙丽办理"
    ]
    # Someone else's application still goes to the delegate.
    other = ops.start(user="lisi", days=2)
    assert ops.items(other) == [("Task_dept_leader", "zhangsan", "open", None, "代理 孙丽")]
    assert ops.decide("sunli", own)["status"] == "approved"


def test_the_history_names_whom_a_delegate_acted_for(ops, client, core):
    delegate_to(ops, "sunli", "zhangsan")
    instance_id = ops.start(user="lisi", days=2)
    sign_in(client, core, "lisi")
    waiting = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "张三（代 孙丽）" in waiting  # the step waiting for him says so too
    (item,) = ops.leave.open_items(instance_id)
    assert item["assignee_label"] == "张三（代 孙丽）"

    ops.decide("zhangsan", instance_id, opinion="同意（代孙丽审批）")

    (approved,) = [e for e in ops.history(instance_id) if e["type"] == "approved"]
    assert (approved["actor"], approved["on_behalf_of"], approved["actor_label"]) == (
        "zhangsan",
        "sunli",
        "张三（代 孙丽）",
    )
    started = ops.history(instance_id)[0]  # nobody stood in for the applicant
    assert (started["actor_label"], started["on_behalf_of"]) == ("李四", None)
    # The application's page (also what is printed) and the item's page show it in the 流转记录.
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "张三（代 孙丽）" in page


def test_moving_waiting_items_to_a_delegate_leaves_their_own_applications(ops):
    own = ops.start(days=2)
    other = ops.start(user="lisi", days=2)

    created = delegate_to(ops, "sunli", "zhangsan", move_existing=True)

    assert created["moved"] == 1
    assert ops.items(own) == [("Task_dept_leader", "sunli", "open", None, None)]
    assert ops.items(other) == [("Task_dept_leader", "zhangsan", "open", None, "代理 孙丽")]
    ops.check()


# --- 转办, 委派, 加签 --------------------------------------------------------------------------------------------


def test_handing_an_item_to_the_applicant_is_refused(ops):
    contract = ops.start("contract_countersign", **CONTRACT)  # zhangsan's contract, at sunli
    item_id = ops.mine("sunli", contract)
    message = "张三是本申请的申请人，申请人不能审批自己的申请，不能{}给他：请选择其他人"

    ops.field_error(
        "sunli", f"/work-items/{item_id}/transfer", {"to_user": "zhangsan"}, "to_user", message.format("转办")
    )
    ops.field_error(
        "sunli", f"/work-items/{item_id}/delegate", {"to_user": "zhangsan"}, "to_user", message.format("委派")
    )
    for position, label in (("before", "前加签"), ("after", "后加签"), ("parallel", "并加签")):
        body = {"users": ["lisi", "zhangsan"], "position": position}
        ops.field_error("sunli", f"/work-items/{item_id}/add-signers", body, "users", message.format(label))

    # To anyone else it still works.
    assert ops.do("sunli", f"/work-items/{item_id}/transfer", {"to_user": "lisi"})["to"] == "lisi"


def test_the_task_page_shows_the_refusal(ops, client, core):
    contract = ops.start("contract_countersign", **CONTRACT)
    item_id = ops.mine("sunli", contract)
    token = sign_in(client, core, "sunli")

    response = client.post(f"/work-items/{item_id}/transfer", data={"to_user": "zhangsan", "csrf_token": token})

    assert response.status_code == 303  # back to the task page (Post/Redirect/Get), the refusal shown there
    assert "申请人不能审批自己的申请" in client.get(response.location).get_data(as_text=True)
    assert ops.open_items(contract) == [("Task_dept_review", "sunli")]


# --- the top of the chain --------------------------------------------------------------------------------------


def test_a_general_managers_own_leave_goes_to_the_top_approver(ops):
    instance_id = ops.start(user="zhengqiang", days=12)

    assert ops.open_items(instance_id) == [("Task_dept_leader", "wujian")]  # 董事长, not the IT administrator
    notes = [e["message"] for e in ops.history(instance_id) if e["type"] == "assigned"]
    assert notes == ["申请人郑强是审批链的最高一级，按组织设置由最高审批人吴建审批"]
    assert ops.decide("wujian", instance_id)["status"] == "approved"  # 分管 and 总经理: the same approver
    holders = {w["assignee"] for w in ops.detail(instance_id)["work_items"] if w["kind"] == "approve"}
    assert holders == {"wujian"}  # zhengqiang never held an item of his own leave


def test_without_a_top_approver_the_application_cannot_start(ops, core):
    with core.db.write() as conn:
        conn.execute(delete(setting).where(setting.c.key == TOP_APPROVER_KEY))
    before = ops.snapshot()

    response = ops.api("zhengqiang").post(
        "/api/v1/instances", json={"process": "leave", "data": ops.leave.leave_data(days=2)}
    )

    assert response.status_code == 409
    error = response.get_json()["error"]
    assert "申请人郑强本人" in error and "请管理员设置最高审批人" in error and "oaflow org top-approver" in error
    assert ops.snapshot() == before
