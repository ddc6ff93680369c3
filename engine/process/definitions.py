"""Deploy, validate and version BPMN + form bundles; keep compiled specs in an in-process cache.

A deployment is validated whole before anything is stored. Each process key gets a new immutable
version only when its content hash changes; deploying the same files again changes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib

import orjson
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.engine import Connection

from engine.errors import DeployFailed, DeployProblem, NotFound
from engine.process import bpmn
from engine.process.bundle import Bundle, read_bundle
from engine.process.library import is_bpmn
from engine.process.model import ProcessModel
from engine.store import audit
from engine.store.fastsql import Prepared
from engine.store.tables import definition, role, user_account, utcnow


def _called_files(bundle: Bundle, key: str) -> list[str]:
    """The file of the process and of every process it calls (call activities), in a stable order."""
    owner = {m.key: m.file for m in bundle.models}
    needed = [owner[key]]
    try:
        specs = bpmn.spiff_specs(bundle.trees, key)[1]
    except ValidationException:
        specs = {}
    for called in sorted(specs):
        if called in owner and owner[called] not in needed:
            needed.append(owner[called])
    return needed


def _with_called_nodes(bundle: Bundle, model: ProcessModel, needed: list[str]) -> ProcessModel:
    """The model plus the nodes of the processes it calls, so their user tasks get work items too."""
    nodes = dict(model.nodes)
    try:
        called = set(bpmn.spiff_specs(bundle.trees, model.key)[1])
    except ValidationException:
        called = set()
    for other in bundle.models:
        if other.key in called and other.key != model.key and other.file in needed:
            for ident, node in other.nodes.items():
                nodes.setdefault(ident, node)
    return dataclasses.replace(model, nodes=nodes)


def _content_hash(texts: dict[str, str], form_schemas: dict[str, dict], model: ProcessModel) -> str:
    digest = hashlib.sha256()
    for name in sorted(texts):
        digest.update(name.encode() + b"\0" + texts[name].encode() + b"\0")
    used = sorted({n.form for n in model.nodes.values() if n.form} | ({model.start_form} - {None}))
    for name in used:
        digest.update(name.encode() + b"\0" + orjson.dumps(form_schemas[name], option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


def latest_forms(conn: Connection, keys) -> dict[str, dict]:
    """Forms of the newest versions of these process keys, so a BPMN-only redeploy keeps its forms."""
    result: dict[str, dict] = {}
    for key in keys:
        row = _latest_row(conn, key)
        if row is not None:
            result.update(orjson.loads(row.bundle)["forms"])
    return result


def _process_keys(files: dict[str, bytes]) -> list[str]:
    keys = []
    for name, content in files.items():
        if is_bpmn(name) and len(content) <= bpmn.MAX_FILE_BYTES:
            try:
                root = etree.fromstring(content, parser=bpmn._safe_parser())
                keys += [p.get("id") for p in root.iter(f"{{{bpmn.BPMN_NS}}}process")]
            except etree.XMLSyntaxError:
                pass
    return keys


def deploy(conn: Connection, files: dict[str, bytes], actor_id: int | None) -> list[dict]:
    """Validate the files and store a new version of each changed process. Raise DeployFailed."""
    return deploy_bundle(conn, files, actor_id)[0]


def deploy_bundle(conn: Connection, files: dict[str, bytes], actor_id: int | None) -> tuple[list[dict], Bundle]:
    """deploy(), also returning the checked bundle (for its warnings). Raise DeployFailed."""
    bundle = check_files(conn, files)
    if bundle.problems:
        raise DeployFailed(bundle.problems, bundle.warnings)
    results = []
    now = utcnow()
    for model in bundle.models:
        if not model.executable:
            continue
        needed = _called_files(bundle, model.key)
        model = _with_called_nodes(bundle, model, needed)
        texts = {name: bundle.texts[name] for name in needed}
        used_forms = {n.form for n in model.nodes.values() if n.form} | ({model.start_form} - {None})
        form_map = {name: bundle.forms[name] for name in sorted(used_forms)}
        content_hash = _content_hash(texts, form_map, model)
        latest = _latest_row(conn, model.key)
        if latest is not None and latest.content_hash == content_hash:
            results.append({"process": model.key, "name": model.name, "version": latest.version, "created": False})
            continue
        # Numbered after every version, deactivated ones included: numbers are never reused.
        version = (
            conn.execute(select(func.max(definition.c.version)).where(definition.c.process_key == model.key)).scalar()
            or 0
        ) + 1
        def_id = conn.execute(
            insert(definition).values(
                process_key=model.key,
                version=version,
                name=model.name,
                content_hash=content_hash,
                bpmn_file=model.file,
                bpmn_xml=bundle.texts[model.file],
                bundle=orjson.dumps({"files": texts, "forms": form_map}).decode(),
                meta=orjson.dumps(model.to_json()).decode(),
                active=True,
                deployed_by=actor_id,
                deployed_at=now,
            )
        ).inserted_primary_key[0]
        audit.record(
            conn,
            "deployed",
            actor_id=actor_id,
            message=f"部署流程 {model.name}（{model.key}）第 {version} 版",
        )
        results.append({"process": model.key, "name": model.name, "version": version, "created": True, "id": def_id})
    return results, bundle


def validate_files(files: dict[str, bytes]) -> list[DeployProblem]:
    """What `oaflow validate` reports: every problem, nothing stored."""
    return read_bundle(files).problems


def check_files(conn: Connection | None, files: dict[str, bytes]) -> Bundle:
    """Validate as a deployment would (forms of earlier versions, the organisation), storing nothing."""
    if conn is None:
        return read_bundle(files)
    return read_bundle(files, latest_forms(conn, _process_keys(files)), org_names(conn))


def org_names(conn: Connection) -> tuple[set[str], set[str]]:
    """(role names, usernames): what assignee rules may name."""
    roles = {row.name for row in conn.execute(select(role.c.name))} | {"系统管理员", "流程管理员", "文件管理员"}
    users = {row.username for row in conn.execute(select(user_account.c.username))}
    return roles, users


def _latest_row(conn: Connection, key: str):
    return conn.execute(
        select(definition)
        .where(definition.c.process_key == key, definition.c.active.is_(True))
        .order_by(definition.c.version.desc())
        .limit(1)
    ).first()


_LATEST_HEAD = Prepared(
    select(definition.c.id, definition.c.process_key, definition.c.version, definition.c.content_hash)
    .where(definition.c.process_key == bindparam("key"), definition.c.active.is_(True))
    .order_by(definition.c.version.desc())
    .limit(1)
)


def latest_head(conn: Connection, key: str):
    """The newest active version's id and hash, without its files (the compiled spec is cached by id)."""
    row = conn.execute(_LATEST_HEAD, {"key": key}).first()
    if row is None:
        raise NotFound(f"流程 '{key}' 不存在或未部署")
    return row


def latest(conn: Connection, key: str):
    row = _latest_row(conn, key)
    if row is None:
        raise NotFound(f"流程 '{key}' 不存在或未部署")
    return row


def bpmn_xml(conn: Connection, definition_id: int) -> str | None:
    """The stored BPMN file of a deployed version (for its diagram)."""
    return conn.execute(select(definition.c.bpmn_xml).where(definition.c.id == definition_id)).scalar()


def list_latest(conn: Connection) -> list:
    newest = (
        select(definition.c.process_key, func.max(definition.c.version).label("version"))
        .where(definition.c.active.is_(True))
        .group_by(definition.c.process_key)
        .subquery()
    )
    return list(
        conn.execute(
            select(definition)
            .join(
                newest,
                (newest.c.process_key == definition.c.process_key) & (newest.c.version == definition.c.version),
            )
            .order_by(definition.c.name)
        )
    )
