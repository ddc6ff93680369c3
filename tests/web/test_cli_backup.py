"""`oaflow backup` and `oaflow restore` as an administrator runs them (SQLite in temporary data directories):
the numbered steps, the result, and a clear message for each refusal."""

from __future__ import annotations

import re
import shutil
import socket

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from engine.core import Core
from webapp.cli import main


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("OAFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OAFLOW_DATABASE_URL", raising=False)
    for name in ("OAFLOW_BACKUP_DIR", "OAFLOW_BACKUP_KEEP", "OAFLOW_BACKUP_AT"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def invoke(*args, env=None):
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def installed(run, tmp_path, sqlite_template):
    """A data directory as `oaflow demo --prepare-only` leaves it (the demo organisation and processes),
    plus a signing key file."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(sqlite_template, data / "oaflow.sqlite3")
    (data / "secret.key").write_text("key")
    return data


def test_backup_and_restore_print_their_steps_and_result(run, installed, tmp_path):
    made = run("backup", str(tmp_path / "b.tar.gz"))
    assert made.exit_code == 0, made.output
    lines = made.output.splitlines()
    assert re.match(r"^\[1/3\] 复制数据库（SQLite 在线备份）… 完成（\d+ ms）.+ KB，0 个申请，0 个待办$", lines[1])
    assert lines[2].startswith("[2/3] 收集数据目录") and "1 个文件" in lines[2]
    assert lines[3].startswith("[3/3] 写入备份文件")
    result = r"备份完成：.+b\.tar\.gz（[\d.]+ KB）——0 个申请、0 个待办、1 个数据文件，用时 [\d.]+ 秒"
    assert re.search(result, made.output)

    into = tmp_path / "new-data"
    restored = run("restore", str(tmp_path / "b.tar.gz"), "--data-dir", str(into))
    assert restored.exit_code == 0, restored.output
    steps = re.findall(r"^\[(\d)/6\] .+… 完成（\d+ ms）", restored.output, flags=re.M)
    assert steps == ["1", "2", "3", "4", "5", "6"]
    assert "已是最新版本" in restored.output and "恢复完成" in restored.output
    assert "现在可以启动 oaflow serve" in restored.output
    assert (into / "secret.key").read_text() == "key" and (into / "oaflow.sqlite3").exists()

    folder = tmp_path / "daily"
    folder.mkdir()
    assert run("backup", str(folder)).exit_code == 0
    assert [p.name for p in folder.iterdir()][0].startswith("oaflow-backup-")


def test_refusals_end_the_step_and_say_what_to_do(run, installed, tmp_path):
    not_backup = tmp_path / "notes.txt"
    not_backup.write_text("hello")
    refused = run("restore", str(not_backup))
    assert refused.exit_code == 1
    assert "[1/6] 读取备份文件" in refused.output and "… 失败\n" in refused.output
    assert "不是 oaflow 备份文件" in refused.output

    assert run("backup", str(tmp_path / "b.tar.gz")).exit_code == 0
    again = run("backup", str(tmp_path / "b.tar.gz"))
    assert again.exit_code == 1 and "已存在：请换一个文件名" in again.output

    over = run("restore", str(tmp_path / "b.tar.gz"))
    assert over.exit_code == 1
    assert re.search(r"当前数据库不是空的（\d+ 个账号", over.output) and "请加 --force" in over.output
    assert run("restore", str(tmp_path / "b.tar.gz"), "--force").exit_code == 0

    server = Core()  # a running oaflow serve on the same data directory
    with server.db.read() as conn:
        conn.execute(text("SELECT count(*) FROM instance"))
    try:
        busy = run("restore", str(tmp_path / "b.tar.gz"), "--force")
    finally:
        server.db.dispose()
    assert busy.exit_code == 1 and "请先停止所有 oaflow 进程" in busy.output


def test_a_wrong_backup_setting_stops_serve_before_it_listens(run, installed):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    refused = run("serve", "--port", str(port), env={"OAFLOW_BACKUP_AT": "25:99"})
    assert refused.exit_code == 1
    assert "OAFLOW_BACKUP_AT 必须是 时:分，例如 02:30，现在是“25:99”" in refused.output
