"""`oaflow validate`: check BPMN and form files as a deployment would, storing nothing.

Imports only the deploy-time checks (engine.process.bundle): no web stack, no database driver. Each problem
is one line `file:line: element: message` (warnings start with “警告：”), in Chinese or, with `--lang en`, in
English. Files named one by one are checked together, as one deployment; a folder contributes each of its
BPMN files as a deployment of its own (with the forms given and the files defining the processes it calls),
with progress on the way. The exit code is 1 when any file has an error, 0 when there are only warnings.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import click

from engine.errors import DeployProblem
from engine.process import library
from engine.process.bundle import Bundle, read_bundle
from engine.process.validation.english import in_english

LANGS = ("zh", "en")
WORDS = {
    "checking": ("校验 {n} 个文件…", "Checking {n} file(s)…"),
    "warning": ("警告：", "warning: "),
    "failed": (
        "发现 {p} 个问题、{w} 个警告，请修改后重试。",
        "{p} problem(s) and {w} warning(s): please correct them and retry.",
    ),
    "passed": ("全部通过{extra}。", "All passed{extra}."),
    "warned": ("（{w} 个警告）", " ({w} warning(s))"),
    "files": (
        "{n} 个文件中 {bad} 个有错误，{ok} 个通过（{s:.2f} 秒）",
        "{bad} of {n} file(s) have errors, {ok} passed ({s:.2f} s)",
    ),
}


def wants_database(args: list[str], environ) -> bool:
    """Checking against an organisation and earlier forms needs the database (and so the full application)."""
    return any(a == "--data-dir" or a.startswith("--data-dir=") for a in args) or bool(
        environ.get("OAFLOW_DATABASE_URL")
    )


def say(key: str, lang: str, **values) -> str:
    return WORDS[key][LANGS.index(lang)].format(**values)


def shown(problem: DeployProblem, lang: str) -> str:
    if lang == "en":
        problem = DeployProblem(
            problem.file, problem.line, problem.element, in_english(problem.message), problem.severity
        )
    return str(problem)


def run(paths, lang: str, check: Callable[[dict[str, bytes]], Bundle] = read_bundle) -> int:
    """Check the paths, print every problem; the exit code."""
    bundles = library.read_bundles(paths)
    total = sum(len(files) for _name, files in bundles)
    click.echo(say("checking", lang, n=total if len(bundles) == 1 else len(bundles)), err=True)
    started, failed, problems, warnings = time.perf_counter(), 0, 0, 0
    for number, (name, files) in enumerate(bundles, start=1):
        if len(bundles) > 1:
            click.echo(f"[{number}/{len(bundles)}] {name}", err=True)
        bundle = check(files)
        for problem in bundle.problems:
            click.echo(shown(problem, lang), err=True)
        for warning in bundle.warnings:
            click.echo(say("warning", lang) + shown(warning, lang), err=True)
        failed += bool(bundle.problems)
        problems += len(bundle.problems)
        warnings += len(bundle.warnings)
    if len(bundles) > 1:
        seconds = time.perf_counter() - started
        click.echo(say("files", lang, n=len(bundles), bad=failed, ok=len(bundles) - failed, s=seconds), err=True)
    if problems:
        click.echo(say("failed", lang, p=problems, w=warnings), err=True)
        return 1
    click.echo(say("passed", lang, extra=say("warned", lang, w=warnings) if warnings else ""), err=True)
    return 0


@click.command("validate", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--lang", type=click.Choice(LANGS), default="zh", show_default=True, help="说明的语言（en：英文）")
def command(paths, lang: str) -> None:
    """校验 BPMN 与表单文件，不写入数据库（文件夹：逐个校验其中的 BPMN 文件）。

    每个问题按 文件:行: 元素: 说明 输出（警告以“警告：”开头）；有错误时返回 1，只有警告时返回 0。"""
    sys.exit(run(paths, lang))
