"""`oaflow backup` and `oaflow restore`: the database and the data directory's files in one file, and back."""

from __future__ import annotations

from pathlib import Path

import click

from engine.errors import OaflowError
from engine.store import backup

from .cli_support import Steps, describe_db, open_core


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--data-dir", help="数据目录（默认 ./oaflow-data 或 OAFLOW_DATA_DIR）")
def backup_command(path: Path, data_dir: str | None) -> None:
    """备份数据库与数据目录中的文件（服务运行时也可以备份，不影响使用）。

    PATH 是要生成的备份文件（.tar.gz），或一个已有的目录：在其中生成 oaflow-backup-日期-时间.tar.gz。
    数据目录中除 SQLite 数据库文件和 backups/ 目录以外的所有文件（如签名密钥、附件）一并备份。"""
    core = open_core(data_dir)
    click.echo(f"备份 {describe_db(core)} 与数据目录 {backup.data_directory(core)}")
    steps = Steps(backup.BACKUP_STEPS)
    try:
        result = backup.create(core, path, steps)
    except OaflowError as exc:
        steps.failed()
        raise click.ClickException(exc.message) from None
    finally:
        core.db.dispose()
    steps.finish()
    click.echo(
        f"备份完成：{result.path}（{result.size}）——{result.instances} 个申请、{result.work_items} 个待办、"
        f"{result.files} 个数据文件，用时 {result.seconds:.2f} 秒"
    )
    click.echo("备份文件含签名密钥与全部数据，请像数据库一样妥善保管。")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="当前数据库已有数据时也用备份覆盖")
@click.option("--data-dir", help="数据目录（默认 ./oaflow-data 或 OAFLOW_DATA_DIR）")
def restore_command(path: Path, force: bool, data_dir: str | None) -> None:
    """从备份文件恢复数据库与数据目录中的文件（须先停止所有 oaflow 进程）。

    当前数据库已有数据时，须加 --force 才会覆盖。备份来自较旧版本时，恢复后自动升级数据库结构。"""
    core = open_core(data_dir)
    click.echo(f"从 {path} 恢复到 {describe_db(core)}，数据目录 {backup.data_directory(core)}")
    steps = Steps(backup.RESTORE_STEPS)
    try:
        result = backup.restore(core, path, steps, force=force)
    except OaflowError as exc:
        steps.failed()
        raise click.ClickException(exc.message) from None
    finally:
        core.db.dispose()
    steps.finish()
    upgraded = f"（已从 {result.upgraded_from} 升级）" if result.upgraded_from else ""
    click.echo(
        f"恢复完成：备份于 {result.created_at}，{result.instances} 个申请、{result.work_items} 个待办、"
        f"{result.files} 个数据文件；数据库结构版本 {result.schema_revision}{upgraded}。用时 {result.seconds:.2f} 秒"
    )
    click.echo("现在可以启动 oaflow serve。")
