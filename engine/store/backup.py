"""备份与恢复: one file holding the database and the data directory's files, and putting it all back.

`create` runs while oaflow serves (SQLite: engine.store.backup_sqlite; PostgreSQL: pg_dump). `restore`
needs the servers stopped; it checks the whole backup before it touches the database, replaces the
database (SQLite: a checked copy renamed into place; PostgreSQL: pg_restore in one transaction), brings
an older backup to the newest schema and puts the data directory's files back. The file format is in
engine.store.backup_archive; the daily job in engine.store.backup_daily.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Protocol

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from engine.store import backup_archive as archive
from engine.store import backup_postgres as pg
from engine.store import backup_sqlite as lite
from engine.store import schema
from engine.store.backup_archive import BackupError, Manifest
from engine.store.database import Database, default_data_dir

BACKUP_STEPS = 3
RESTORE_STEPS = 6
ARCHIVE_PREFIX = "oaflow-backup-"
ARCHIVE_SUFFIX = ".tar.gz"
DEFAULT_BACKUP_FOLDER = "backups"


class Progress(Protocol):
    """Where a long backup or restore reports itself: `step` starts the next of its fixed steps (ending
    the one before), `detail` adds a note to the current one."""

    def step(self, text: str) -> None: ...

    def detail(self, text: str) -> None: ...


class Silent:
    def step(self, text: str) -> None:
        pass

    def detail(self, text: str) -> None:
        pass


@dataclass(frozen=True)
class Result:
    path: Path
    bytes: int
    backend: str
    schema_revision: str
    created_at: str
    instances: int
    work_items: int
    files: int
    seconds: float
    upgraded_from: str | None = None  # restore: the backup's schema revision, when it was older

    @property
    def size(self) -> str:
        return _size(self.bytes)


def archive_name(now: datetime) -> str:
    return f"{ARCHIVE_PREFIX}{now:%Y%m%d-%H%M%S}{ARCHIVE_SUFFIX}"


def data_directory(core) -> Path:
    """The data directory whose files a backup carries besides the database (OAFLOW_DATA_DIR)."""
    return default_data_dir().resolve()


def backup_folder(core) -> Path:
    """The daily backups' folder: OAFLOW_BACKUP_DIR, else `<data dir>/backups`. Never backed up itself,
    or each backup would carry all the earlier ones."""
    configured = os.environ.get("OAFLOW_BACKUP_DIR", "").strip()
    return Path(configured).expanduser().resolve() if configured else data_directory(core) / DEFAULT_BACKUP_FOLDER


def create(
    core, target: Path, progress: Progress | None = None, *, data_dir: Path | None = None, now: datetime | None = None
) -> Result:
    """备份: the database and every file of the data directory into the archive `target` (a folder: a
    new `oaflow-backup-<date>-<time>.tar.gz` in it). Safe while oaflow serves."""
    progress = progress or Silent()
    started = time.perf_counter()
    now = now or datetime.now().astimezone()
    data_dir = (data_dir or data_directory(core)).resolve()
    target = _target(Path(target), now)
    backend = "sqlite" if core.db.is_sqlite else "postgresql"
    skip = {
        target,
        target.with_name(target.name + archive.PARTIAL),
        backup_folder(core),
        data_dir / DEFAULT_BACKUP_FOLDER,
    }
    with tempfile.TemporaryDirectory(prefix=archive.TEMP_PREFIX + "backup-", dir=target.parent) as work:
        progress.step(f"复制数据库（{'SQLite 在线备份' if backend == 'sqlite' else 'pg_dump'}）")
        if backend == "sqlite":
            live = Path(core.db.engine.url.database).resolve()
            skip |= lite.live_files(live)
            copy = Path(work) / "database.sqlite3"
            snapshot = lite.copy(live, copy)
        else:
            pg_dump = pg.tool("pg_dump")
            if pg_dump is None:
                raise pg.missing_pg_dump(core.db.url)
            copy = Path(work) / "database.pgdump"
            snapshot = pg.dump(core, pg_dump, copy)
        if snapshot.revision is None:
            raise BackupError("数据库中还没有 oaflow 的表：请先运行 oaflow db upgrade")
        progress.detail(f"{_size(copy.stat().st_size)}，{snapshot.instances} 个申请，{snapshot.work_items} 个待办")
        # After the database: a file the copied rows point to (written before their commit) is there.
        progress.step(f"收集数据目录 {data_dir} 中的文件")
        files = archive.data_files(data_dir, skip)
        progress.detail(f"{len(files)} 个文件，{_size(sum(f.size for f in files))}")
        progress.step(f"写入备份文件 {target}")
        manifest = Manifest(
            backend=backend,
            database=copy.name,
            database_bytes=copy.stat().st_size,
            schema_revision=snapshot.revision,
            created_at=now.isoformat(timespec="seconds"),
            instances=snapshot.instances,
            work_items=snapshot.work_items,
            oaflow_version=_version(),
            files=[{"path": f.name, "bytes": f.size} for f in files],
        )
        size = archive.write(target, manifest, copy, files)
        progress.detail(_size(size))
    return Result(
        target,
        size,
        backend,
        snapshot.revision,
        manifest.created_at,
        snapshot.instances,
        snapshot.work_items,
        len(files),
        time.perf_counter() - started,
    )


def _target(path: Path, now: datetime) -> Path:
    if path.is_dir():
        path = path / archive_name(now)
    path = path.resolve()
    if path.exists():
        raise BackupError(f"备份文件 {path} 已存在：请换一个文件名，或给出一个目录")
    if not path.parent.is_dir():
        raise BackupError(f"目录 {path.parent} 不存在：请先创建它")
    return path


def restore(
    core, source: Path, progress: Progress | None = None, *, force: bool = False, data_dir: Path | None = None
) -> Result:
    """恢复: replace the database and the data directory's files with those of a backup. The servers must
    be stopped; a database that holds data is only replaced with `force`."""
    progress = progress or Silent()
    started = time.perf_counter()
    source = Path(source).resolve()
    data_dir = (data_dir or data_directory(core)).resolve()
    backend = "sqlite" if core.db.is_sqlite else "postgresql"

    progress.step(f"读取备份文件 {source}")
    manifest = archive.read_manifest(source)
    _check_compatible(manifest, backend)
    progress.detail(f"备份于 {_when(manifest)}，{manifest.instances} 个申请，{len(manifest.files)} 个数据文件")

    progress.step("检查当前数据库")
    core.db.dispose()  # our pooled connections and our WAL checkpointer would count as a running server
    live = Path(core.db.engine.url.database).resolve() if backend == "sqlite" else None
    tool = None if live else pg.tool("pg_restore")
    if not live and tool is None:
        raise pg.missing_pg_restore(core.db.url, source)
    progress.detail(_check_target(core, live, force))

    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=archive.TEMP_PREFIX + "restore-", dir=data_dir) as work:
        staged = Path(work) / "files"
        progress.step("解出并检查备份中的数据库副本")
        if live:
            descriptor, name = tempfile.mkstemp(prefix=archive.TEMP_PREFIX + "restore-", dir=live.parent)
            os.close(descriptor)
            copy = Path(name)
            try:
                archive.unpack(source, manifest, copy, staged)
                _verify(lite.check(copy), manifest)
                progress.detail(f"完整性检查通过，与清单一致（{_size(manifest.database_bytes)}）")
                progress.step("升级数据库结构（在副本上）")
                _upgrade(Database(f"sqlite:///{copy}"), manifest, progress)
                lite.seal(copy)
                progress.step(f"替换数据库文件 {live}")
                if lite.in_use(live):
                    raise _server_running(f"数据库 {live} 正被其他程序打开")
                lite.replace(copy, live)
            finally:
                copy.unlink(missing_ok=True)
        else:
            copy = Path(work) / manifest.database
            archive.unpack(source, manifest, copy, staged)
            pg.check_dump(tool, copy)
            progress.detail(f"pg_restore 可以读取（{_size(manifest.database_bytes)}）")
            progress.step("用 pg_restore 恢复数据库（--clean --if-exists，单个事务）")
            _check_target(core, None, force)  # anyone who connected meanwhile
            pg.drop_tables(core)
            try:
                pg.restore(core, tool, copy)
            except BackupError as error:
                cleared = "数据库中 oaflow 的表已清除：排除上面的问题后请重新运行 oaflow restore"
                raise BackupError(f"{error.message}\n{cleared}") from None
            core.db.engine.dispose()  # pooled statements prepared against the dropped tables
            _verify(pg.describe(core), manifest)
            progress.detail(f"与清单一致：{manifest.instances} 个申请，{manifest.work_items} 个待办")
            progress.step("升级数据库结构")
            _upgrade(core.db, manifest, progress)
        progress.step(f"恢复数据目录 {data_dir} 中的文件")
        replaced = archive.move_files(staged, data_dir)
        progress.detail(f"{len(manifest.files)} 个文件" + (f"（覆盖了 {replaced} 个同名文件）" if replaced else ""))
    revision = schema.current_revision(core.db)
    return Result(
        source,
        source.stat().st_size,
        backend,
        revision,
        _when(manifest),
        manifest.instances,
        manifest.work_items,
        len(manifest.files),
        time.perf_counter() - started,
        upgraded_from=manifest.schema_revision if manifest.schema_revision != revision else None,
    )


def _check_compatible(manifest: Manifest, backend: str) -> None:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    if manifest.backend not in names:
        raise BackupError(f"备份文件的数据库类型 {manifest.backend} 不认识：文件可能已损坏")
    if manifest.backend != backend:
        raise BackupError(
            f"这是 {names[manifest.backend]} 数据库的备份，而当前配置的是 {names[backend]}：两者之间不能直接恢复。"
            + ("请设置 OAFLOW_DATABASE_URL 指向 PostgreSQL 后再恢复" if backend == "sqlite" else "")
            + ("请去掉 OAFLOW_DATABASE_URL，恢复到 SQLite 数据目录" if backend == "postgresql" else "")
        )
    try:
        known = ScriptDirectory(schema.SCRIPT_LOCATION).get_revision(manifest.schema_revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupError(
            f"备份来自更新版本的 oaflow（数据库结构版本 {manifest.schema_revision}，"
            f"本程序最高支持 {schema.head_revision()}）：请先升级 oaflow 再恢复"
        )


def _when(manifest: Manifest) -> str:
    return manifest.created_at.replace("T", " ")


def _check_target(core, live: Path | None, force: bool) -> str:
    """Refuse a running server, and a database with data without `force`; says what will be replaced."""
    if live is not None:
        if lite.in_use(live):
            raise _server_running(f"数据库 {live} 正被其他程序打开")
        held = lite.contents(live)
    else:
        sessions = pg.other_sessions(core)
        if sessions:
            raise _server_running(f"还有其他连接在使用该数据库：{'；'.join(sessions)}")
        held = pg.contents(core)
    if not held or not any(held.values()):
        return "没有其他连接；当前数据库是空的"
    what = f"{held['accounts']} 个账号、{held['processes']} 个流程版本、{held['instances']} 个申请"
    if not force:
        raise BackupError(
            f"当前数据库不是空的（{what}）：恢复会用备份覆盖其中的全部数据。确定要覆盖，请加 --force 再运行"
        )
    return f"没有其他连接；将覆盖现有数据（{what}，--force）"


def _server_running(what: str) -> BackupError:
    return BackupError(
        f"{what}：恢复前请先停止所有 oaflow 进程（oaflow serve、oaflow scheduler、oaflow demo），"
        "然后重新运行 oaflow restore"
    )


def _verify(found: lite.Snapshot, manifest: Manifest) -> None:
    expected = (manifest.schema_revision, manifest.instances, manifest.work_items)
    if (found.revision, found.instances, found.work_items) != expected:
        raise BackupError(
            f"备份中的数据库与清单不符（清单：版本 {expected[0]}、{expected[1]} 个申请、{expected[2]} 个待办；"
            f"实际：版本 {found.revision}、{found.instances} 个申请、{found.work_items} 个待办）：文件可能已损坏"
        )


def _upgrade(db: Database, manifest: Manifest, progress: Progress) -> None:
    head = schema.head_revision()
    try:
        if manifest.schema_revision == head:
            progress.detail(f"已是最新版本 {head}")
            return
        schema.upgrade(db)
        progress.detail(f"从 {manifest.schema_revision} 升级到 {head}")
    finally:
        db.dispose()


def _version() -> str:
    try:
        return package_metadata.version("oaflow")
    except package_metadata.PackageNotFoundError:
        return "unknown"


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"
