"""The 请假 process end to end through the REST API: who approves each step, 不同意, the leader-applicant
skip and automatic approval, what the applicant and 人事部 are told, and the four inbox boxes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.store.tables import notification, user_account

DEPT = ("Task_dept_leader", "部门负责人审批", "sunli")
VP = ("Task_vp", "分管领导审批", "huangwei")
GM = ("Task_gm", "总经理审批", "zhengqiang")

# days → the approval steps zhangsan's request passes through, in order (> 3 adds 分管, > 10 adds 总经理).
ROUTES = {
    2: [DEPT],
    3: [DEPT],
    3.5: [DEPT, VP],
    5: [DEPT, VP],
    10: [DEPT, VP],
    10.5: [DEPT, VP, GM],
    12: [DEPT, VP, GM],
}


def notifications(core, username: str, kind: str | None = None) -> list[tuple[str, str, int]]:
    """(kind, title, instance_id) of every message written to a user's outbox, oldest first."""
    with core.db.read() as conn:
        query = (
            select(notification.c.kind, notification.c.title, notification.c.instance_id)
            .join(user_account, user_account.c.id == notification.c.user_id)
            .where(user_account.c.username == username)
            .order_by(notification.c.id)
        )
        rows = [tuple(row) for row in conn.execute(query)]
    return [row for row in rows if kind is None or row[0] == kind]


