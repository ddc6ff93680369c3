"""Two people (or two browser tabs) deciding at the same moment: exactly one wins, the other gets a
conflict, and the work items and the SpiffWorkflow state still agree. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from functools import partial

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from support import ApiClient

from engine.errors import Conflict
from engine.org import users
from engine.process.expressions import script_engine
from engine.process.state import load_state
from engine.store.tables import event_log, instance, user_account, work_item
from engine.work import decisions, initiate
from engine.work.kernel import case as kernel

ROUNDS = 30
LEAVE = {"leave_type": "年假", "start_date": "2026-11-23", "end_date": "2026-11-27", "reason": "探亲"}  # 5 days


def race(*calls):
    """Run the calls in threads released together by a barrier; return each outcome in order:
    ("ok", result) or ("conflict", message). Anything else fails the test."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            outcomes[index] = ("ok", call())
        except Conflict as exc:
            outcomes[index] = ("conflict", exc.message)
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcomes[index] = ("error", repr(exc))

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a completion hung"
    assert all(o is not None and o[0] in {"ok", "conflict"} for o in outcomes), outcomes
    return outcomes


def open_items(core, instance_id: int) -> list:
    with core.db.read() as conn:
        return list(
            conn.execute(
                select(work_item.c.id, work_item.c.task_id, work_item.c.node_id, user_account.c.username)
                .join(user_account, user_account.c.id == work_item.c.assignee_id)
                .where(
                    work_item.c.instance_id == instance_id,
                    work_item.c.status == "open",
                    work_item.c.kind == "approve",
                )
                .order_by(work_item.c.id)
            )
        )


def state(core, instance_id: int):
    """(status, version, READY user tasks as (node, task id), COMPLETED user task nodes) from the stored state."""
    with core.db.read() as conn:
        row = conn.execute(select(instance).where(instance.c.id == instance_id)).one()
        compiled = core.specs.get(conn, row.definition_id)
    workflow = load_state(row.state, compiled.spec, compiled.subprocess_specs, script_engine())
    user_tasks = [t for t in workflow.get_tasks() if t.task_spec.name.startswith("Task_") and t.task_spec.manual]
    ready = sorted((t.task_spec.name, str(t.id)) for t in user_tasks if t.state == TaskState.READY)
    completed = sorted(t.task_spec.name for t in user_tasks if t.state == TaskState.COMPLETED)
    return row.status, row.version, ready, completed


def events(core, instance_id: int, type_: str) -> int:
    with core.db.read() as conn:
        query = select(event_log.c.id).where(event_log.c.instance_id == instance_id, event_log.c.type == type_)
        return len(conn.execute(query).all())


def test_same_item_completed_twice_at_once(core):
    for _round in range(ROUNDS):
        started = initiate.start(core, "zhangsan", "leave", dict(LEAVE))
        instance_id = started["id"]
        [item] = open_items(core, instance_id)
        _, version_before, _, _ = state(core, instance_id)

        approve = partial(decisions.complete, core, "sunli", item.id, {}, "approve", "同意")
        outcomes = race(approve, approve)

        assert sorted(kind for kind, _ in outcomes) == ["conflict", "ok"], outcomes
        conflict = next(message for kind, message in outcomes if kind == "conflict")
        assert "请刷新" in conflict or "已处理" in conflict
        # The instance moved exactly one step, and the tables agree with the workflow state.
        status, version, ready, completed = state(core, instance_id)
        assert (status, version) == ("running", version_before + 1)
        items = open_items(core, instance_id)
        assert [(i.node_id, i.username) for i in items] == [("Task_vp", "huangwei")]
        assert ready == [("Task_vp", items[0].task_id)]
        assert completed == ["Task_dept_leader"]
        assert events(core, instance_id, "approved") == 1


