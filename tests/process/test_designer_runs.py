"""What validates, runs: the modeler files of tests/data/dz_*.bpmn deploy and are driven to their end
through engine commands (the corpus driver), taking the branch their FEEL conditions choose."""

from __future__ import annotations

import io

from corpus import drive, start_and_drive
from sqlalchemy import select
from support import DATA

from engine.process import definitions, diagram
from engine.store.tables import user_account, work_item
from engine.work import initiate


def deploy(core, *names: str) -> None:
    with core.db.write() as conn:
        definitions.deploy(conn, {name: (DATA / name).read_bytes() for name in names}, None)


def done_nodes(core, instance_id: int) -> list[str]:
    with core.db.read() as conn:
        rows = conn.execute(
            select(work_item.c.node_id)
            .where(work_item.c.instance_id == instance_id, work_item.c.status == "done")
            .order_by(work_item.c.id)
        )
        return [row.node_id for row in rows]


def test_link_events_run_as_one_flow_and_are_still_drawn(core):
    deploy(core, "dz_link_events.bpmn")
    instance_id, status, steps = start_and_drive(core, "dz_link")
    assert status == "approved", steps
    assert done_nodes(core, instance_id) == ["first", "second"]
    with core.db.read() as conn:
        svg = diagram.render_svg(definitions.latest(conn, "dz_link").bpmn_xml, "dz_link")
    assert svg is not None and "jump" in svg and "land" in svg  # the link events as drawn


def test_feel_conditions_choose_the_branch(core):
    deploy(core, "dz_feel_conditions.bpmn", "dz_feel_form.json")
    with core.db.read() as conn:
        compiled = core.specs.from_row(definitions.latest(conn, "dz_feel"))
    for data, branch in (
        ({"amount": 2000, "kind": "年假", "urgent": False, "manager": "lisi"}, "big"),
        ({"amount": 2000, "kind": "事假", "urgent": False}, "small"),
    ):
        started = initiate.start(core, "zhangsan", "dz_feel", data)
        status, steps = drive(core, started["id"], compiled)
        assert status == "approved" and steps[0] == f"work:{branch}", steps


def test_completion_condition_reads_camunda_multi_instance_variables(core):
    deploy(core, "dz_undefined_loop.bpmn")
    with core.db.read() as conn:
        compiled = core.specs.from_row(definitions.latest(conn, "dz_loop_var"))
    started = initiate.start(core, "admin", "dz_loop_var", {})
    status, steps = drive(core, started["id"], compiled)
    # 填写 asks for signers (2) and the 复核 form for again (policy 0 → True would loop: the driver says False)
    assert status in {"approved", "running"}, steps
    assert steps.count("work:sign") == 2, steps


def test_a_descriptive_pool_beside_the_process_deploys_and_runs(core):
    deploy(core, "dz_descriptive_pool.bpmn")
    _instance_id, status, steps = start_and_drive(core, "dz_pool_office")
    assert status == "approved", steps


def test_deploy_problems_in_english_under_lang_en(api):
    name = "dz_timer_no_time.bpmn"
    for lang, start in (("zh", "计时器事件没有设置时间"), ("en", "the timer event has no time")):
        response = api("admin").post(
            f"/api/v1/deployments/validate?lang={lang}",
            data={"files": [(io.BytesIO((DATA / name).read_bytes()), name)]},
            content_type="multipart/form-data",
        )
        assert response.status_code == 422
        (error,) = response.get_json()["errors"]
        assert error["element"] == "wait" and error["line"] and error["message"].startswith(start)


def test_zeebe_multi_instance_gives_each_reviewer_an_item(core):
    deploy(core, "dz_zeebe_multi_instance.bpmn")
    with core.db.read() as conn:
        compiled = core.specs.from_row(definitions.latest(conn, "dz_zeebe_mi"))
    started = initiate.start(core, "zhangsan", "dz_zeebe_mi", {"reviewers": ["lisi", "wangfang"]})
    status, steps = drive(core, started["id"], compiled)
    assert status == "approved" and steps == ["work:review", "work:review"], steps
    with core.db.read() as conn:
        rows = conn.execute(
            select(user_account.c.username)
            .join(work_item, work_item.c.assignee_id == user_account.c.id)
            .where(work_item.c.instance_id == started["id"])
            .order_by(work_item.c.id)
        )
        assert [row.username for row in rows] == ["lisi", "wangfang"]