def inbox(api, user: str, box: str = "todo", **params) -> dict:
    response = api(user).get("/api/v1/work-items", query_string={"box": box, **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- approval routes ------------------------------------------------------------------------------


@pytest.mark.parametrize("days", list(ROUTES))
def test_route_depends_on_days_and_ends_approved(leave, api, core, days):
    steps = ROUTES[days]
    started = leave.start(days=days)
    instance_id = started["id"]
    assert started["status"] == "running"
    assert started["title"] == f"张三的请假申请（年假 {days} 天）"
    assert started["initiator"] == "zhangsan"
    assert started["version"] == 1

    result = None
    for node, name, approver in steps:
        # Exactly one open step, held by the expected approver, who sees it in 待办 and was told.
        assert [(w["node"], w["assignee"]) for w in leave.open_items(instance_id)] == [(node, approver)]
        assert leave.detail(instance_id)["current_nodes"] == [name]
        item = leave.my_item(approver, instance_id)
        assert item["node_name"] == name and item["initiator_name"] == "张三"
        todo = f"您有新的待办：{started['title']}（{name}）"
        assert ("todo", todo, instance_id) in notifications(core, approver)
        assert leave.detail(instance_id)["status"] == "running"
        response = leave.complete(approver, item["id"], "approve", f"{approver}：同意")
        assert response.status_code == 200, response.get_json()
        result = response.get_json()
        # The step left the approver's 待办 and is in 已办 with the decision.
        assert all(i["instance_id"] != instance_id for i in inbox(api, approver)["items"])
        done = [i for i in inbox(api, approver, "done")["items"] if i["instance_id"] == instance_id]
        assert [(i["node"], i["decision"], i["opinion"]) for i in done] == [(node, "approve", f"{approver}：同意")]

    assert result["status"] == "approved"
    detail = leave.detail(instance_id, "zhangsan")
    assert detail["status"] == "approved"
    assert detail["status_label"] == "已通过"
    assert detail["ended_at"] is not None
    assert detail["current_nodes"] == []
    assert [(w["node"], w["assignee"], w["kind"], w["status"], w["decision"]) for w in detail["work_items"]] == [
        *[(node, approver, "approve", "done", "approve") for node, _, approver in steps],
        ("Task_cc_hr", "liuyang", "cc", "open", None),
    ]

    history = [(e["type"], e["actor"], e["node"], e["opinion"]) for e in detail["history"]]
    assert history == [
        ("started", "zhangsan", "StartEvent_apply", None),
        *[("approved", approver, node, f"{approver}：同意") for node, _, approver in steps],
        ("cc", None, "Task_cc_hr", None),
        ("ended", None, None, None),
    ]
    assert detail["history"][-2]["message"] == "已知会刘洋"
    assert detail["history"][-1]["message"] == "流程结束：已通过"

    # The applicant is told once, and 人事部 gets a 知会 copy in 抄送我的.
    assert notifications(core, "zhangsan", "result") == [
        ("result", f"您的申请“张三的请假申请（年假 {days} 天）”已通过", instance_id)
    ]
    cc = inbox(api, "liuyang", "cc")
    assert cc["total"] == 1
    assert [(i["instance_id"], i["node"], i["read"], i["instance_status"]) for i in cc["items"]] == [
        (instance_id, "Task_cc_hr", False, "approved")
    ]
    assert ("cc", f"知会：{started['title']}", instance_id) in notifications(core, "liuyang")
    # A 知会 copy is not a 待办: liuyang has nothing to approve, but may read the request.
    assert inbox(api, "liuyang")["total"] == 0
    assert api("liuyang").get(f"/api/v1/instances/{instance_id}").status_code == 200


# --- 不同意 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "level"),
    [(2, 0), (5, 0), (5, 1), (12, 0), (12, 1), (12, 2)],
    ids=["2d-dept", "5d-dept", "5d-vp", "12d-dept", "12d-vp", "12d-gm"],
)
def test_reject_at_any_step_ends_the_instance(leave, api, core, days, level):
    steps = ROUTES[days]
    instance_id = leave.start(days=days)["id"]
    for _node, _name, approver in steps[:level]:
        leave.decide(approver, instance_id)
    node, _name, approver = steps[level]

    result = leave.decide(approver, instance_id, "reject", "时间太长，请分两次休")

    assert result["status"] == "rejected"
    detail = leave.detail(instance_id, "zhangsan")
    assert (detail["status"], detail["status_label"]) == ("rejected", "不通过")
    assert detail["ended_at"] is not None
    assert detail["current_nodes"] == []
    # No open item remains, later steps were never created, 人事部 is not told.
    assert [w for w in detail["work_items"] if w["status"] == "open"] == []
    assert [w["node"] for w in detail["work_items"]] == [n for n, _, _ in steps[: level + 1]]
    assert detail["work_items"][-1]["decision"] == "reject"
    assert all(w["kind"] == "approve" for w in detail["work_items"])
    assert inbox(api, "liuyang", "cc")["total"] == 0

    history = [(e["type"], e["actor"], e["node"], e["opinion"]) for e in detail["history"]]
    assert history == [
        ("started", "zhangsan", "StartEvent_apply", None),
        *[("approved", a, n, "同意") for n, _, a in steps[:level]],
        ("rejected", approver, node, "时间太长，请分两次休"),
        ("ended", None, None, None),
    ]
    assert detail["history"][-1]["message"] == "流程结束：不通过"
    assert notifications(core, "zhangsan", "result") == [
        ("result", f"您的申请“张三的请假申请（年假 {days} 天）”不通过", instance_id)
    ]
    done = inbox(api, approver, "done")["items"]
    assert [(i["instance_id"], i["decision"], i["opinion"], i["instance_status"]) for i in done] == [
        (instance_id, "reject", "时间太长，请分两次休", "rejected")
    ]
    for _node, _name, later in steps[level + 1 :]:
        assert inbox(api, later)["total"] == 0


@pytest.mark.parametrize("opinion", [None, "", "   "], ids=["missing", "empty", "blank"])
def test_reject_without_opinion_is_refused(leave, opinion):
    instance_id = leave.start()["id"]
    item = leave.my_item("sunli", instance_id)

    response = leave.complete("sunli", item["id"], "reject", opinion)

    assert response.status_code == 422
    body = response.get_json()
    assert [e["field"] for e in body["errors"]] == ["opinion"]
    assert "意见" in body["errors"][0]["message"]
    # Nothing changed: the item is still open and the history holds only the start.
    detail = leave.detail(instance_id)
    assert detail["status"] == "running"
    assert [(w["assignee"], w["status"]) for w in detail["work_items"]] == [("sunli", "open")]
    assert [e["type"] for e in detail["history"]] == ["started"]


def test_approve_without_opinion_is_fine(leave):
    instance_id = leave.start()["id"]
    item = leave.my_item("sunli", instance_id)
    response = leave.complete("sunli", item["id"], "approve", None)
    assert response.status_code == 200
    assert response.get_json()["status"] == "approved"


# --- the applicant leads the department -------------------------------------------------------------


def test_leader_applicant_is_approved_by_the_next_level(leave, core):
    instance_id = leave.start("sunli", days=2)["id"]

    detail = leave.detail(instance_id)
    assert [(w["node"], w["assignee"]) for w in leave.open_items(instance_id)] == [("Task_dept_leader", "huangwei")]
    skipped = detail["history"][1]
    assert (skipped["type"], skipped["node"]) == ("skipped", "Task_dept_leader")
    assert "黄伟" in skipped["message"]
    assert "sunli" not in {w["assignee"] for w in detail["work_items"]}

    assert leave.decide("huangwei", instance_id)["status"] == "approved"
    detail = leave.detail(instance_id, "sunli")
    assert [(e["type"], e["actor"], e["node"]) for e in detail["history"]] == [
        ("started", "sunli", "StartEvent_apply"),
        ("skipped", None, "Task_dept_leader"),
        ("approved", "huangwei", "Task_dept_leader"),
        ("cc", None, "Task_cc_hr"),
        ("ended", None, None),
    ]
    assert notifications(core, "sunli", "result")[0][1].endswith("已通过")


def test_leader_applicant_five_days_second_step_is_approved_automatically(leave, api):
    instance_id = leave.start("sunli", days=5)["id"]
    assert [(w["node"], w["assignee"]) for w in leave.open_items(instance_id)] == [("Task_dept_leader", "huangwei")]

    # huangwei decides once; 分管领导审批 would go to him again, so it passes on its own.
    assert leave.decide("huangwei", instance_id, opinion="准假")["status"] == "approved"

    detail = leave.detail(instance_id, "sunli")
    assert detail["status"] == "approved"
    assert [(w["node"], w["assignee"], w["kind"]) for w in detail["work_items"]] == [
        ("Task_dept_leader", "huangwei", "approve"),
        ("Task_cc_hr", "liuyang", "cc"),
    ]
    assert [(e["type"], e["actor"], e["node"], e["opinion"]) for e in detail["history"]] == [
        ("started", "sunli", "StartEvent_apply", None),
        ("skipped", None, "Task_dept_leader", None),
        ("approved", "huangwei", "Task_dept_leader", "准假"),
        ("auto_approved", "huangwei", "Task_vp", None),
        ("cc", None, "Task_cc_hr", None),
        ("ended", None, None, None),
    ]
    auto = detail["history"][3]
    assert auto["message"] == "与上一节点审批人相同，自动通过"
    assert auto["decision"] == "approve"
    assert inbox(api, "huangwei", "done")["total"] == 1
    assert inbox(api, "huangwei")["total"] == 0


def test_leader_applicant_twelve_days_goes_on_to_the_general_manager(leave):
    instance_id = leave.start("sunli", days=12)["id"]
    leave.decide("huangwei", instance_id)

    assert [(w["node"], w["assignee"]) for w in leave.open_items(instance_id)] == [("Task_gm", "zhengqiang")]
    assert leave.decide("zhengqiang", instance_id)["status"] == "approved"

    detail = leave.detail(instance_id, "sunli")
    assert [(e["type"], e["actor"], e["node"]) for e in detail["history"]] == [
        ("started", "sunli", "StartEvent_apply"),
        ("skipped", None, "Task_dept_leader"),
        ("approved", "huangwei", "Task_dept_leader"),
        ("auto_approved", "huangwei", "Task_vp"),
        ("approved", "zhengqiang", "Task_gm"),
        ("cc", None, "Task_cc_hr"),
        ("ended", None, None),
    ]


def test_different_consecutive_approvers_are_never_auto_approved(leave):
    instance_id = leave.start(days=12)["id"]
    for _node, _name, approver in ROUTES[12]:
        leave.decide(approver, instance_id)
    types = [e["type"] for e in leave.detail(instance_id)["history"]]
    assert "auto_approved" not in types and "skipped" not in types


# --- inbox boxes ----------------------------------------------------------------------------------


def ids(result: dict, key: str = "instance_id") -> list[int]:
    return [item[key] for item in result["items"]]


def test_inbox_boxes_totals_search_and_pages(leave, api):
    annual = leave.start(days=2, leave_type="年假")["id"]
    sick = leave.start(days=5, leave_type="病假")["id"]
    personal = leave.start(days=1, leave_type="事假")["id"]

    todo = inbox(api, "sunli")
    assert todo["total"] == 3
    assert ids(todo) == [personal, sick, annual]  # newest first
    assert {(i["node_name"], i["status"], i["initiator_name"]) for i in todo["items"]} == {
        ("部门负责人审批", "open", "张三")
    }
    assert inbox(api, "zhangsan")["total"] == 0

    leave.decide("sunli", annual)
    leave.decide("sunli", sick, "reject", "病假请附病历")

    todo = inbox(api, "sunli")
    assert (todo["total"], ids(todo)) == (1, [personal])
    done = inbox(api, "sunli", "done")
    assert done["total"] == 2
    assert [(i["instance_id"], i["decision"]) for i in done["items"]] == [(sick, "reject"), (annual, "approve")]

    started = inbox(api, "zhangsan", "started")
    assert started["total"] == 3
    assert [(i["instance_id"], i["status"]) for i in started["items"]] == [
        (personal, "running"),
        (sick, "rejected"),
        (annual, "approved"),
    ]
    assert started["items"][0]["current_nodes"] == "部门负责人审批"

    cc = inbox(api, "liuyang", "cc")
    assert (cc["total"], ids(cc)) == (1, [annual])

    me = api("sunli").get("/api/v1/me").get_json()["counts"]
    assert (me["todo"], me["done"]) == (1, 2)
    assert api("zhangsan").get("/api/v1/me").get_json()["counts"]["started"] == 3
    assert api("liuyang").get("/api/v1/me").get_json()["counts"]["cc"] == 1

    # q searches the title, within the box.
    assert ids(inbox(api, "sunli", "todo", q="事假")) == [personal]
    assert inbox(api, "sunli", "todo", q="年假")["total"] == 0
    assert ids(inbox(api, "sunli", "done", q="病假")) == [sick]
    assert ids(inbox(api, "zhangsan", "started", q="年假 2 天")) == [annual]
    assert inbox(api, "zhangsan", "started", q="婚假")["total"] == 0
    assert ids(inbox(api, "liuyang", "cc", q="张三")) == [annual]

    # Pages: the total stays the whole box; pages never overlap.
    first = inbox(api, "zhangsan", "started", per_page=2, page=1)
    second = inbox(api, "zhangsan", "started", per_page=2, page=2)
    third = inbox(api, "zhangsan", "started", per_page=2, page=3)
    assert (first["total"], second["total"], third["total"]) == (3, 3, 3)
    assert (first["per_page"], first["page"], second["page"]) == (2, 1, 2)
    assert ids(first) == [personal, sick]
    assert ids(second) == [annual]
    assert ids(third) == []
    assert inbox(api, "zhangsan", "started", per_page=100000)["per_page"] == 100


def test_inbox_todo_pagination_counts_items(leave, api):
    started = [leave.start(days=1)["id"] for _ in range(5)]
    pages = [inbox(api, "sunli", per_page=2, page=page) for page in (1, 2, 3)]
    assert [p["total"] for p in pages] == [5, 5, 5]
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert [i for p in pages for i in ids(p)] == started[::-1]


@pytest.mark.parametrize("box", ["bogus", "", "TODO"])
def test_inbox_rejects_unknown_box(api, box):
    response = api("zhangsan").get("/api/v1/work-items", query_string={"box": box})
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["box"]


def test_inbox_rejects_non_numeric_page(api):
    response = api("zhangsan").get("/api/v1/work-items", query_string={"box": "todo", "page": "abc"})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "page"
