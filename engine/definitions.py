"""Deploy, validate and version BPMN + form bundles; keep compiled specs in an in-process cache.

A deployment is validated whole before anything is stored. Each process key gets a new immutable
version only when its content hash changes; deploying the same files again changes nothing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import orjson
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from . import audit, bpmn, forms, policy
from .db import definition, utcnow
from .errors import DeployFailed, DeployProblem, NotFound
from .expressions import ExpressionError, compile_expression, compile_script

BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml", ".xml")
ASSIGNEE_KINDS = {"role", "leader", "user", "initiator", "field", "dept_leader", "admin"}


def _is_bpmn(name: str) -> bool:
    return name.lower().endswith(BPMN_SUFFIXES)


def check_rule(rule: str) -> str | None:
    """None when the assignment rule is well formed, else the reason."""
    rule, _, condition = rule.partition(" if ")
    if condition:
        try:
            compile_expression(condition)
        except ExpressionError as exc:
            return f"审批人规则的条件无效：{exc}"
    kind, _, arg = rule.strip().partition(":")
    if kind not in ASSIGNEE_KINDS:
        return f"未知的审批人规则 '{rule}'（可用：{', '.join(sorted(ASSIGNEE_KINDS))}）"
    if kind in {"role", "user", "field", "dept_leader"} and not arg.strip():
        return f"审批人规则 '{rule}' 缺少参数，例如 {kind}:名称"
    if kind == "leader" and arg and not (arg.isdigit() and 1 <= int(arg) <= 10):
        return f"审批人规则 '{rule}' 的层级必须是 1 到 10 的整数"
    return None


@dataclass
class Compiled:
    """What a command needs from a definition: the SpiffWorkflow specs, our node model and the forms."""

    definition_id: int
    content_hash: str
    spec: object
    subprocess_specs: dict
    model: bpmn.ProcessModel
    forms: dict[str, dict]

    def form(self, name: str | None) -> dict | None:
        return self.forms.get(name) if name else None


@dataclass
class Bundle:
    models: list[bpmn.ProcessModel]
    trees: dict[str, etree._ElementTree]
    texts: dict[str, str]
    forms: dict[str, dict]
    problems: list[DeployProblem]
    warnings: list[DeployProblem]


def read_bundle(files: dict[str, bytes], fallback_forms: dict[str, dict] | None = None) -> Bundle:
    """Parse and check every file; collect every problem instead of stopping at the first."""
    problems: list[DeployProblem] = []
    warnings: list[DeployProblem] = []
    trees: dict[str, etree._ElementTree] = {}
    texts: dict[str, str] = {}
    form_schemas: dict[str, dict] = dict(fallback_forms or {})
    models: list[bpmn.ProcessModel] = []

    if not files:
        problems.append(DeployProblem("-", None, None, "没有上传任何文件"))
    for name, content in files.items():
        if name.lower().endswith(".json"):
            form_name = Path(name).stem
            if len(content) > bpmn.MAX_FILE_BYTES:
                problems.append(DeployProblem(name, None, None, "表单文件过大，上限为 2 MB"))
                continue
            try:
                schema = orjson.loads(content)
                forms.check_schema(schema)
                form_schemas[form_name] = schema
            except orjson.JSONDecodeError as exc:
                problems.append(DeployProblem(name, _json_line(content, exc), None, f"表单不是有效的 JSON：{exc}"))
            except forms.FormProblem as exc:
                problems.append(DeployProblem(name, 1, None, str(exc)))
        elif _is_bpmn(name):
            try:
                tree = bpmn.parse_xml(content, name)
            except bpmn.ProblemError as exc:
                problems.append(exc.problem)
                continue
            file_models, file_problems = bpmn.read_models(tree, name)
            problems.extend(file_problems)
            trees[name] = tree
            texts[name] = content.decode("utf-8")
            models.extend(file_models)
        else:
            problems.append(
                DeployProblem(name, None, None, "不支持的文件类型：只接受 .bpmn / .bpmn20.xml 和表单 .json")
            )

    if problems:
        return Bundle(models, trees, texts, form_schemas, problems, warnings)

    for model in models:
        _check_model(model, form_schemas, problems, warnings)
        if model.executable:
            try:
                bpmn.spiff_specs(trees, model.key)
            except ValidationException as exc:
                problems.append(bpmn.validation_problem(exc, trees, model.file))
            except Exception as exc:  # the library raises plain errors on some malformed models
                problems.append(DeployProblem(model.file, model.line, model.key, f"BPMN 解析失败：{exc}"))
    return Bundle(models, trees, texts, form_schemas, problems, warnings)


def _json_line(content: bytes, exc) -> int | None:
    pos = getattr(exc, "pos", None)
    return content[:pos].count(b"\n") + 1 if isinstance(pos, int) else None


def _check_model(model, form_schemas, problems, warnings) -> None:
    for element, line, kind, text in model.expressions:
        try:
            if kind == "script":
                compile_script(text)
            else:
                compile_expression(text)
        except ExpressionError as exc:
            what = "脚本任务不符合安全求值器" if kind == "script" else "条件表达式不安全或无法解析"
            problems.append(DeployProblem(model.file, line, element, f"{what}：{exc}"))
    for node in model.nodes.values():
        if node.form:
            if node.form not in form_schemas:
                if node.properties.get("form"):
                    problems.append(
                        DeployProblem(
                            model.file, node.line, node.id, f"找不到表单 '{node.form}'（应为 forms/{node.form}.json）"
                        )
                    )
                else:
                    warnings.append(
                        DeployProblem(model.file, node.line, node.id, f"表单 '{node.form}' 不是 JSON 表单，已忽略")
                    )
                    node.form = None
        for rule in node.assignee + node.cc:
            reason = check_rule(rule)
            if reason:
                problems.append(DeployProblem(model.file, node.line, node.id, reason))
        if node.type == "userTask":
            for reason in policy.problems(node, set(model.nodes)):
                problems.append(DeployProblem(model.file, node.line, node.id, reason))
    if model.start_form and model.start_form not in form_schemas:
        problems.append(DeployProblem(model.file, model.line, model.key, f"找不到开始表单 '{model.start_form}'"))


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


def _content_hash(texts: dict[str, str], form_schemas: dict[str, dict], model: bpmn.ProcessModel) -> str:
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


def deploy(conn: Connection, files: dict[str, bytes], actor_id: int | None) -> list[dict]:
    """Validate the files and store a new version of each changed process. Raise DeployFailed."""
    keys = []
    for name, content in files.items():
        if _is_bpmn(name):
            try:
                root = etree.fromstring(content, parser=bpmn._safe_parser())
                keys += [p.get("id") for p in root.iter(f"{{{bpmn.BPMN_NS}}}process")]
            except etree.XMLSyntaxError:
                pass
    bundle = read_bundle(files, latest_forms(conn, keys))
    if bundle.problems:
        raise DeployFailed(bundle.problems)
    results = []
    now = utcnow()
    for model in bundle.models:
        if not model.executable:
            continue
        needed = _called_files(bundle, model.key)
        texts = {name: bundle.texts[name] for name in needed}
        used_forms = {n.form for n in model.nodes.values() if n.form} | ({model.start_form} - {None})
        form_map = {name: bundle.forms[name] for name in sorted(used_forms)}
        content_hash = _content_hash(texts, form_map, model)
        latest = _latest_row(conn, model.key)
        if latest is not None and latest.content_hash == content_hash:
            results.append({"process": model.key, "name": model.name, "version": latest.version, "created": False})
            continue
        version = (latest.version if latest is not None else 0) + 1
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
    return results


def validate_files(files: dict[str, bytes]) -> list[DeployProblem]:
    """What `oaflow validate` reports: every problem, nothing stored."""
    return read_bundle(files).problems


def _latest_row(conn: Connection, key: str):
    return conn.execute(
        select(definition)
        .where(definition.c.process_key == key, definition.c.active.is_(True))
        .order_by(definition.c.version.desc())
        .limit(1)
    ).first()


def latest(conn: Connection, key: str):
    row = _latest_row(conn, key)
    if row is None:
        raise NotFound(f"流程 '{key}' 不存在或未部署")
    return row


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


# --- compiled-spec cache ---------------------------------------------------------------------


class SpecCache:
    """In-process cache of compiled definitions keyed by content hash (never parse BPMN per request)."""

    def __init__(self, size: int = 256):
        self._items: OrderedDict[str, Compiled] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size
        self.misses = 0

    def get(self, conn: Connection, definition_id: int) -> Compiled:
        by_id = self._by_id(definition_id)
        if by_id is not None:
            return by_id
        row = conn.execute(select(definition).where(definition.c.id == definition_id)).first()
        if row is None:
            raise NotFound(f"流程定义 {definition_id} 不存在")
        return self.from_row(row)

    def _by_id(self, definition_id: int) -> Compiled | None:
        with self._lock:
            for item in self._items.values():
                if item.definition_id == definition_id:
                    return item
        return None

    def from_row(self, row) -> Compiled:
        with self._lock:
            hit = self._items.get(row.content_hash)
            if hit is not None and hit.definition_id == row.id:
                self._items.move_to_end(row.content_hash)
                return hit
        self.misses += 1
        stored = orjson.loads(row.bundle)
        trees = {name: bpmn.parse_xml(text.encode("utf-8"), name) for name, text in stored["files"].items()}
        spec, subprocess_specs = bpmn.spiff_specs(trees, row.process_key)
        compiled = Compiled(
            definition_id=row.id,
            content_hash=row.content_hash,
            spec=spec,
            subprocess_specs=subprocess_specs,
            model=bpmn.ProcessModel.from_json(orjson.loads(row.meta)),
            forms=stored["forms"],
        )
        with self._lock:
            self._items[row.content_hash] = compiled
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return compiled


# --- the process library shipped with the product ---------------------------------------------


def _package_dir(package: str, repo_folder: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parent.parent / repo_folder


def library_dirs() -> tuple[Path, Path]:
    """bpmn/ and forms/: the repository's folders, or their installed copies (package data)."""
    return _package_dir("oaflow_bpmn", "bpmn"), _package_dir("oaflow_forms", "forms")


def library_files() -> dict[str, bytes]:
    bpmn_dir, forms_dir = library_dirs()
    files = {p.name: p.read_bytes() for p in sorted(bpmn_dir.glob("*.bpmn"))}
    files.update({p.name: p.read_bytes() for p in sorted(forms_dir.glob("*.json"))})
    return files


def read_paths(paths) -> dict[str, bytes]:
    """Files named on the command line; a folder contributes its .bpmn and .json files."""
    files: dict[str, bytes] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and (_is_bpmn(child.name) or child.suffix == ".json"):
                    files[child.name] = child.read_bytes()
        else:
            files[path.name] = path.read_bytes()
    return files
