"""Versions of a process, their diagrams, and migrating running instances between them (admin action)."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from support import DATA, log_in

from engine.errors import NotFound
from engine.process import definitions, library, versions
from engine.store.tables import definition, event_log, instance, work_item
from engine.work import consistency, deployment, initiate, migration, rework
from webapp.cli import main

HR_STEP = """    <bpmn:userTask id="Task_hr_record" name="人事部备案">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="form" value="leave_approve" />
          <spiffworkflow:property name="assignee" value="dept_leader:人事部" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_hr_to_gw3" sourceRef="Task_hr_record" targetRef="Gateway_over3" />
""".encode()
TO_GW3 = b'<bpmn:sequenceFlow id="Flow_to_gw3" sourceRef="Task_dept_leader" targetRef="Gateway_over3" />'


def leave_with_hr_step() -> bytes:
    """Version 2 of 请假: a 人事部备案 step after the department leader."""
    xml = library.library_files()["leave.bpmn"]
    assert TO_GW3 in xml
    return xml.replace(TO_GW3, TO_GW3.replace(b'"Gateway_over3"', b'"Task_hr_record"') + b"\n" + HR_STEP)


def leave_without_dept_leader() -> bytes:
    """A version that removes the step instances wait on."""
    xml = library.library_files()["leave.bpmn"]
    xml = xml.replace(b'targetRef="Task_dept_leader"', b'targetRef="Gateway_over3"')
    start = xml.index(b'<bpmn:userTask id="Task_dept_leader"')
    end = xml.index(b"</bpmn:userTask>", start) + len(b"</bpmn:userTask>")
    xml = xml[:start] + xml[end:]
    return xml.replace(TO_GW3, b"")


def deploy_v2(core, content: bytes | None = None) -> None:
    with core.db.write() as conn:
        result = definitions.deploy(conn, {"leave.bpmn": content or leave_with_hr_step()}, None)
    assert result[0]["version"] == 2 and result[0]["created"]


def open_items(core, instance_id: int) -> list:
    with core.db.read() as conn:
        return list(
            conn.execute(
                select(work_item).where(
                    work_item.c.instance_id == instance_id, work_item.c.status == "open", work_item.c.kind == "approve"
                )
            )
        )


def definition_version(core, instance_id: int) -> int:
    with core.db.read() as conn:
        return versions.instance_version(conn, instance_id)[1]


# --- versions --------------------------------------------------------------------------------------------


def test_versions_list_counts_instances_per_status(api, leave, core):
    done = leave.start(days=1)["id"]
    leave.decide("sunli", done)
    leave.start()
    deploy_v2(core)
    leave.start()
    response = api("admin").get("/api/v1/processes/leave/versions")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [(v["version"], v["active"], v["current"], v["instances"], v["total"]) for v in items] == [
        (2, True, True, {"running": 1}, 1),
        (1, True, False, {"running": 1, "approved": 1}, 2),
    ]
    assert api("zhangsan").get("/api/v1/processes/leave/versions").status_code == 403
    assert api("admin").get("/api/v1/processes/nothing/versions").status_code == 404


def test_a_deactivated_version_starts_no_new_instances_and_running_ones_carry_on(api, leave, core):
    running = leave.start()["id"]
    deploy_v2(core)
    assert api("zhangsan").post("/api/v1/processes/leave/versions/2/deactivate").status_code == 403
    response = api("admin").post("/api/v1/processes/leave/versions/2/deactivate")
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert leave.start()["version"] == 1  # the newest active version
    on_v2 = None
    assert api("admin").post("/api/v1/processes/leave/versions/2/activate").get_json()["active"] is True
    on_v2 = leave.start()["id"]
    assert definition_version(core, on_v2) == 2
    assert leave.decide("sunli", running)["status"] == "approved"
    with core.db.read() as conn:
        messages = [
            r.message for r in conn.execute(select(event_log.c.message).where(event_log.c.type.like("version_%")))
        ]
    assert messages == ["停用流程 请假申请（leave）第 2 版", "启用流程 请假申请（leave）第 2 版"]


def test_a_redeploy_after_deactivation_gets_a_new_number(core):
    deploy_v2(core)
    deployment.set_active(core, "admin", "leave", 2, False)
    with core.db.write() as conn:
        third = definitions.deploy(conn, {"leave.bpmn": leave_without_dept_leader()}, None)
    assert (third[0]["version"], third[0]["created"]) == (3, True)


def test_diff_names_added_and_changed_nodes(api, core):
    deploy_v2(core)
    response = api("admin").get("/api/v1/processes/leave/diff?from=1&to=2")
    assert response.status_code == 200
    body = response.get_json()
    assert body["added"] == ["“人事部备案”（Task_hr_record）"]
    assert body["removed"] == []
    assert {"node": "“部门负责人审批”（Task_dept_leader）", "changes": ["去向"]} in body["changed"]


def test_every_version_has_its_diagram(api, core):
    deploy_v2(core)
    for version in (1, 2):
        response = api("admin").get(f"/api/v1/processes/leave/versions/{version}/diagram")
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
        assert response.get_data(as_text=True).startswith("<svg")
    with core.db.write() as conn:
        definitions.deploy(conn, {"simple.bpmn": _simple(), "simple_form.json": _simple_form()}, None)
    response = api("admin").get("/api/v1/processes/simple/versions/1/diagram")
    assert response.status_code == 404 and "没有图形信息（BPMN DI）" in response.get_json()["error"]


def _simple() -> bytes:

    return (DATA / "simple.bpmn").read_bytes()


def _simple_form() -> bytes:

    return (DATA / "simple_form.json").read_bytes()


# --- migration -------------------------------------------------------------------------------------------


def test_dry_run_says_which_instances_are_safe_and_why_not(api, leave, core, row_counts):
    waiting = leave.start()["id"]  # waits on the department leader: the new step lies ahead
    past = leave.start(days=5)["id"]
    leave.decide("sunli", past)  # now at the 分管领导: it would skip the new step after the department leader
    deploy_v2(core)
    before = row_counts()
    response = api("admin").post(
        "/api/v1/processes/leave/migrations/dry-run", json={"from_version": 1, "to_version": 2}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    verdicts = {item["instance_id"]: (item["safe"], item["reasons"]) for item in body["items"]}
    assert verdicts[waiting] == (True, [])
    assert verdicts[past][0] is False
    assert "已完成的节点“部门负责人审批”（Task_dept_leader）之后的流转在新版本中已改变" in verdicts[past][1][0]
    assert (body["total"], body["safe"], body["unsafe"]) == (2, 1, 1)
    assert row_counts() == before  # a dry run stores nothing
    assert (
        api("zhangsan")
        .post("/api/v1/processes/leave/migrations/dry-run", json={"from_version": 1, "to_version": 2})
        .status_code
        == 403
    )


def test_removing_the_node_an_instance_waits_on_is_unsafe(leave, core):
    waiting = leave.start()["id"]
    deploy_v2(core, leave_without_dept_leader())
    result = migration.dry_run(core, "admin", "leave", 1, 2, [waiting])
    assert result["items"][0]["safe"] is False
    assert result["items"][0]["reasons"][0] == "实例正在等待的节点“部门负责人审批”（Task_dept_leader）在新版本中已删除"


def test_migration_moves_the_safe_instances_and_their_work_items_follow(api, leave, core):
    waiting = [leave.start()["id"] for _ in range(3)]
    past = leave.start(days=5)["id"]
    leave.decide("sunli", past)
    items_before = {i: [r.id for r in open_items(core, i)] for i in waiting}
    deploy_v2(core)

    response = api("admin").post("/api/v1/processes/leave/migrations", json={"from_version": 1, "to_version": 2})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert sorted(body["migrated"]) == sorted(waiting)
    assert [i["instance_id"] for i in body["items"] if not i["safe"]] == [past]

    for instance_id in waiting:
        assert definition_version(core, instance_id) == 2
        assert [r.id for r in open_items(core, instance_id)] == items_before[instance_id]  # same work item
    assert definition_version(core, past) == 1
    with core.db.read() as conn:
        audit = [
            r.message
            for r in conn.execute(
                select(event_log.c.message).where(event_log.c.type == "migrated", event_log.c.instance_id == waiting[0])
            )
        ]
    assert audit == ["由管理员系统管理员从第 1 版迁移到第 2 版"]

    # The migrated instance follows version 2: after the department leader comes the new step.
    leave.decide("sunli", waiting[0])
    assert [r.node_id for r in open_items(core, waiting[0])] == ["Task_hr_record"]
    assert [w["assignee"] for w in leave.open_items(waiting[0])] == ["liuyang"]
    # The instance left on version 1 carries on there.
    assert leave.decide("huangwei", past)["status"] == "approved"


def test_migrating_one_instance_by_id(leave, core):
    first, second = leave.start()["id"], leave.start()["id"]
    deploy_v2(core)
    result = migration.migrate(core, "admin", "leave", 1, 2, [second])
    assert result["migrated"] == [second]
    assert (definition_version(core, first), definition_version(core, second)) == (1, 2)
    with pytest.raises(NotFound):  # it is no longer on version 1
        migration.migrate(core, "admin", "leave", 1, 2, [second])


def test_migration_refuses_bad_requests(api, core):
    deploy_v2(core)
    url = "/api/v1/processes/leave/migrations"
    assert api("admin").post(url, json={"from_version": 1}).status_code == 422
    assert api("admin").post(url, json={"from_version": 1, "to_version": 1}).status_code == 422
    assert api("admin").post(url, json={"from_version": 1, "to_version": 9}).status_code == 404
    assert api("admin").post(url, json={"from_version": 1, "to_version": 2, "instance_ids": [999]}).status_code == 404
    assert api("zhangsan").post(url, json={"from_version": 1, "to_version": 2}).status_code == 403


def test_migrated_instance_state_is_unchanged_for_ended_instances(leave, core):
    done = leave.start(days=1)["id"]
    leave.decide("sunli", done)
    deploy_v2(core)
    result = migration.migrate(core, "admin", "leave", 1, 2, [done])
    assert result["migrated"] == [] and "无需迁移" in result["items"][0]["reasons"][0]
    with core.db.read() as conn:
        version = conn.execute(
            select(definition.c.version)
            .join(instance, instance.c.definition_id == definition.c.id)
            .where(instance.c.id == done)
        ).scalar()
    assert version == 1


# --- the admin pages -------------------------------------------------------------------------------------


def test_admin_pages_are_for_administrators_only(client):
    log_in(client, "zhangsan")
    assert client.get("/admin/processes").status_code == 403
    assert "流程管理" not in client.get("/inbox/todo").get_data(as_text=True)


def test_upload_page_shows_errors_inline_and_stores_nothing(client, row_counts):
    csrf = log_in(client)
    assert "流程管理" in client.get("/inbox/todo").get_data(as_text=True)
    before = row_counts()
    bad = _simple().replace(b'targetRef="EndEvent_1"', b'targetRef="Nowhere"')
    response = client.post(
        "/admin/processes",
        data={"csrf_token": csrf, "action": "deploy", "files": [(io.BytesIO(bad), "simple.bpmn")]},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert [r.status_code for r in response.history] == [303] and response.request.path == "/admin/processes"
    page = response.get_data(as_text=True)
    assert "未写入任何内容" in page and "simple.bpmn:" in page and "Nowhere" in page
    assert row_counts() == before


def test_upload_page_validates_then_deploys(client, core):
    csrf = log_in(client)
    files = [(io.BytesIO(_simple()), "simple.bpmn"), (io.BytesIO(_simple_form()), "simple_form.json")]
    response = client.post(
        "/admin/processes",
        data={"csrf_token": csrf, "action": "validate", "files": files},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200 and "校验通过" in response.get_data(as_text=True)
    files = [(io.BytesIO(_simple()), "simple.bpmn"), (io.BytesIO(_simple_form()), "simple_form.json")]
    response = client.post(
        "/admin/processes",
        data={"csrf_token": csrf, "action": "deploy", "files": files},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200 and "新版本" in response.get_data(as_text=True)
    with core.db.read() as conn:
        assert definitions.latest(conn, "simple").version == 1


def test_versions_page_diff_and_migration_through_the_browser(client, leave, core):
    csrf = log_in(client)
    waiting = leave.start()["id"]
    deploy_v2(core)
    page = client.get("/admin/processes/leave").get_data(as_text=True)
    assert "第 2 版" in page and "人事部备案" in page  # the diff of the two newest versions
    response = client.post(
        "/admin/processes/leave/migrations",
        data={"csrf_token": csrf, "action": "dry_run", "from_version": "1", "to_version": "2"},
    )
    assert response.status_code == 200
    assert "试迁移结果" in response.get_data(as_text=True) and definition_version(core, waiting) == 1
    response = client.post(
        "/admin/processes/leave/migrations",
        data={"csrf_token": csrf, "action": "migrate", "from_version": "1", "to_version": "2"},
        follow_redirects=True,
    )
    assert response.status_code == 200 and "已迁移" in response.get_data(as_text=True)
    assert definition_version(core, waiting) == 2
    response = client.post(
        "/admin/processes/leave/versions/1/active", data={"csrf_token": csrf, "active": "0"}, follow_redirects=True
    )
    assert "已停用" in response.get_data(as_text=True)


def test_version_page_shows_the_diagram_or_says_there_is_none(client, core):
    log_in(client)
    page = client.get("/admin/processes/leave/versions/1").get_data(as_text=True)
    assert "<svg" in page
    with core.db.write() as conn:
        definitions.deploy(conn, {"simple.bpmn": _simple(), "simple_form.json": _simple_form()}, None)
    page = client.get("/admin/processes/simple/versions/1").get_data(as_text=True)
    assert "<svg" not in page and "没有图形信息（BPMN DI）" in page


def test_instance_page_of_a_file_without_di_says_so(client, core):
    with core.db.write() as conn:
        definitions.deploy(conn, {"simple.bpmn": _simple(), "simple_form.json": _simple_form()}, None)
    started = initiate.start(core, "zhangsan", "simple", {"subject": "打印机", "amount": 10})
    log_in(client, "zhangsan")
    page = client.get(f"/instances/{started['id']}").get_data(as_text=True)
    assert "没有图形信息（BPMN DI），无法绘制流程图" in page


def test_oaflow_migrate_command(db_url, core, leave):

    waiting = leave.start()["id"]
    deploy_v2(core)
    env = {"OAFLOW_DATABASE_URL": db_url}
    result = CliRunner().invoke(main, ["versions", "leave"], env=env)
    assert result.exit_code == 0 and "第 2 版" in result.output, result.output
    result = CliRunner().invoke(main, ["migrate", "leave", "--from", "1", "--to", "2", "--dry-run"], env=env)
    assert result.exit_code == 0 and "可安全迁移 1 个" in result.output, result.output
    assert definition_version(core, waiting) == 1
    result = CliRunner().invoke(main, ["migrate", "leave", "--from", "1", "--to", "2"], env=env)
    assert result.exit_code == 0 and "已迁移 1 个" in result.output, result.output
    assert definition_version(core, waiting) == 2


def test_migrating_a_returned_application_keeps_it_with_its_drafter(core, leave_data):
    # One way to close the items the workflow left (kernel.items.sync_items): the migration used to cancel
    # the drafter's resubmission item and reopen the leader's step, so the rework was skipped.
    started = initiate.start(core, "zhangsan", "leave", leave_data())
    [item] = open_items(core, started["id"])
    rework.send_back(core, "sunli", item.id, "initiator", "请补充材料")
    deploy_v2(core)
    result = migration.migrate(core, "admin", "leave", 1, 2, [started["id"]])
    assert result["migrated"] == [started["id"]]
    [held] = open_items(core, started["id"])
    assert (held.origin, held.node_name) == ("resubmit", "发起人修改后重新提交")
    assert consistency.problems(core, started["id"]) == []
