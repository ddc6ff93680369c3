"""The processes a user may start (发起申请) and what starting one asks for: the list and the start form, for
the pages and for the API. Starting one is engine.work.initiate."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from engine.errors import Forbidden
from engine.org import directory, users
from engine.process import definitions
from engine.time.working_days import PRIORITIES, local_iso
from engine.work import frame
from engine.work.kernel import claims, form_data, routing


def startable(core, conn: Connection, user: users.User) -> list[tuple]:
    """(definition row, compiled definition) of the newest active version of each process the user may start."""
    found = []
    for row in definitions.list_latest(conn):
        compiled = core.specs.from_row(row)
        if routing.may_start(conn, user, compiled.model):
            found.append((row, compiled))
    return found


def _summary(row, model) -> dict:
    return {
        "key": row.process_key,
        "name": row.name,
        "version": row.version,
        "category": model.properties.get("category"),
        "deployed_at": local_iso(row.deployed_at),
    }


def _empty_form() -> dict:
    return {"type": "object", "properties": {}}


def startable_processes(core, user: users.User) -> list[dict]:
    """The processes the user may start, newest versions only."""
    with core.db.read() as conn:
        return [_summary(row, compiled.model) for row, compiled in startable(core, conn, user)]


def process_to_start(core, user: users.User, key: str) -> dict:
    """A process's newest active version: its start form (JSON Schema), the priorities, its approval steps,
    and whether the user may start it."""
    with core.db.read() as conn:
        row = definitions.latest(conn, key)
        compiled = core.specs.from_row(row)
        may_start = routing.may_start(conn, user, compiled.model)
    model = compiled.model
    return {
        **_summary(row, model),
        "startable": may_start,
        "start_form": compiled.form(model.start_form) or _empty_form(),
        "priorities": ["紧急", "重要", "正常"],
        "nodes": [{"id": n.id, "name": n.name, "type": n.type} for n in model.nodes.values() if n.type == "userTask"],
    }


def start_list_page(core, user: users.User) -> dict:
    """发起申请: the processes the user may start, by category (其他 last)."""
    with core.db.read() as conn:
        processes = [
            {
                "key": row.process_key,
                "name": compiled.model.name or row.name,
                "category": compiled.model.properties.get("category") or "其他",
                "description": compiled.model.properties.get("description"),
                "version": row.version,
            }
            for row, compiled in startable(core, conn, user)
        ]
        layout = frame.figures(conn, user)
    processes.sort(key=lambda p: (p["category"] == "其他", p["category"], p["name"]))
    return {"processes": processes, "layout": layout}


def start_page(core, user: users.User, key: str) -> dict:
    """The start form of a process (Forbidden when the user may not start it), the users a user field
    offers, and the priorities."""
    with core.db.read() as conn:
        compiled = core.specs.from_row(definitions.latest(conn, key))
        model = compiled.model
        if not routing.may_start(conn, user, model):
            raise Forbidden(f"您无权发起“{model.name}”")
        schema = compiled.form(model.start_form) or _empty_form()
        has_user_field = any(p.get("x-widget") == "user" for p in schema.get("properties", {}).values())
        return {
            "model": model,
            "schema": schema,
            "defaults": claims.form_defaults(conn, schema, user),
            "budget": claims.remaining(conn, model, user),
            "users": directory.active_users(conn) if has_user_field else [],
            "priorities": PRIORITIES,
            "layout": frame.figures(conn, user),
        }


def preview_computed(core, user: users.User, key: str, data) -> dict:
    """What the computed fields of a process's start form come to for a form being filled in (e.g. 天数 from
    the dates), and the problems with them; nothing is saved. 发起 computes them again."""
    with core.db.read() as conn:
        compiled = core.specs.from_row(definitions.latest(conn, key))
        if not routing.may_start(conn, user, compiled.model):
            raise Forbidden(f"您无权发起“{compiled.model.name}”")
        schema = compiled.form(compiled.model.start_form) or _empty_form()
        return form_data.preview(conn, schema, data)
