"""The BPMN interoperability corpus (../shared/bpmn-corpus) and a driver that runs a deployed process to
its end through engine commands only: complete every open work item as its holder, finish external work,
deliver awaited messages and signals, and fire timers early.

"The data the flow needs" comes from the process itself: form fields (including those oaflow generates for
variables that conditions name) get values from their enum, examples or type. A flow with loops may need
other choices to end, so the driver tries a few choice patterns (policy 0, 1, 2 …) before giving up.
"""

from __future__ import annotations

import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path

from lxml import etree
from sqlalchemy import select

from engine.org import users
from engine.process import bpmn, definitions, library
from engine.process.expressions import ExpressionError, compile_expression, variable_names
from engine.process.model import ProcessModel
from engine.process.validation import missing_variables
from engine.store.tables import instance, user_account, work_item
from engine.work import decisions, events, initiate, timers
from engine.work.views import detail as details

FOLDERS = ("accept", "accept-dialect", "valid-tricky", "reject")
MAX_STEPS = 200
FAR_FUTURE = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(days=3650)  # naive UTC, as stored


def corpus_root() -> Path | None:
    here = Path(__file__).resolve().parents[2]
    for candidate in (here.parent / "shared" / "bpmn-corpus", Path("/work/shared/bpmn-corpus")):
        if (candidate / "manifest.csv").is_file():
            return candidate
    return None


def corpus_files() -> list[tuple[str, Path]]:
    root = corpus_root()
    if root is None:
        return []
    return [
        (folder, path)
        for folder in FOLDERS
        if (root / folder).is_dir()
        for path in sorted((root / folder).iterdir())
        if path.is_file() and library.is_bpmn(path.name)
    ]


def _process_ids(content: bytes) -> tuple[set[str], set[str]]:
    """(processes the file defines, processes its call activities call)."""
    try:
        root = etree.fromstring(content, parser=bpmn._safe_parser())
    except etree.XMLSyntaxError:
        return set(), set()
    ns = bpmn.BPMN_NS
    defined = {p.get("id") for p in root.iter(f"{{{ns}}}process") if p.get("id")}
    called = {c.get("calledElement") for c in root.iter(f"{{{ns}}}callActivity") if c.get("calledElement")}
    return defined, called


def bundle_for(path: Path) -> dict[str, bytes]:
    """The file plus the files in its folder that define the processes it calls (call activities)."""
    files = {path.name: path.read_bytes()}
    wanted = _process_ids(files[path.name])[1]
    for other in sorted(path.parent.iterdir()):
        if not wanted or other == path or not library.is_bpmn(other.name):
            continue
        content = other.read_bytes()
        if _process_ids(content)[0] & wanted:
            files[other.name] = content
            wanted -= _process_ids(content)[0]
    return files


def executable_keys(path: Path) -> list[str]:
    root = etree.fromstring(path.read_bytes(), parser=bpmn._safe_parser())
    return [
        p.get("id") for p in root.iter(f"{{{bpmn.BPMN_NS}}}process") if p.get("isExecutable", "true").lower() != "false"
    ]


# --- values ----------------------------------------------------------------------------------------------


def value_for(prop: dict, policy: int):
    if "enum" in prop and prop["enum"]:
        return prop["enum"][policy % len(prop["enum"])]
    kind = prop.get("type", "string")
    if kind == "boolean":
        return policy % 2 == 0
    if kind in {"integer", "number"}:
        examples = prop.get("examples") or [prop.get("default", 1)]
        return examples[policy % len(examples)]
    if prop.get("format") == "date":
        return "2026-01-05"
    if prop.get("x-widget") == "user":
        return None
    return prop.get("default") or "测试"


def form_data(schema: dict | None, policy: int) -> dict:
    data = {}
    for name, prop in (schema or {}).get("properties", {}).items():
        if prop.get("readOnly"):
            continue
        value = value_for(prop, policy)
        if value is not None:
            data[name] = value
    return data


def condition_variables(model: ProcessModel, policy: int) -> dict:
    """Values for every variable the model's expressions read: what external work may have to supply."""
    values = {}
    for _element, _line, kind, text in model.expressions:
        if kind == "script":
            continue
        try:
            tree = compile_expression(text)
        except ExpressionError:
            continue
        hints = missing_variables._type_hints(tree)
        for name in variable_names(tree):
            hint = hints.get(name)
            values.setdefault(name, value_for(missing_variables._field_for(name, [hint] if hint else []), policy))
    return values


# --- the driver ------------------------------------------------------------------------------------------


def _open_items(core, instance_id: int) -> list:
    with core.db.read() as conn:
        return list(
            conn.execute(
                select(work_item.c.id, work_item.c.node_id, user_account.c.username)
                .join(user_account, user_account.c.id == work_item.c.assignee_id)
                .where(
                    work_item.c.instance_id == instance_id,
                    work_item.c.status == "open",
                    work_item.c.kind == "approve",
                )
                .order_by(work_item.c.id)
            )
        )


def status_of(core, instance_id: int) -> str:
    with core.db.read() as conn:
        return conn.execute(select(instance.c.status).where(instance.c.id == instance_id)).scalar()


def drive(core, instance_id: int, compiled, policy: int = 0, actor: str = "admin") -> tuple[str, list[str]]:
    """Move the instance until it ends or nothing more can be done; return (status, steps taken)."""
    steps: list[str] = []
    model = compiled.model
    variables = condition_variables(model, policy)
    for _ in range(MAX_STEPS):
        if status_of(core, instance_id) != "running":
            break
        items = _open_items(core, instance_id)
        if items:
            item = items[0]
            node = model.nodes.get(item.node_id)
            data = form_data(compiled.form(node.form if node else None), policy)
            decisions.complete(core, item.username, item.id, data, "approve", "同意")
            steps.append(f"work:{item.node_id}")
            continue
        with core.db.read() as conn:
            admin = users.require_user(conn, actor)
        waits = details.waiting_for(core, admin, instance_id)
        by_kind = {kind: [w for w in waits if w["kind"] == kind] for kind in ("external", "message", "signal", "timer")}
        if by_kind["external"]:
            element = by_kind["external"][0]["element"]
            events.complete_external(core, actor, instance_id, element, variables)
            steps.append(f"external:{element}")
        elif by_kind["message"]:
            name = by_kind["message"][0]["detail"]
            events.send_message(core, actor, instance_id, name, {})
            steps.append(f"message:{name}")
        elif by_kind["signal"]:
            name = by_kind["signal"][0]["detail"]
            events.broadcast_signal(core, actor, name, {})
            steps.append(f"signal:{name}")
        elif by_kind["timer"]:
            fired = timers.fire_instance(core, instance_id, FAR_FUTURE)
            steps.append(f"timer:{fired}")
            if not fired:
                break
        else:
            break
    return status_of(core, instance_id), steps


def start_and_drive(core, key: str, policy: int = 0, actor: str = "admin") -> tuple[int, str, list[str]]:
    with core.db.read() as conn:
        compiled = core.specs.from_row(definitions.latest(conn, key))
    data = form_data(compiled.form(compiled.model.start_form), policy)
    started = initiate.start(core, actor, key, data)
    status, steps = drive(core, started["id"], compiled, policy, actor)
    return started["id"], status, steps


def expression_is_python(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        return False
    return True
