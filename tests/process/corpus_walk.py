"""The corpus walk: every corpus file is validated; each that validates clean is deployed, started and
driven through the REST API (timers by the scheduler's own path) to its end or to a wait nobody outside can
end; each that does not is a clear refusal. Counted per folder, so the figures can be printed and reported.

"What validates, runs": a clean file that fails at run time, any answer 500, or English engine text in a
message counts against it (see `Outcome.trouble`).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from corpus import FAR_FUTURE, bundle_for, condition_variables, executable_keys, form_data
from sqlalchemy import select

from engine.process import bundle, definitions
from engine.store.tables import instance, user_account, work_item
from engine.work import timers

MAX_STEPS = 200
ENDED = {"approved", "rejected", "completed", "cancelled", "withdrawn", "revoked"}
# The engine's own English, which must never reach a user (element ids and expressions may be English).
ENGLISH = re.compile(
    r"Error evaluating|Traceback|is not defined|Expected an? |Unknown Time|Time Specification|Dict key|"
    r"Opening and ending|object has no attribute|unsupported operand|NoneType|KeyError|TypeError"
)


@dataclass
class Outcome:
    folder: str
    name: str
    kind: str = ""  # "ended", "waits", "refused", "run error"
    detail: list[str] = field(default_factory=list)
    trouble: list[str] = field(default_factory=list)  # a 500, English text, a refusal without a place


def walk_file(api, core, folder: str, path) -> Outcome:
    outcome = Outcome(folder, path.name)
    files = bundle_for(path)
    checked = bundle.read_bundle(files)
    _english(outcome, [p.message for p in checked.problems + checked.warnings])
    if checked.problems:
        outcome.kind = "refused"
        outcome.trouble += [f"not located: {p}" for p in checked.problems if p.element and not p.line]
        return outcome
    response = api("admin").post(
        "/api/v1/deployments",
        data={"files": [(io.BytesIO(content), name) for name, content in files.items()]},
        content_type="multipart/form-data",
    )
    if not _answer(outcome, "deploy", response):
        outcome.kind = "run error"
        return outcome
    outcome.kind = "ended"
    for key in executable_keys(path):
        result = drive_key(api, core, outcome, key)
        outcome.detail.append(f"{key}: {result}")
        if result == "run error" or (result == "waits" and outcome.kind == "ended"):
            outcome.kind = result
    return outcome


def drive_key(api, core, outcome: Outcome, key: str) -> str:
    """Start `key` and drive it, trying a few choice patterns for flows with loops: "ended", "waits", "run error"."""
    result = "run error"
    for policy in range(3):
        with core.db.read() as conn:
            compiled = core.specs.from_row(definitions.latest(conn, key))
        data = form_data(compiled.form(compiled.model.start_form), policy)
        response = api("admin").post("/api/v1/instances", json={"process": key, "data": data})
        if not _answer(outcome, f"start {key}", response):
            return "run error"
        result = _drive(api, core, outcome, response.get_json()["id"], compiled, policy)
        if result == "ended":
            return result
    return result


def _drive(api, core, outcome: Outcome, instance_id: int, compiled, policy: int) -> str:
    variables = condition_variables(compiled.model, policy)
    for _ in range(MAX_STEPS):
        status = _status(core, instance_id)
        if status in ENDED:
            return "ended"
        if status != "running":
            outcome.trouble += [] if status == "error" else [f"#{instance_id} is {status}"]
            return "run error"
        step = _next_step(api, core, instance_id, compiled, policy, variables)
        if step is None:
            return "waits"
        what, response = step
        if response is not None and not _answer(outcome, what, response):
            return "run error"
    return "waits"


def _next_step(api, core, instance_id, compiled, policy, variables):
    item = _open_item(core, instance_id)
    if item is not None:
        node = compiled.model.nodes.get(item.node_id)
        data = form_data(compiled.form(node.form if node else None), policy)
        body = {"data": data, "decision": "approve", "opinion": "同意"}
        return f"work {item.node_id}", api(item.username).post(f"/api/v1/work-items/{item.id}/complete", json=body)
    waits = api("admin").get(f"/api/v1/instances/{instance_id}/waiting").get_json()["items"]
    for kind, call in (
        ("external", lambda w: (f"/api/v1/instances/{instance_id}/external/{w['element']}", {"data": variables})),
        ("message", lambda w: (f"/api/v1/instances/{instance_id}/messages", {"name": w["detail"], "payload": {}})),
        ("signal", lambda w: ("/api/v1/signals", {"name": w["detail"], "payload": {}})),
    ):
        found = [w for w in waits if w["kind"] == kind]
        if found:
            url, body = call(found[0])
            return f"{kind} {found[0].get('element')}", api("admin").post(url, json=body)
    if any(w["kind"] == "timer" for w in waits):
        return ("timer", None) if timers.fire_instance(core, instance_id, FAR_FUTURE) else None
    return None


def _answer(outcome: Outcome, what: str, response) -> bool:
    """True on success; a 500 or English text is trouble, a domain refusal at run time is a run error."""
    if response.status_code < 400:
        return True
    body = response.get_json(silent=True) or {}
    message = str(body.get("error") or body)
    outcome.detail.append(f"{what}: {response.status_code} {message[:200]}")
    if response.status_code >= 500:
        outcome.trouble.append(f"{what}: HTTP {response.status_code}")
    _english(outcome, [message])
    return False


def _english(outcome: Outcome, messages) -> None:
    outcome.trouble += [f"English engine text: {m[:160]}" for m in messages if ENGLISH.search(m)]


def _status(core, instance_id: int) -> str:
    with core.db.read() as conn:
        return conn.execute(select(instance.c.status).where(instance.c.id == instance_id)).scalar()


def _open_item(core, instance_id: int):
    with core.db.read() as conn:
        return conn.execute(
            select(work_item.c.id, work_item.c.node_id, user_account.c.username)
            .join(user_account, user_account.c.id == work_item.c.assignee_id)
            .where(work_item.c.instance_id == instance_id, work_item.c.status == "open", work_item.c.kind == "approve")
            .order_by(work_item.c.id)
        ).first()


def figures(outcomes: list[Outcome]) -> str:
    """Per folder: files, deployed, ran to the end, waits, clear refusals, errors at run time."""
    rows = ["folder            files  deployed  ended  waits  refused  run-errors  trouble"]
    for folder in sorted({o.folder for o in outcomes}):
        mine = [o for o in outcomes if o.folder == folder]
        count = {kind: sum(o.kind == kind for o in mine) for kind in ("ended", "waits", "refused", "run error")}
        deployed = len(mine) - count["refused"]
        trouble = sum(bool(o.trouble) for o in mine)
        rows.append(
            f"{folder:<17} {len(mine):>5}  {deployed:>8}  {count['ended']:>5}  {count['waits']:>5}  "
            f"{count['refused']:>7}  {count['run error']:>10}  {trouble:>7}"
        )
    return "\n".join(rows)
