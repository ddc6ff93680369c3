"""流程监控's commands through the REST API: 跳转 (back to a node passed, ahead along the route, refused when the
route cannot get there), 终止 and an administrator's 转办 — each audited as the administrator's action with
its reason, refused to anyone else with nothing stored."""

from __future__ import annotations

from engine.work import organisation


def _events(ops, instance_id: int, kind: str) -> list[dict]:
    return [e for e in ops.history(instance_id) if e["type"] == kind]


def test_jump_ahead_passes_the_nodes_on_the_way_and_says_who_and_why(ops):
    instance_id = ops.start(days=5)  # 部门负责人 → 分管领导
    assert ops.open_items(instance_id) == [("Task_dept_leader", "sunli")]
    result = ops.do(
        "admin", f"/admin/instances/{instance_id}/jump", {"node": "Task_vp", "reason": "部门负责人长期出差"}
    )
    assert result["node"] == "Task_vp"
    assert [node for node, _ in ops.open_items(instance_id)] == ["Task_vp"]
    (jumped,) = _events(ops, instance_id, "jumped")
    assert jumped["actor"] == "admin" and jumped["opinion"] == "部门负责人长期出差"
    assert jumped["label"] == "管理员跳转" and "部门负责人审批 → 分管领导审批" in jumped["message"]
    (skipped,) = _events(ops, instance_id, "skipped")
    assert skipped["node"] == "Task_dept_leader" and skipped["actor"] == "admin"
    assert [i[2:4] for i in ops.items(instance_id) if i[0] == "Task_dept_leader"] == [("cancelled", None)]


def test_jump_back_opens_the_passed_node_again_for_who_handled_it(ops):
    instance_id = ops.start(days=5)
    ops.decide("sunli", instance_id)
    assert [node for node, _ in ops.open_items(instance_id)] == ["Task_vp"]
    ops.do("admin", f"/admin/instances/{instance_id}/jump", {"node": "Task_dept_leader", "reason": "重新审核天数"})
    assert ops.open_items(instance_id) == [("Task_dept_leader", "sunli")]
    ops.decide("sunli", instance_id)  # and the route goes on from there
    assert [node for node, _ in ops.open_items(instance_id)] == ["Task_vp"]


def test_a_jump_the_route_cannot_make_changes_nothing(ops):
    instance_id = ops.start(days=2)  # two days: the route never reaches 分管领导
    body = {"node": "Task_vp", "reason": "试试"}
    result = ops.refused("admin", f"/admin/instances/{instance_id}/jump", body, 409)
    assert "到不了“分管领导审批”" in result["error"]
    ops.field_error("admin", f"/admin/instances/{instance_id}/jump", {"node": "Task_vp"}, "reason", "跳转必须填写原因")
    ops.field_error("admin", f"/admin/instances/{instance_id}/jump", {"node": "nowhere", "reason": "x"}, "node")
    ops.refused("admin", f"/admin/instances/{instance_id}/jump", {"node": "Task_dept_leader", "reason": "x"}, 409)


def test_terminate_ends_the_application_for_good(ops):
    instance_id = ops.start(days=5)
    ops.do("admin", f"/admin/instances/{instance_id}/terminate", {"reason": "重复提交"})
    detail = ops.detail(instance_id)
    assert (detail["status"], detail["status_label"]) == ("terminated", "已终止")
    assert ops.open_items(instance_id) == []
    (terminated,) = _events(ops, instance_id, "terminated")
    assert terminated["actor"] == "admin" and terminated["opinion"] == "重复提交"
    assert terminated["message"].startswith("管理员") and terminated["message"].endswith("终止了申请：重复提交")
    assert any("已终止" in title for title in ops.notifications("zhangsan", "result"))
    ops.refused("admin", f"/admin/instances/{instance_id}/terminate", {"reason": "再来"}, 409)
    assert instance_id not in ops.todo("sunli")