def test_approve_and_reject_at_once(core):
    winners = set()
    for _round in range(ROUNDS // 2):
        instance_id = initiate.start(core, "zhangsan", "leave", dict(LEAVE))["id"]
        [item] = open_items(core, instance_id)

        outcomes = race(
            partial(decisions.complete, core, "sunli", item.id, {}, "approve", "同意"),
            partial(decisions.complete, core, "sunli", item.id, {}, "reject", "不同意"),
        )

        assert sorted(kind for kind, _ in outcomes) == ["conflict", "ok"], outcomes
        winner = "approve" if outcomes[0][0] == "ok" else "reject"
        winners.add(winner)
        status, _version, ready, _completed = state(core, instance_id)
        items = open_items(core, instance_id)
        if winner == "approve":
            assert status == "running"
            assert [(i.node_id, i.task_id) for i in items] == [(node, task) for node, task in ready]
            assert [i.node_id for i in items] == ["Task_vp"]
        else:
            assert status == "rejected"
            assert items == [] and ready == []
        assert events(core, instance_id, "approved") + events(core, instance_id, "rejected") == 1


def submit(tab, item_id: int) -> dict:
    """同意 through the REST API; a 409 becomes the Conflict the engine raised."""
    response = tab.post(f"/api/v1/work-items/{item_id}/complete", json={"decision": "approve"})
    if response.status_code == 409:
        raise Conflict(response.get_json()["error"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_concurrent_completion_through_the_api(app, core):

    starter = ApiClient(app.test_client(), "zhangsan")
    for _round in range(10):
        started = starter.post("/api/v1/instances", json={"process": "leave", "data": LEAVE})
        instance_id = started.get_json()["id"]
        item_id = started.get_json()["work_items"][0]["id"]
        tabs = [ApiClient(app.test_client(), "sunli") for _ in range(2)]
        outcomes = race(*(partial(submit, tab, item_id) for tab in tabs))
        assert sorted(kind for kind, _ in outcomes) == ["conflict", "ok"], outcomes
        assert [i.node_id for i in open_items(core, instance_id)] == ["Task_vp"]


# --- a role with two members ------------------------------------------------------------------------


@pytest.fixture
def two_general_managers(core):
    """wangfang joins zhengqiang in the role 总经理, so 总经理审批 goes to both."""
    with core.db.write() as conn:
        users.grant_role(conn, users.find_user(conn, "wangfang").id, "总经理")


def at_general_manager_step(core) -> int:
    instance_id = initiate.start(core, "zhangsan", "leave", {**LEAVE, "end_date": "2026-12-08"})["id"]
    for approver in ("sunli", "huangwei"):
        [item] = open_items(core, instance_id)
        decisions.complete(core, approver, item.id, {}, "approve", "同意")
    return instance_id


def item_rows(core, instance_id: int, node: str) -> dict[str, tuple]:
    with core.db.read() as conn:
        rows = conn.execute(
            select(user_account.c.username, work_item.c.status, work_item.c.note, work_item.c.decision)
            .join(user_account, user_account.c.id == work_item.c.assignee_id)
            .where(work_item.c.instance_id == instance_id, work_item.c.node_id == node)
        )
        return {row.username: (row.status, row.note, row.decision) for row in rows}


def test_role_with_two_members_first_decision_wins(core, two_general_managers):
    instance_id = at_general_manager_step(core)
    items = open_items(core, instance_id)
    assert sorted(i.username for i in items) == ["wangfang", "zhengqiang"]
    assert len({i.task_id for i in items}) == 1  # one step, two holders
    by_user = {i.username: i.id for i in items}

    result = decisions.complete(core, "wangfang", by_user["wangfang"], {}, "approve", "同意")

    assert result["status"] == "approved"
    assert item_rows(core, instance_id, "Task_gm") == {
        "wangfang": ("done", None, "approve"),
        "zhengqiang": ("cancelled", "已由他人处理", None),
    }
    with pytest.raises(Conflict) as late:
        decisions.complete(core, "zhengqiang", by_user["zhengqiang"], {}, "approve", "同意")
    assert "已由他人处理" in late.value.message
    assert events(core, instance_id, "approved") == 3


def test_role_with_two_members_reject_cancels_the_other(core, two_general_managers, app):

    instance_id = at_general_manager_step(core)
    by_user = {i.username: i.id for i in open_items(core, instance_id)}
    decisions.complete(core, "zhengqiang", by_user["zhengqiang"], {}, "reject", "不批")

    rows = item_rows(core, instance_id, "Task_gm")
    assert rows["zhengqiang"] == ("done", None, "reject")
    assert rows["wangfang"][0] == "cancelled"
    late = ApiClient(app.test_client(), "wangfang").post(
        f"/api/v1/work-items/{by_user['wangfang']}/complete", json={"decision": "approve"}
    )
    assert late.status_code == 409
    assert state(core, instance_id)[0] == "rejected"


def test_role_with_two_members_deciding_at_once(core, two_general_managers):
    for _round in range(ROUNDS // 3):
        instance_id = at_general_manager_step(core)
        by_user = {i.username: i.id for i in open_items(core, instance_id)}

        outcomes = race(
            partial(decisions.complete, core, "zhengqiang", by_user["zhengqiang"], {}, "approve", "同意"),
            partial(decisions.complete, core, "wangfang", by_user["wangfang"], {}, "approve", "同意"),
        )

        assert sorted(kind for kind, _ in outcomes) == ["conflict", "ok"], outcomes
        winner = "zhengqiang" if outcomes[0][0] == "ok" else "wangfang"
        loser = "wangfang" if winner == "zhengqiang" else "zhengqiang"
        rows = item_rows(core, instance_id, "Task_gm")
        assert rows[winner] == ("done", None, "approve")
        assert rows[loser] == ("cancelled", "已由他人处理", None)
        status, _version, ready, _completed = state(core, instance_id)
        assert status == "approved" and ready == []
        assert events(core, instance_id, "ended") == 1


def test_stale_version_is_a_conflict(core, monkeypatch):
    # The optimistic version check is the last line of defence: a writer holding an old version loses.
    instance_id = initiate.start(core, "zhangsan", "leave", dict(LEAVE))["id"]
    [item] = open_items(core, instance_id)
    with core.db.write() as conn:
        conn.execute(update(instance).where(instance.c.id == instance_id).values(version=instance.c.version + 1))
    original = kernel.from_row  # every command builds its case from the locked row here

    def stale_session(core_, conn, inst):
        session = original(core_, conn, inst)
        session.version -= 1
        return session

    monkeypatch.setattr(kernel, "from_row", stale_session)
    with pytest.raises(Conflict):
        decisions.complete(core, "sunli", item.id, {}, "approve", "同意")
    # Rolled back: the step is still open and nothing was recorded.
    assert [i.node_id for i in open_items(core, instance_id)] == ["Task_dept_leader"]
    assert events(core, instance_id, "approved") == 0
