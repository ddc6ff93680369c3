"""备份与恢复 on the engine API: what a backup holds, that a restore puts exactly that back (upgrading an
older backup), and every refusal, each with the message an administrator reads. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import tarfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from engine.core import Core
from engine.store import backup, backup_archive, backup_sqlite, schema
from engine.store.backup_archive import BackupError
from engine.store.database import Database
from engine.store.tables import instance, setting, work_item
from engine.work import initiate

LEAVE = {"leave_type": "年假", "start_date": "2026-11-23", "end_date": "2026-11-24", "reason": "探亲"}
# Migration 0008's test rows, valid at revision 0006: an account, a process, an application, two work items.
OLD_ROWS = [
    "INSERT INTO user_account (id, username, display_name, password_hash, is_admin, active, created_at) "
    "VALUES (1, 'u', 'U', 'x', false, true, '2026-01-01 00:00:00')",
    "INSERT INTO definition (id, process_key, version, name, content_hash, bpmn_file, bpmn_xml, bundle, meta, active, "
    "deployed_at) VALUES (1, 'p', 1, 'P', 'h', 'p.bpmn', '', '{}', '{}', true, '2026-01-01 00:00:00')",
    "INSERT INTO instance (id, definition_id, process_key, title, initiator_id, status, priority, current_nodes, data, "
    "state, version, created_at, updated_at) VALUES (1, 1, 'p', 't', 1, 'running', '正常', '', '{}', '{}', 1, "
    "'2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    "INSERT INTO work_item (id, instance_id, task_id, node_id, node_name, kind, assignee_id, status, created_at) "
    "VALUES (7, 1, 'a', 'n', 'N', 'approve', 1, 'done', '2026-01-01 09:00:00')",
    "INSERT INTO work_item (id, instance_id, task_id, node_id, node_name, kind, assignee_id, status, created_at) "
    "VALUES (9, 1, 'b', 'n2', 'N2', 'approve', 1, 'open', '2026-01-02 09:00:00')",
]


class Recorder:
    """A Progress that remembers each step and when it began."""

    def __init__(self):
        self.steps: list[tuple[str, float]] = []
        self.details: list[str] = []

    def step(self, text: str) -> None:
        self.steps.append((text, time.monotonic()))

    def detail(self, text: str) -> None:
        self.details.append(text)


def counts(core) -> tuple[int, int]:
    with core.db.read() as conn:
        return (
            conn.execute(select(func.count()).select_from(instance)).scalar(),
            conn.execute(select(func.count()).select_from(work_item)).scalar(),
        )


def manifest_of(path: Path) -> dict:
    with tarfile.open(path, "r:gz") as tar:
        return json.loads(tar.extractfile(tar.next()).read())


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """A data directory with a signing key and an attachment, as the product will keep them."""
    directory = tmp_path / "data"
    (directory / "attachments" / "2026").mkdir(parents=True)
    (directory / "secret.key").write_bytes(b"k" * 64)
    os.chmod(directory / "secret.key", 0o600)
    (directory / "attachments" / "2026" / "合同.pdf").write_bytes(os.urandom(50_000))
    return directory


@pytest.fixture
def sqlite_core(sqlite_template, tmp_path):
    """For what only SQLite has: the demo database in `tmp_path`, as `oaflow demo` lays out a data directory."""
    shutil.copy(sqlite_template, tmp_path / "oaflow.sqlite3")
    core = Core(url=f"sqlite:///{tmp_path / 'oaflow.sqlite3'}")
    yield core
    core.db.dispose()


@pytest.fixture
def target(empty_url, tmp_path):
    """An empty database and data directory to restore into."""
    core = Core(url=empty_url)
    yield core, tmp_path / "restored"
    core.db.dispose()


def test_round_trip_database_and_data_files(core, data_dir, target, tmp_path):
    for _ in range(3):
        initiate.start(core, "zhangsan", "leave", dict(LEAVE))
    expected = counts(core)
    steps = Recorder()
    made = backup.create(core, tmp_path, steps, data_dir=data_dir)

    names = [text.split("（")[0].split(" ")[0] for text, _ in steps.steps]
    assert names == ["复制数据库", "收集数据目录", "写入备份文件"]
    assert len(steps.steps) == backup.BACKUP_STEPS
    assert made.path.parent == tmp_path and made.path.name.startswith("oaflow-backup-")
    assert (made.instances, made.work_items, made.files) == (*expected, 2)
    assert made.path.stat().st_mode & 0o777 == 0o600  # it holds the signing key
    manifest = manifest_of(made.path)
    assert manifest["format"] == "oaflow-backup" and manifest["format_version"] == 1
    assert manifest["schema_revision"] == schema.head_revision()
    assert (manifest["instances"], manifest["work_items"]) == expected
    assert sorted(f["path"] for f in manifest["files"]) == ["attachments/2026/合同.pdf", "secret.key"]

    restored_core, restored_dir = target
    steps = Recorder()
    result = backup.restore(restored_core, made.path, steps, data_dir=restored_dir)
    assert len(steps.steps) == backup.RESTORE_STEPS
    assert counts(restored_core) == expected
    assert (result.schema_revision, result.upgraded_from) == (schema.head_revision(), None)
    for name in ("secret.key", "attachments/2026/合同.pdf"):
        assert (restored_dir / name).read_bytes() == (data_dir / name).read_bytes()
    assert (restored_dir / "secret.key").stat().st_mode & 0o777 == 0o600
    assert not [p for p in restored_dir.rglob("*") if p.name.startswith(".oaflow-")]  # no work files left


def test_sqlite_files_backups_and_unfinished_archives_are_not_data_files(sqlite_core, tmp_path):
    """The data directory as `oaflow demo` lays it out: the live database and its log beside the files."""
    core = sqlite_core
    live = Path(core.db.engine.url.database)
    initiate.start(core, "zhangsan", "leave", dict(LEAVE))  # a write: the -wal and -shm files exist
    (tmp_path / "backups").mkdir()
    (tmp_path / "backups" / "oaflow-backup-20260101-020000.tar.gz").write_bytes(b"old")
    (tmp_path / "x.tar.gz.partial").write_bytes(b"half")
    (tmp_path / "secret.key").write_bytes(b"k")
    assert live.parent == tmp_path and live.with_name(live.name + "-wal").exists()
    made = backup.create(core, tmp_path / "b.tar.gz", data_dir=tmp_path)
    assert [f["path"] for f in manifest_of(made.path)["files"]] == ["secret.key"]


def test_a_backup_is_one_moment_and_never_stops_writers(sqlite_core, tmp_path, monkeypatch):
    """SQLite: commands keep committing while the copy runs, and the copy holds
    exactly the applications of the moment it began (the counts in its manifest are its own)."""
    core = sqlite_core
    monkeypatch.setattr(backup_sqlite, "PAGES_PER_STEP", 2)  # stretch the copy over ~100 steps
    monkeypatch.setattr(backup_sqlite, "PAUSE_SECONDS", 0.02)
    started_before, commits, stop = counts(core)[0], [], threading.Event()

    def writer():
        while not stop.is_set():
            began = time.monotonic()
            initiate.start(core, "zhangsan", "leave", dict(LEAVE))
            commits.append((began, time.monotonic()))

    thread = threading.Thread(target=writer)
    thread.start()
    steps = Recorder()
    try:
        time.sleep(0.2)
        made = backup.create(core, tmp_path / "b.tar.gz", steps, data_dir=tmp_path / "none")
    finally:
        stop.set()
        thread.join()
    copy_began, copy_ended = steps.steps[0][1], steps.steps[1][1]
    during = [(a, b) for a, b in commits if a > copy_began and b < copy_ended]
    assert copy_ended - copy_began > 0.5
    # Commands began and committed while the copy ran: it never held the write lock for its length. (How
    # fast each was is measured in benchmarks, not asserted here: a loaded CI machine would flake.)
    assert len(during) >= 2, "writers were held up by the backup"

    with tarfile.open(made.path, "r:gz") as tar:
        tar.extract("database.sqlite3", tmp_path / "x")
    conn = sqlite3.connect(tmp_path / "x" / "database.sqlite3")
    in_copy = conn.execute("SELECT count(*) FROM instance").fetchone()[0]
    conn.close()
    assert in_copy == made.instances
    assert started_before < in_copy < counts(core)[0]


def test_an_older_backup_is_upgraded_on_restore(empty_url, core, tmp_path):
    """A backup from before migrations 0007 and 0008, restored over a database of the newest schema: the
    newer tables and triggers are dropped first, then the restored database is brought up to date."""
    old = Database(empty_url)
    try:
        schema.upgrade(old, "0006")
        with old.write() as conn:
            for statement in OLD_ROWS:
                conn.execute(text(statement))
        made = backup.create(Core(old), tmp_path / "old.tar.gz", data_dir=tmp_path / "none")
    finally:
        old.dispose()
    assert manifest_of(made.path)["schema_revision"] == "0006"

    result = backup.restore(core, made.path, force=True, data_dir=tmp_path / "data")
    assert (result.upgraded_from, result.schema_revision) == ("0006", schema.head_revision())
    assert schema.current_revision(core.db) == schema.head_revision()
    assert counts(core) == (1, 2)
    with core.db.read() as conn:  # migration 0008 ran on the restored rows
        assert conn.execute(select(setting.c.value).where(setting.c.key == "org_version")).scalar()


def test_a_database_with_data_is_only_replaced_with_force(core, tmp_path):
    initiate.start(core, "zhangsan", "leave", dict(LEAVE))
    made = backup.create(core, tmp_path / "b.tar.gz", data_dir=tmp_path / "none")
    with core.db.write() as conn:
        conn.execute(insert(setting).values(key="after.backup", value="1"))
    with pytest.raises(BackupError) as refused:
        backup.restore(core, made.path, data_dir=tmp_path / "d")
    assert "当前数据库不是空的" in refused.value.message and "--force" in refused.value.message
    with core.db.read() as conn:  # untouched
        assert conn.execute(select(setting.c.value).where(setting.c.key == "after.backup")).scalar() == "1"

    backup.restore(core, made.path, force=True, data_dir=tmp_path / "d")
    with core.db.read() as conn:
        assert conn.execute(select(setting.c.value).where(setting.c.key == "after.backup")).scalar() is None


def test_what_is_not_a_backup_is_refused(core, tmp_path):
    plain = tmp_path / "notes.txt"
    plain.write_text("hello")
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        info = tarfile.TarInfo("readme.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    for path in (plain, foreign):
        with pytest.raises(BackupError, match="不是 oaflow 备份文件"):
            backup.restore(core, path, data_dir=tmp_path / "d")
    with pytest.raises(BackupError, match="找不到备份文件"):
        backup.restore(core, tmp_path / "missing.tar.gz", data_dir=tmp_path / "d")


def _rewrite(made: Path, out: Path, change_manifest=None, extra: tuple[str, bytes] | None = None, cut=False) -> Path:
    with tarfile.open(made, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(out, "w:gz") as tar:
        for member, data in members:
            if member.name == "manifest.json" and change_manifest:
                manifest = json.loads(data)
                change_manifest(manifest)
                data = json.dumps(manifest).encode()
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
        if extra:
            info = tarfile.TarInfo(extra[0])
            info.size = len(extra[1])
            tar.addfile(info, io.BytesIO(extra[1]))
    if cut:
        out.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    return out


def test_damaged_newer_or_tampered_backups_are_refused_and_change_nothing(core, data_dir, tmp_path):
    made = backup.create(core, tmp_path / "b.tar.gz", data_dir=data_dir).path
    cases = {
        "版本 2 比本程序支持的版本（1）新": _rewrite(made, tmp_path / "2.tar.gz", lambda m: m.update(format_version=2)),
        "来自更新版本的 oaflow": _rewrite(made, tmp_path / "r.tar.gz", lambda m: m.update(schema_revision="9999")),
        "已损坏或不完整": _rewrite(made, tmp_path / "cut.tar.gz", cut=True),
        "不安全的路径": _rewrite(made, tmp_path / "evil.tar.gz", extra=("files/../../evil", b"x")),
        "清单未列出": _rewrite(made, tmp_path / "extra.tar.gz", extra=("files/extra", b"x")),
        "与清单不符": _rewrite(made, tmp_path / "count.tar.gz", lambda m: m.update(instances=99)),
    }
    before = counts(core)
    for message, path in cases.items():
        with pytest.raises(BackupError) as refused:
            backup.restore(core, path, force=True, data_dir=tmp_path / "d")
        assert message in refused.value.message, (path.name, refused.value.message)
    assert counts(core) == before
    assert not (tmp_path / "evil").exists() and not (tmp_path / "d" / "extra").exists()


def test_the_other_database_kind_is_refused(core, tmp_path):
    made = backup.create(core, tmp_path / "b.tar.gz", data_dir=tmp_path / "none").path
    other = _rewrite(
        made,
        tmp_path / "o.tar.gz",
        lambda m: m.update(backend="postgresql" if core.db.is_sqlite else "sqlite"),
    )
    with pytest.raises(BackupError, match="两者之间不能直接恢复"):
        backup.restore(core, other, force=True, data_dir=tmp_path / "d")


def test_an_existing_backup_file_or_a_missing_folder_is_refused(core, tmp_path):
    (tmp_path / "b.tar.gz").write_bytes(b"precious")
    with pytest.raises(BackupError, match="已存在"):
        backup.create(core, tmp_path / "b.tar.gz", data_dir=tmp_path / "none")
    assert (tmp_path / "b.tar.gz").read_bytes() == b"precious"
    with pytest.raises(BackupError, match="不存在：请先创建它"):
        backup.create(core, tmp_path / "nowhere" / "b.tar.gz", data_dir=tmp_path / "none")


def test_restore_refuses_while_a_server_has_the_database_open(core, target, tmp_path):
    restored_core, restored_dir = target
    made = backup.create(core, tmp_path / "b.tar.gz", data_dir=tmp_path / "none").path
    server = Core(url=restored_core.db.url)  # a new installation: `oaflow db upgrade`, then `oaflow serve`
    schema.upgrade(server.db)
    with server.db.read() as conn:  # a pooled connection, idle but open
        conn.execute(select(func.count()).select_from(instance))
    try:
        with pytest.raises(BackupError) as refused:
            backup.restore(restored_core, made, data_dir=restored_dir)
        assert "请先停止所有 oaflow 进程" in refused.value.message
    finally:
        server.db.dispose()
    backup.restore(restored_core, made, data_dir=restored_dir)  # stopped: it goes ahead


@pytest.fixture
def pg_pair(pg_server):
    """A PostgreSQL database with the demo data, and an empty one."""
    source = pg_server.fresh()
    empty = f"{pg_server.prefix}_empty_{os.getpid()}"
    pg_server._execute(f'CREATE DATABASE "{empty}"')
    empty_url = pg_server.admin_url.rsplit("/", 1)[0] + "/" + empty
    cores = Core(url=source), Core(url=empty_url)
    yield cores
    for one in cores:
        one.db.dispose()
    pg_server.drop(source)
    pg_server.drop(empty_url)


@pytest.mark.postgres
def test_missing_pg_tools_name_the_exact_commands(pg_pair, tmp_path, monkeypatch):
    core, empty = pg_pair
    made = backup.create(core, tmp_path / "b.tar.gz", data_dir=tmp_path / "none").path
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    monkeypatch.setenv("PATH", str(empty_path))
    assert shutil.which("pg_dump") is None
    with pytest.raises(BackupError) as no_dump:
        backup.create(core, tmp_path / "c.tar.gz", data_dir=tmp_path / "none")
    assert "找不到 pg_dump" in no_dump.value.message and "apt-get install postgresql-client" in no_dump.value.message
    assert "pg_dump --format=custom --file=oaflow.dump 'postgresql://postgres@" in no_dump.value.message
    assert not (tmp_path / "c.tar.gz").exists()
    with pytest.raises(BackupError) as no_restore:
        backup.restore(empty, made, data_dir=tmp_path / "d")
    assert "找不到 pg_restore" in no_restore.value.message
    assert "pg_restore --clean --if-exists" in no_restore.value.message
    assert "oaflow db upgrade" in no_restore.value.message


def test_the_manifest_refuses_unknown_formats(tmp_path):
    path = tmp_path / "m.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        data = json.dumps({"format": "something-else"}).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(BackupError, match="不是 oaflow 备份文件"):
        backup_archive.read_manifest(path)
