"""Read a bundle of BPMN and form files and check it whole, as a deployment and `oaflow validate` do.

Pure: no database, no web stack, so `oaflow validate` imports only this and what it needs (lxml,
SpiffWorkflow's parser, the checks). `definitions` stores what this module accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from engine.errors import DeployProblem
from engine.process import bpmn, forms
from engine.process.library import is_bpmn
from engine.process.model import ProcessModel, read_models
from engine.process.validation.loops import check_loops
from engine.process.validation.model import check_model
from engine.process.validation.report import Report
from engine.process.validation.spiff_messages import spiff_message
from engine.process.validation.structure import check_document, check_structure
from engine.process.validation.waiting import check_waiting


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
            check_loops(tree, name, report)
            check_waiting(tree, name, report)
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
        # A descriptive pool (isExecutable="false") never runs: what would refuse a process is a warning there.
        checked = report if model.executable else Report()
        check_model(model, trees[model.file], form_schemas, checked, org)
        _check_lengths(model, checked)
        report.warnings += [_descriptive(p) for p in checked.problems] if checked is not report else []
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
    if models and not any(m.executable for m in models):  # the real blocker: said first
        first = models[0]
        report.problems.insert(
            0,
            DeployProblem(
                first.file,
                first.line,
                first.key,
                '没有可执行的流程：请在要运行的 bpmn:process 上设置 isExecutable="true"',
            ),
        )
    return Bundle(models, trees, texts, form_schemas, report.problems, report.warnings)


def _descriptive(problem: DeployProblem) -> DeployProblem:
    message = f'{problem.message}（描述性流程 isExecutable="false"，不会运行，仅作提示）'
    return DeployProblem(problem.file, problem.line, problem.element, message, severity="warning")


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
