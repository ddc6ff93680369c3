"""或签 race: every signer of a 或签 node decides at the same moment. Exactly one wins; every other one gets
engine.errors.Conflict (HTTP 409) with 已由他人处理; the work items and the SpiffWorkflow state still agree.

SQLite: threads sharing one Core. PostgreSQL: separate processes (multiprocessing, 'spawn'), each with its
own engine.core.Core, started once and fed one round at a time through queues and a barrier.
"""

from __future__ import annotations

import multiprocessing
import queue
import random
import threading

from sqlalchemy import select
from support import DATA, ApiClient

from engine.core import Core
from engine.errors import Conflict
from engine.errors import Conflict as ProcessConflict
from engine.process import definitions
from engine.store.tables import event_log, instance, user_account, work_item
from engine.work import consistency, initiate
from engine.work import decisions as deciding

ROUNDS = 200
API_ROUNDS = 20
SIGNERS = ("chenjing", "zhaolei", "wangfang")
LOST = "该待办已由他人处理，无需再处理"


def plan(round_no: int) -> tuple[list[str], dict[str, str]]:
    """Who races this round, in which order they start, and how each decides.

    Every fourth round only two of the three signers race (the third finds the node closed later); the
    order varies, since a thread that arrives last at a barrier tends to run first; mostly everyone
    approves, and every third round one racer disagrees.
    """
    rng = random.Random(round_no)
    racers = list(SIGNERS)
    rng.shuffle(racers)
    if round_no % 4 == 1:
        racers = racers[:2]
    decisions = dict.fromkeys(racers, "approve")
    if round_no % 3 == 0:
        decisions[racers[(round_no // 3) % len(racers)]] = "reject"
    return racers, decisions


def deploy(core) -> None:
    files = ("sign_form.json", "sign_modes.bpmn", "sign_reject.bpmn")
    with core.db.write() as conn:
        definitions.deploy(conn, {name: (DATA / name).read_bytes() for name in files}, None)


def start_round(core, round_no: int) -> tuple[int, dict[str, int]]:
    data = {"subject": f"第 {round_no} 轮", "mode": "any", "signers": list(SIGNERS)}
    instance_id = initiate.start(core, "zhangsan", "sign_modes", data)["id"]
    items = node_rows(core, instance_id)
    assert [(u, status) for u, (status, _note, _decision, _id) in items.items()] == [(u, "open") for u in SIGNERS]
    return instance_id, {user: row[3] for user, row in items.items()}


def node_rows(core, instance_id: int) -> dict[str, tuple]:
    with core.db.read() as conn:
        rows = conn.execute(
            select(user_account.c.username, work_item.c.status, work_item.c.note, work_item.c.decision, work_item.c.id)
            .join(user_account, user_account.c.id == work_item.c.assignee_id)
            .where(work_item.c.instance_id == instance_id, work_item.c.node_id == "Task_any")
            .order_by(work_item.c.id)
        )
        return {row.username: (row.status, row.note, row.decision, row.id) for row in rows}


def verify_round(core, instance_id: int, outcomes: dict[str, tuple[str, str | None]], decisions: dict[str, str]):
    """Exactly one winner; the rest lost with 已由他人处理; the tables agree with the workflow."""
    assert set(outcomes) == set(decisions), outcomes
    winners = [user for user, (kind, _) in outcomes.items() if kind == "ok"]
    assert len(winners) == 1, outcomes
    [winner] = winners
    assert {user: outcome for user, outcome in outcomes.items() if user != winner} == {
        user: ("conflict", LOST) for user in decisions if user != winner
    }, outcomes

    decision = decisions[winner]
    rows = node_rows(core, instance_id)
    assert {user: row[:3] for user, row in rows.items()} == {
        user: ("done", None, decision) if user == winner else ("cancelled", "已由他人处理", None) for user in SIGNERS
    }
    with core.db.read() as conn:
        status = conn.execute(select(instance.c.status).where(instance.c.id == instance_id)).scalar()
        decided = conn.execute(
            select(event_log.c.type, event_log.c.work_item_id).where(
                event_log.c.instance_id == instance_id, event_log.c.type.in_(("approved", "rejected"))
            )
        ).all()
        open_after = conn.execute(
            select(work_item.c.node_id).where(work_item.c.instance_id == instance_id, work_item.c.status == "open")
        ).all()
    assert decided == [("approved" if decision == "approve" else "rejected", rows[winner][3])]
    if decision == "approve":
        assert status == "running" and [r.node_id for r in open_after] == ["Task_after"]
    else:
        assert status == "rejected" and open_after == []
    assert consistency.problems(core, instance_id) == []
    return winner


# --- SQLite: threads -----------------------------------------------------------------------------------


def race_threads(core, items: dict[str, int], racers: list[str], decisions: dict[str, str]) -> dict[str, tuple]:
    barrier = threading.Barrier(len(racers))
    outcomes: dict[str, tuple] = {}

    def run(user: str, item_id: int) -> None:
        barrier.wait()
        try:
            deciding.complete(core, user, item_id, {}, decisions[user], f"{user}的意见")
            outcomes[user] = ("ok", None)
        except Conflict as exc:
            assert exc.status == 409
            outcomes[user] = ("conflict", exc.message)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes[user] = ("error", repr(exc))

    threads = [threading.Thread(target=run, args=(user, items[user])) for user in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a completion hung"
    return outcomes


# --- PostgreSQL: processes -------------------------------------------------------------------------------


def _signer_process(url: str, user: str, jobs, results, barriers) -> None:
    """One signer in its own process with its own Core: for each job, wait for the others, then decide."""

    core = Core(url=url)
    try:
        while True:
            job = jobs.get()
            if job is None:
                return
            item_id, decision, parties = job
            barriers[parties].wait(timeout=60)
            try:
                deciding.complete(core, user, item_id, {}, decision, f"{user}的意见")
                results.put((user, "ok", None))
            except ProcessConflict as exc:
                results.put((user, "conflict" if exc.status == 409 else "error", exc.message))
            except BaseException as exc:  # noqa: BLE001 - sent to the test, which fails on it
                results.put((user, "error", repr(exc)))
    finally:
        core.db.dispose()


class SignerProcesses:
    def __init__(self, url: str):
        context = multiprocessing.get_context("spawn")
        self.results = context.Queue()
        self.barriers = {n: context.Barrier(n) for n in range(2, len(SIGNERS) + 1)}
        self.jobs = {user: context.Queue() for user in SIGNERS}
        self.processes = [
            context.Process(
                target=_signer_process, args=(url, user, self.jobs[user], self.results, self.barriers), daemon=True
            )
            for user in SIGNERS
        ]
        for process in self.processes:
            process.start()

    def race(self, items: dict[str, int], racers: list[str], decisions: dict[str, str]) -> dict[str, tuple]:
        for user in racers:
            self.jobs[user].put((items[user], decisions[user], len(racers)))
        outcomes = {}
        waited = 0
        while len(outcomes) < len(racers):
            try:
                user, kind, message = self.results.get(timeout=1)
            except queue.Empty:
                waited += 1
                dead = [p.exitcode for p in self.processes if not p.is_alive()]
                assert not dead and waited < 120, f"a signer process died or hung: {dead}"
                continue
            outcomes[user] = (kind, message)
        return outcomes

    def close(self) -> list[int | None]:
        """Stop the processes (also when a round failed half-way); return their exit codes."""
        for jobs in self.jobs.values():
            jobs.put(None)
        for barrier in self.barriers.values():
            barrier.abort()  # a process still waiting for a partner that died gives up
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join()
        return [process.exitcode for process in self.processes]


# --- the tests ----------------------------------------------------------------------------------------------


def test_any_sign_race_exactly_one_signer_wins(core, backend, db_url):
    deploy(core)
    if backend == "postgres":
        workers = SignerProcesses(db_url)
        race = workers.race
    else:
        workers = None

        def race(items, racers, decisions):
            return race_threads(core, items, racers, decisions)

    wins: dict[str, int] = dict.fromkeys(SIGNERS, 0)
    try:
        for round_no in range(ROUNDS):
            instance_id, items = start_round(core, round_no)
            racers, decisions = plan(round_no)
            outcomes = race(items, racers, decisions)
            winner = verify_round(core, instance_id, outcomes, decisions)
            wins[winner] += 1
    finally:
        exit_codes = workers.close() if workers is not None else []
    assert exit_codes in ([], [0] * len(SIGNERS)), exit_codes
    assert sum(wins.values()) == ROUNDS
    assert all(wins.values()), wins  # a real race: every signer won some rounds


def race_api(tabs: dict, items: dict[str, int], racers: list[str], decisions: dict[str, str]) -> dict[str, tuple]:
    """The racers submit through the REST API at once; a 409 is a lost race."""
    barrier = threading.Barrier(len(racers))
    outcomes: dict[str, tuple] = {}

    def submit(user: str) -> None:
        barrier.wait()
        body = {"decision": decisions[user], "opinion": "意见"}
        response = tabs[user].post(f"/api/v1/work-items/{items[user]}/complete", json=body)
        result = response.get_json()
        if response.status_code == 200:
            outcomes[user] = ("ok", None)
        elif response.status_code == 409:
            outcomes[user] = ("conflict", result["error"])
        else:
            outcomes[user] = ("error", (response.status_code, result))

    threads = [threading.Thread(target=submit, args=(user,)) for user in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a completion hung"
    return outcomes


def test_any_sign_race_through_the_api(app, core):
    """The same race through the REST API: the losers get HTTP 409 with the Chinese message."""

    deploy(core)
    tabs = {user: ApiClient(app.test_client(), user) for user in SIGNERS}
    for round_no in range(API_ROUNDS):
        instance_id, items = start_round(core, round_no)
        racers, decisions = plan(round_no)
        outcomes = race_api(tabs, items, racers, decisions)
        verify_round(core, instance_id, outcomes, decisions)
