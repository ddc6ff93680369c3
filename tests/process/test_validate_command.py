"""`oaflow validate` as a designer runs it: one file or a folder, `file:line: element: message` lines, exit
code 1 on any error, `--lang en`, and no web stack or database imported on the way."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import DATA

from oaflow_cli import validate

LINE = re.compile(r"^(警告：|warning: )?[^:\s]+:(\d+|\?): \S+: .+$")


@pytest.fixture
def folder(tmp_path) -> Path:
    for name in ("dz_link_events.bpmn", "dz_link_unmatched.bpmn", "dz_feel_conditions.bpmn", "dz_feel_form.json"):
        (tmp_path / name).write_bytes((DATA / name).read_bytes())
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(validate.command, list(args))


def test_a_folder_is_checked_file_by_file_with_progress_and_fails_on_any_error(folder):
    result = run(str(folder))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert [text.split("] ")[1].rsplit("/", 1)[1] for text in lines if text.startswith("[")] == [
        "dz_feel_conditions.bpmn",
        "dz_link_events.bpmn",
        "dz_link_unmatched.bpmn",
    ]
    problems = [text for text in lines if text.startswith("dz_")]
    assert problems and all(LINE.match(text) for text in problems)
    assert {text.split(":")[0] for text in problems} == {"dz_link_unmatched.bpmn"}
    assert "3 个文件中 1 个有错误，2 个通过" in result.output


def test_a_clean_folder_passes(folder):
    (folder / "dz_link_unmatched.bpmn").unlink()
    result = run(str(folder))
    assert result.exit_code == 0, result.output
    assert "全部通过" in result.output


def test_english_on_request(tmp_path):
    result = run(str(DATA / "dz_tag_mismatch.bpmn"), "--lang", "en")
    assert result.exit_code == 1
    (problem,) = [text for text in result.output.splitlines() if text.startswith("dz_tag_mismatch.bpmn:")]
    assert LINE.match(problem) and "XML is not well formed: the start tag <startEvent>" in problem
    assert "problem(s)" in result.output


def test_validate_imports_no_web_stack_and_no_database():
    probe = (
        "import sys; from oaflow_cli import main; sys.argv = ['oaflow', 'validate', sys.argv[1]]\n"
        "try:\n    main.main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "heavy = sorted(m for m in ('flask', 'sqlalchemy', 'apscheduler', 'webapp', 'waitress') if m in sys.modules)\n"
        "print(code, heavy)"
    )
    env = {k: v for k, v in os.environ.items() if k != "OAFLOW_DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-c", probe, str(DATA / "dz_link_events.bpmn")], capture_output=True, text=True, env=env
    )
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stderr


def test_wants_the_database_only_when_asked():
    assert not validate.wants_database(["a.bpmn"], {})
    assert validate.wants_database(["a.bpmn", "--data-dir", "d"], {})
    assert validate.wants_database(["--data-dir=d", "a.bpmn"], {})
    assert validate.wants_database(["a.bpmn"], {"OAFLOW_DATABASE_URL": "sqlite://"})
