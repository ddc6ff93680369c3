"""Deploy, validate and version BPMN + form bundles; keep compiled specs in an in-process cache.

A deployment is validated whole before anything is stored. Each process key gets a new immutable
version only when its content hash changes; deploying the same files again changes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

import orjson
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.engine import Connection

from engine.errors import DeployFailed, DeployProblem, NotFound
from engine.process import bpmn, forms
from engine.process.library import is_bpmn
from engine.process.model import ProcessModel, read_models
from engine.process.validation.model import check_model
from engine.process.validation.report import Report
from engine.process.validation.spiff_messages import spiff_message
from engine.process.validation.structure import check_document, check_structure
from engine.store import audit
from engine.store.fastsql import Prepared
from engine.store.tables import definition, role, user_account, utcnow


@dataclass
class Bundle:
    models: list[ProcessModel]
    trees: dict[str, etree._ElementTree]
    texts: dict[str, str]
    forms: dict[str, dict]
    problems: list[DeployProblem]
    warnings: list[DeployProblem]


def read_bundle(
    files: dict[str, bytes],
    fallback_forms: dict[str, dict] | None = None,
    org: tuple[set[str], set[str]] | None = None,
) -> Bundle:
    """Parse and check every file; collect every problem of every file instead of stopping at the first.

    `org` is (role names, usernames) when a database is at hand, so unknown roles and users are named.
    """
    report = Report()
    trees: dict[str, etree._ElementTree] = {}
    texts: dict[str, str] = {}
    form_schemas: dict[str, dict] = dict(fallback_forms or {})
    models: list[ProcessModel] = []
    broken: set[str] = set()  # files with structural errors: SpiffWorkflow would only add noise about them

    if not files:
        report.error("-", None, None, "没有上传任何文件")
    for name, content in files.items():
        if name.lower().endswith(".json"):
            _read_form(name, content, form_schemas, report)
        elif is_bpmn(name):
            try:
                tree = bpmn.parse_xml(content, name)
            except bpmn.ProblemError as exc:
                report.problems.append(exc.problem)
                continue
            if not check_document(tree, name, report):
                continue
            changes = bpmn.normalize_ids(tree, name)
            report.warnings.extend(changes)
            before = len(report.problems)
            check_structure(tree, name, report)
            file_models, file_problems = read_models(tree, name)
            report.problems.extend(file_problems)
            if len(report.problems) > before:
                broken.add(name)
            trees[name] = tree
            texts[name] = _stored_text(content, tree, changed=bool(changes))
            models.extend(file_models)
        else:
            report.error(name, None, None, "不支持的文件类型：只接受 .bpmn / .bpmn20.xml 和表单 .json")

    for model in models:
        form_schemas.update(model.forms)
    for model in models:
        check_model(model, trees[model.file], form_schemas, report, org)
        _check_lengths(model, report)
    healthy = {name: tree for name, tree in trees.items() if name not in broken}
    for model in models:
        if not model.executable or model.file in broken:
            continue
        try:
            bpmn.spiff_specs(healthy, model.key)
        except ValidationException as exc:
            problem = bpmn.validation_problem(exc, trees, model.file)
            problem.message = "BPMN 校验失败：" + spiff_message(problem.message.split("：", 1)[-1])
            report.problems.append(problem)
        except Exception as exc:  # the library raises plain errors on some malformed models
            message = spiff_message(str(exc))
            report.error(model.file, model.line, model.key, f"BPMN 解析失败：{message}")
    if trees and not report.problems and not any(m.executable for m in models):
        first = next(iter(trees))
        report.error(first, None, None, '没有可执行的流程：请在 bpmn:process 上设置 isExecutable="true"')
    return Bundle(models, trees, texts, form_schemas, report.problems, report.warnings)


# What the columns that store them hold (definition, work_item, event_log): longer is refused at deploy.
MAX_FILE_NAME = 255
MAX_ELEMENT = 200  # process key and name, element id and name


def _check_lengths(model: ProcessModel, report: Report) -> None:
    if len(model.file) > MAX_FILE_NAME:
        report.error(model.file[:60] + "…", None, None, f"文件名过长：最多 {MAX_FILE_NAME} 个字符，请改短后再上传")
    named = [(model.key, model.line, model.key, model.name, "流程")]
    named += [(node.id, node.line, node.id, node.name, "节点") for node in model.nodes.values()]
    for element, line, ident, name, what in named:
        for label, text in (("id", ident), ("名称（name）", name)):
            if text and len(text) > MAX_ELEMENT:
                report.error(model.file, line, element, f"{what}的 {label} 过长：最多 {MAX_ELEMENT} 个字符，请改短")


def _read_form(name: str, content: bytes, form_schemas: dict[str, dict], report: Report) -> None:
    form_name = Path(name).stem
    if len(content) > bpmn.MAX_FILE_BYTES:
        report.error(name, None, None, "表单文件过大，上限为 2 MB")
        return
    try:
        schema = orjson.loads(content)
        forms.check_schema(schema)
        form_schemas[form_name] = schema
    except orjson.JSONDecodeError as exc:
        report.error(name, _json_line(content, exc), None, f"表单不是有效的 JSON：{exc}")
    except forms.FormProblem as exc:
        report.error(name, _field_line(content, exc.field), exc.field, str(exc))


def _stored_text(content: bytes, tree: etree._ElementTree, *, changed: bool) -> str:
    """What is stored: the upload as is, or the normalized tree when ids were generated or renamed."""
    if not changed:
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def _field_line(content: bytes, field: str | None) -> int:
    """The line where a form declares `field` (the first line of the file when unknown)."""
    at = content.find(orjson.dumps(field) + b":") if field else -1
    return content[:at].count(b"\n") + 1 if at >= 0 else 1


def _json_line(content: bytes, exc) -> int | None:
    pos = getattr(exc, "pos", None)
    return content[:pos].count(b"\n") + 1 if isinstance(pos, int) else None


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
