"""PostgreSQL: pg_dump and pg_restore against the configured database.

pg_dump runs in a snapshot this module exports from a REPEATABLE READ transaction, so the counts written
into the manifest describe exactly the rows in the dump. The password travels in PGPASSWORD, never on a
command line that `ps` shows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url

from engine.store.backup_archive import BackupError
from engine.store.backup_sqlite import Snapshot
from engine.store.tables import definition, instance, metadata, user_account, work_item

CLIENT_PACKAGE = (
    "PostgreSQL 客户端工具（Debian/Ubuntu：apt-get install postgresql-client；其他系统见 postgresql.org/download）"
)
# Created by migration 0007; dropped with the tables so that an older backup's upgrade can create it again.
FUNCTIONS = ("oaflow_org_changed()",)


def connection_target(url: str) -> tuple[str, dict[str, str]]:
    """The libpq address without the password, and the environment carrying it."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    address = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return address, env


def tool(name: str) -> str | None:
    return shutil.which(name)


def missing_pg_dump(url: str) -> BackupError:
    address, _ = connection_target(url)
    return BackupError(
        f"找不到 pg_dump：请安装{CLIENT_PACKAGE}后重试。\n"
        f"也可以在装有它的机器上手动备份数据库（密码用 PGPASSWORD 环境变量提供）：\n"
        f"  pg_dump --format=custom --file=oaflow.dump '{address}'\n"
        f"注意：这样只备份数据库，数据目录中的文件需另行复制。"
    )


def missing_pg_restore(url: str, archive: Path) -> BackupError:
    address, _ = connection_target(url)
    return BackupError(
        f"找不到 pg_restore：请安装{CLIENT_PACKAGE}后重试。\n"
        f"也可以手动恢复：\n"
        f"  tar -xzf '{archive}' database.pgdump\n"
        f"  pg_restore --clean --if-exists --no-owner --single-transaction --dbname='{address}' database.pgdump\n"
        f"  oaflow db upgrade\n"
        f"再用 tar -xzf 解出 files/ 下的文件，放回数据目录。"
    )


def dump(core, pg_dump: str, target: Path) -> Snapshot:
    """`pg_dump --format=custom` of the configured database into `target`."""
    address, env = connection_target(core.db.url)
    with core.db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar()
            snapshot = _describe(conn)
            # Uncompressed: the whole archive is gzipped once, and zlib twice only costs time.
            command = [pg_dump, "--format=custom", "--compress=0", f"--snapshot={snapshot_id}", f"--file={target}"]
            _run([*command, f"--dbname={address}"], env, "pg_dump")
    return snapshot


def _describe(conn) -> Snapshot:
    if not inspect(conn).has_table("alembic_version"):
        return Snapshot(None, 0, 0)
    return Snapshot(
        conn.execute(text("SELECT version_num FROM alembic_version")).scalar(),
        conn.execute(select(func.count()).select_from(instance)).scalar(),
        conn.execute(select(func.count()).select_from(work_item)).scalar(),
    )


def describe(core) -> Snapshot:
    with core.db.engine.connect() as conn:
        return _describe(conn)


def check_dump(pg_restore: str, path: Path) -> None:
    """pg_restore can read the dump (whole, and from a pg_dump it understands) before anything changes."""
    _run([pg_restore, "--list", str(path)], dict(os.environ), "pg_restore --list", what="备份中的数据库副本无法读取")


def contents(core) -> dict[str, int] | None:
    """What the database holds that a restore would overwrite; None when it has no oaflow tables."""
    with core.db.engine.connect() as conn:
        if not inspect(conn).has_table(instance.name):
            return None
        return {
            "accounts": conn.execute(select(func.count()).select_from(user_account)).scalar(),
            "processes": conn.execute(select(func.count()).select_from(definition)).scalar(),
            "instances": conn.execute(select(func.count()).select_from(instance)).scalar(),
        }


def other_sessions(core) -> list[str]:
    """The other client connections to this database (running oaflow processes, or anyone else's)."""
    query = text(
        "SELECT coalesce(host(client_addr), '本机'), coalesce(nullif(application_name, ''), '-'), count(*) "
        "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend' GROUP BY 1, 2 ORDER BY 3 DESC"
    )
    with core.db.engine.connect() as conn:
        return [f"{host}（{app}）× {count}" for host, app, count in conn.execute(query)]


def drop_tables(core) -> None:
    """Drop oaflow's tables (those of the newest schema, which include every older one's) in one
    transaction. pg_restore --clean drops only what the dump contains: a table a newer schema added
    would survive it and make the upgrade of an older backup fail."""
    names = [*(t.name for t in metadata.sorted_tables), "alembic_version"]
    with core.db.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {', '.join(_quoted(n) for n in names)} CASCADE"))
        for function in FUNCTIONS:
            conn.execute(text(f"DROP FUNCTION IF EXISTS {function} CASCADE"))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def restore(core, pg_restore: str, path: Path) -> None:
    """pg_restore into the configured database, in one transaction: on failure nothing is restored."""
    address, env = connection_target(core.db.url)
    command = [pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"]
    _run([*command, f"--dbname={address}", str(path)], env, "pg_restore")


def _run(command: list[str], env: dict[str, str], name: str, what: str | None = None) -> None:
    try:
        finished = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except OSError as error:
        raise BackupError(f"无法运行 {name}：{error}") from None
    if finished.returncode != 0:
        detail = (finished.stderr or finished.stdout).strip()[-2000:]
        raise BackupError(f"{what or name + ' 失败'}（退出码 {finished.returncode}）：\n{detail}")