def test_an_administrator_hands_a_stuck_item_to_someone_else(ops):
    instance_id = ops.start(days=2)
    item_id = ops.mine("sunli", instance_id)
    ops.do("admin", f"/admin/work-items/{item_id}/reassign", {"to_user": "wangfang", "reason": "孙丽休产假"})
    assert ops.open_items(instance_id) == [("Task_dept_leader", "wangfang")]
    (moved,) = _events(ops, instance_id, "transferred")
    assert moved["actor"] == "admin" and moved["opinion"] == "孙丽休产假"
    assert moved["message"].startswith("管理员") and moved["message"].endswith("→ 王芳")
    ops.decide("wangfang", instance_id)
    assert ops.status(instance_id) == "approved"


def test_the_applicant_cannot_be_handed_their_own_item(ops):
    instance_id = ops.start(days=2)
    item_id = ops.mine("sunli", instance_id)
    ops.field_error("admin", f"/admin/work-items/{item_id}/reassign", {"to_user": "zhangsan", "reason": "x"}, "to_user")
    ops.field_error("admin", f"/admin/work-items/{item_id}/reassign", {"to_user": "sunli", "reason": "x"}, "to_user")


def test_nobody_else_may_monitor(ops):
    instance_id = ops.start(days=5)
    item_id = ops.mine("sunli", instance_id)
    for user in ("zhangsan", "sunli"):
        ops.refused(user, f"/admin/instances/{instance_id}/jump", {"node": "Task_vp", "reason": "x"}, 403)
        ops.refused(user, f"/admin/instances/{instance_id}/terminate", {"reason": "x"}, 403)
        ops.refused(user, f"/admin/work-items/{item_id}/reassign", {"to_user": "wangfang", "reason": "x"}, 403)
        assert ops.api(user).get("/api/v1/admin/instances").status_code == 403


def test_the_monitor_list_finds_by_handler_node_status_and_doc_number_prefix(ops, api):
    first = ops.start(days=5)
    second = ops.start(days=2)
    ops.decide("sunli", first)
    listed = api("admin").get("/api/v1/admin/instances", query_string={"handler": "huangwei"}).get_json()
    assert [row["id"] for row in listed["items"]] == [first]
    (row,) = listed["items"]
    assert row["current_nodes"] == ["分管领导审批"] and row["handlers"][0]["assignee"] == "huangwei"
    assert row["process"] == "leave" and row["version"] >= 1 and row["initiator"] == "zhangsan"
    by_node = api("admin").get("/api/v1/admin/instances", query_string={"node": "部门负责人"}).get_json()
    assert [r["id"] for r in by_node["items"]] == [second]
    ops.do("admin", f"/admin/instances/{second}/terminate", {"reason": "作废"})
    ended = api("admin").get("/api/v1/admin/instances", query_string={"status": "terminated"}).get_json()
    assert [r["id"] for r in ended["items"]] == [second]
    bad = api("admin").get("/api/v1/admin/instances", query_string={"status": "nope", "started_from": "2026-13-01"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"status", "started_from"}


def test_a_process_administrator_monitors_their_own_processes_only(ops, core):
    """流程管理员: the 流程监控 list shows only the processes they look after, and acting on another's
    application is refused with nothing changed; 系统管理员 see every process."""
    leave = ops.start(days=5)
    organisation.update_user(core, "admin", "wangfang", {"roles": ["process_admin"]})
    mine = ops.api("wangfang").get("/api/v1/admin/instances").get_json()
    assert mine["items"] == []  # she looks after no process yet: the page opens, empty
    everyone = ops.api("admin").get("/api/v1/admin/instances").get_json()
    assert leave in [row["id"] for row in everyone["items"]]
    ops.refused("wangfang", f"/admin/instances/{leave}/terminate", {"reason": "x"}, 403)
    assert ops.open_items(leave) == [("Task_dept_leader", "sunli")]
