"""The dependency rule (docs/architecture.md) as part of the test run, so a change that breaks it fails here
as well as in CI: the import contracts hold, no production module imports inside a function, and the web
layer and the schedulers open no transaction of their own."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

from importlinter import cli

REPO = Path(__file__).resolve().parents[1]
PRODUCTION = ("engine", "webapp", "schedulers")


def python_files(*folders: str):
    for folder in folders:
        yield from sorted((REPO / folder).rglob("*.py"))


def test_the_import_contracts_hold(monkeypatch):
    monkeypatch.chdir(REPO)
    assert cli.lint_imports(config_filename=str(REPO / ".importlinter"), no_cache=True, no_logo=True) == 0


def test_no_import_inside_a_function_body():
    found = []
    for path in python_files(*PRODUCTION):
        if "alembic" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found += [
                    f"{path.relative_to(REPO)}:{inner.lineno}"
                    for inner in ast.walk(node)
                    if isinstance(inner, (ast.Import, ast.ImportFrom))
                ]
    assert found == []


def test_the_web_layer_and_the_schedulers_open_no_transaction():
    opened = re.compile(r"\.db\.(read|write|lookup)\(|\.engine\.(begin|connect)\(")
    found = [
        f"{path.relative_to(REPO)}:{number}"
        for path in python_files("webapp", "schedulers")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if opened.search(line)
    ]
    assert found == []


def test_no_production_module_over_four_hundred_lines():
    long = {
        str(path.relative_to(REPO)): count
        for path in python_files(*PRODUCTION)
        if "alembic" not in path.parts and (count := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}, f"split by concern: {long}"


def test_every_package_is_installed():
    """setup.cfg lists the packages by hand: a new folder missing there works in a checkout and breaks an install."""
    listed = {
        line.strip()
        for line in (REPO / "setup.cfg").read_text(encoding="utf-8").split("[options]")[1].split("\n\n")[0].splitlines()
    }
    packages = {
        ".".join(Path(root).relative_to(REPO).parts)
        for root, _dirs, files in os.walk(REPO / "engine")
        if "__init__.py" in files
    }
    assert packages - listed == set()
