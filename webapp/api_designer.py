"""REST API for process designers and integrations (/api/v1): validation, versions and migration, diagrams,
external work, messages and signals. Each route parses input, calls one engine function and returns JSON;
domain errors become status codes in the app's error handler."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request

from engine import fields
from engine.errors import DeployFailed, FieldError, InvalidData
from engine.work import deployment, events
from engine.work import migration as instance_migration
from engine.work.views import detail as details

from . import auth
from .i18n_designer import problem_dict
from .inputs import int_arg, optional_json_body, uploaded_files

bp = Blueprint("api_designer", __name__, url_prefix="/api/v1")


def _core():
    return current_app.extensions["oaflow"]


def _int(body: dict, name: str) -> int:
    return fields.identifier(body.get(name), name, f"{name}（版本号）")


def _instance_ids(body: dict) -> list[int] | None:
    value = body.get("instance_ids")
    return None if value is None else fields.identifiers(value, "instance_ids", "instance_ids（申请编号）")


# --- validation ---------------------------------------------------------------------------------------


@bp.post("/deployments/validate")
@auth.api_login_required
def validate():
    """Check files as a deployment would (earlier forms, the organisation) without storing anything."""
    bundle = deployment.validate(_core(), g.user, uploaded_files())
    body = {
        "errors": [problem_dict(p) for p in bundle.problems],
        "warnings": [problem_dict(p) for p in bundle.warnings],
        "processes": [{"key": m.key, "name": m.name, "executable": m.executable} for m in bundle.models],
    }
    if bundle.problems:
        body["error"] = str(DeployFailed(bundle.problems).message)
        return jsonify(body), 422
    return jsonify(body)


# --- versions and migration -----------------------------------------------------------------------------


@bp.get("/processes/<key>/versions")
@auth.api_login_required
def process_versions(key):
    return jsonify({"process": key, "items": deployment.list_versions(_core(), g.user, key)})


@bp.post("/processes/<key>/versions/<int:version>/deactivate")
@auth.api_login_required
def deactivate(key, version):
    return jsonify(deployment.set_active(_core(), g.user.username, key, version, False))


@bp.post("/processes/<key>/versions/<int:version>/activate")
@auth.api_login_required
def activate(key, version):
    return jsonify(deployment.set_active(_core(), g.user.username, key, version, True))


@bp.get("/processes/<key>/diff")
@auth.api_login_required
def diff(key):
    if "from" not in request.args or "to" not in request.args:
        raise InvalidData([FieldError("from", "请用 ?from=版本&to=版本 指定要比较的两个版本")])
    old, new = int_arg("from", 0, high=fields.ID_MAX), int_arg("to", 0, high=fields.ID_MAX)
    return jsonify(deployment.diff(_core(), g.user, key, old, new))


@bp.post("/processes/<key>/migrations/dry-run")
@auth.api_login_required
def migration_dry_run(key):
    body = optional_json_body()
    result = instance_migration.dry_run(
        _core(), g.user.username, key, _int(body, "from_version"), _int(body, "to_version"), _instance_ids(body)
    )
    return jsonify(result)


@bp.post("/processes/<key>/migrations")
@auth.api_login_required
def migration(key):
    body = optional_json_body()
    result = instance_migration.migrate(
        _core(), g.user.username, key, _int(body, "from_version"), _int(body, "to_version"), _instance_ids(body)
    )
    return jsonify(result)


@bp.get("/processes/<key>/versions/<int:version>/diagram")
@auth.api_login_required
def version_diagram(key, version):
    """The deployed version's diagram as SVG (server-side, from the file's diagram interchange)."""
    return Response(deployment.diagram_svg(_core(), g.user, key, version), mimetype="image/svg+xml")


# --- external work, messages, signals ---------------------------------------------------------------------


@bp.get("/instances/<int:instance_id>/waiting")
@auth.api_login_required
def waiting(instance_id):
    return jsonify({"id": instance_id, "items": details.waiting_for(_core(), g.user, instance_id)})


@bp.post("/instances/<int:instance_id>/external/<element>")
@auth.api_login_required
def complete_external(instance_id, element):
    body = optional_json_body()
    return jsonify(events.complete_external(_core(), g.user.username, instance_id, element, body.get("data")))


@bp.post("/instances/<int:instance_id>/messages")
@auth.api_login_required
def instance_message(instance_id):
    body = optional_json_body()
    return jsonify(events.send_message(_core(), g.user.username, instance_id, body.get("name"), body.get("payload")))


@bp.post("/messages")
@auth.api_login_required
def start_message():
    """A message nobody waits for starts the processes whose start event catches it."""
    body = optional_json_body()
    return jsonify(events.start_by_message(_core(), g.user.username, body.get("name"), body.get("payload"))), 201


@bp.post("/signals")
@auth.api_login_required
def signal():
    body = optional_json_body()
    return jsonify(events.broadcast_signal(_core(), g.user.username, body.get("name"), body.get("payload")))
