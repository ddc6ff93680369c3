"""The sandbox catalogue: known Python escapes and denial-of-service payloads (tests/hostile.py) in every
place an expression can stand — sequence-flow conditions, script tasks, loopCardinality, multi-instance
completion conditions, timer values, assignee-rule conditions, form defaults. Each is refused at deploy or
stopped at run time within its budget (a form default is never evaluated: it stays the text it is); none
runs, none answers a 500, none takes long. Figures per place: `pytest -s` prints them."""

from __future__ import annotations

import shutil
import statistics
import time

import pytest
from hostile import PAYLOADS, SCRIPTS
from sqlalchemy import select
from support import PLACES, expression_bpmn

from engine.core import Core
from engine.errors import DeployFailed, InvalidData, OaflowError
from engine.process import definitions
from engine.store.tables import instance, user_account, work_item
from engine.work import decisions, initiate

BOUND_SECONDS = 5.0  # generous: the budgets stop a case within about a second; this catches a hang


@pytest.fixture
def sandbox_core(sqlite_template, tmp_path):
    """The evaluator is what is tested, not the database: one SQLite copy per place."""
    path = tmp_path / "catalogue.sqlite3"
    shutil.copy(sqlite_template, path)
    core = Core(url=f"sqlite:///{path}")
    yield core
    core.db.dispose()


def _cases(place: str) -> list[tuple[str, str]]:
    if place == "script":
        return [(name, f"x = {text}") for name, text in PAYLOADS] + SCRIPTS
    return list(PAYLOADS)


def _first_item(core, instance_id: int) -> int:
    with core.db.read() as conn:
        return conn.execute(
            select(work_item.c.id)
            .join(user_account, user_account.c.id == work_item.c.assignee_id)
            .where(work_item.c.instance_id == instance_id, work_item.c.status == "open")
            .order_by(work_item.c.id)
        ).first()[0]


def _status(core, instance_id: int) -> str:
    with core.db.read() as conn:
        return conn.execute(select(instance.c.status).where(instance.c.id == instance_id)).scalar()


def _try(core, place: str, key: str, text: str) -> tuple[str, str]:
    """('refused' | 'stopped' | 'inert' | 'ran', what the user was told)."""
    try:
        with core.db.write() as conn:
            definitions.deploy(conn, {f"{key}.bpmn": expression_bpmn(place, text, key=key)}, None)
    except DeployFailed as exc:
        return "refused", exc.message
    data = {} if place == "form default" else {"amount": 5}
    try:
        started = initiate.start(core, "zhangsan", key, data)
    except OaflowError as exc:
        assert 400 <= exc.status < 500, exc.message
        return "stopped", exc.message
    if place == "form default":
        with core.db.read() as conn:
            compiled = core.specs.get(conn, definitions.latest_head(conn, key).id)
        default = compiled.form(compiled.model.start_form)["properties"]["note"].get("default")
        return ("inert" if default in (None, text) else "ran"), str(default)[:80]
    if place == "completionCondition":  # evaluated when a signer decides
        try:
            decisions.complete(core, "lisi", _first_item(core, started["id"]), {}, "approve", "同意")
        except InvalidData as exc:  # the condition reads a field the step's form now asks for
            return "stopped", exc.message
        except OaflowError as exc:  # the instance waits in 异常 for an administrator
            assert exc.status == 422 and _status(core, started["id"]) == "error", exc.message
            return "stopped", exc.message
    return "ran", str(started)


@pytest.mark.parametrize("place", PLACES)
def test_every_hostile_payload_is_refused_or_stopped_within_its_budget(sandbox_core, place):
    outcomes: dict[str, list[str]] = {}
    times: list[float] = []
    for index, (name, text) in enumerate(_cases(place)):
        began = time.perf_counter()
        outcome, said = _try(sandbox_core, place, f"hostile{index}", text)
        took = time.perf_counter() - began
        times.append(took)
        outcomes.setdefault(outcome, []).append(name)
        assert outcome in {"refused", "stopped", "inert"}, (place, name, said)
        assert outcome != "inert" or place == "form default", (place, name)
        assert took < BOUND_SECONDS, (place, name, took)
        assert "Traceback" not in said and said.strip(), (place, name, said)
    print(
        f"\n[sandbox] {place}: {len(times)} payloads, "
        + ", ".join(f"{kind} {len(names)}" for kind, names in sorted(outcomes.items()))
        + f"; per case median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
    )
    assert len(times) >= 30
