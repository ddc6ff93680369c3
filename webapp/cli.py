"""The `oaflow` command: demo, serve, scheduler, deploy, validate, versions, migrate, db upgrade, user create,
user deactivate, org top-approver, org office-name, backup, restore.

Messages are in Chinese (the users' language) and say what to do next when something fails.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import time

import click
from waitress import serve

from engine.core import Core
from engine.errors import DeployFailed, InvalidData, OaflowError
from engine.org import accounts, demo
from engine.process import library
from engine.store import schema
from engine.time import working_days
from engine.work import deployment, migration
from oaflow_cli import validate
from schedulers import run_blocking, start_background
from webapp import create_app

from .cli_backup import backup_command, restore_command
from .cli_support import describe_db, done, open_core, step


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="oaflow")
def main() -> None:
    """oaflow 协同办公审批平台。

    数据库：默认在数据目录（OAFLOW_DATA_DIR，默认 ./oaflow-data）中使用 SQLite；
    设置 OAFLOW_DATABASE_URL=postgresql://… 则使用 PostgreSQL。
    """


@main.group()
def db() -> None:
    """数据库管理。"""


@db.command("upgrade")
@click.option("--data-dir", help="数据目录（默认 ./oaflow-data 或 OAFLOW_DATA_DIR）")
def db_upgrade(data_dir: str | None) -> None:
    """把数据库升级到最新结构（Alembic 迁移）。"""
    core = open_core(data_dir)
    started = step(1, 1, f"升级数据库 {describe_db(core)}")
    schema.upgrade(core.db)
    done(started, f"当前版本 {schema.current_revision(core.db)}")


def _prepare(core: Core, *, with_demo: bool) -> None:
    total = 4 if with_demo else 2
    started = step(1, total, f"创建或升级数据库 {describe_db(core)}")
    schema.upgrade(core.db)
    done(started)
    started = step(2, total, "载入工作日历（法定节假日与调休）")
    added, first, last = working_days.seed(core)
    done(started, f"新增 {added} 天，覆盖 {first} 至 {last}")
    if not with_demo:
        return
    started = step(3, total, "创建示例单位与演示账号")
    created = demo.set_up(core)
    done(started, "" if created else "（已存在，未改动）")
    started = step(4, total, "部署流程库 bpmn/ 与表单 forms/")
    results = deployment.deploy(core, None, library.library_files())["processes"]
    done(started)
    for item in results:
        state = "新版本" if item["created"] else "未变化"
        click.echo(f"      {item['name']}（{item['process']}）第 {item['version']} 版 — {state}")


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"端口 {port} 已被占用：请用 --port 指定其他端口，例如 --port {port + 1}"
                ) from None
            raise click.ClickException(f"无法监听 {host}:{port}：{exc.strerror}") from None


def _serve(core: Core, host: str, port: int, *, scheduler: bool, threads: int) -> None:
    _check_port(host, port)
    app = create_app(core)
    try:
        background = start_background(core) if scheduler else None
    except OaflowError as exc:  # a wrong OAFLOW_BACKUP_* setting
        raise click.ClickException(exc.message) from None
    click.echo(f"\n  oaflow 已启动：http://{host}:{port}/   （按 Ctrl+C 停止）\n")
    try:
        serve(app, host=host, port=port, threads=threads, ident="oaflow", _quiet=True)
    finally:
        if background is not None:
            background.shutdown(wait=False)


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=8000, show_default=True, type=int, help="监听端口")
@click.option("--data-dir", help="数据目录（默认 ./oaflow-data）")
@click.option("--prepare-only", is_flag=True, help="只准备数据库与演示数据，不启动服务")
def demo_command(host: str, port: int, data_dir: str | None, prepare_only: bool) -> None:
    """准备演示数据（示例单位、账号、流程）并启动 Web 与定时任务。"""
    core = open_core(data_dir)
    _prepare(core, with_demo=True)
    click.echo(f"\n演示账号（密码均为 {demo.DEMO_PASSWORD}）：")
    for username, name, title in demo.accounts():
        click.echo(f"  {username:<11} {name}  {title}")
    if prepare_only:
        return
    _serve(core, host, port, scheduler=True, threads=8)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--data-dir", help="数据目录（默认 ./oaflow-data）")
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=int,
    help="处理请求的线程数（PostgreSQL 多进程部署：每个 CPU 核一个进程，每个进程 2 个线程）",
)
@click.option("--no-scheduler", is_flag=True, help="不在本进程运行定时任务（多进程部署时另起 oaflow scheduler）")
def serve_command(host: str, port: int, data_dir: str | None, threads: int, no_scheduler: bool) -> None:
    """启动 Web 服务（不创建演示数据）。"""
    core = open_core(data_dir)
    if schema.current_revision(core.db) != schema.head_revision():
        raise click.ClickException("数据库结构不是最新：请先运行 oaflow db upgrade")
    _serve(core, host, port, scheduler=not no_scheduler, threads=threads)


@main.command("scheduler")
@click.option("--data-dir", help="数据目录（默认 ./oaflow-data）")
def scheduler_command(data_dir: str | None) -> None:
    """只运行定时任务（与多个 Web 进程配合部署）。"""
    core = open_core(data_dir)
    click.echo("定时任务已启动（按 Ctrl+C 停止）")
    try:
        run_blocking(core)
    except OaflowError as exc:
        raise click.ClickException(exc.message) from None


def _print_problems(problems) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)


@main.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--data-dir", help="同时按该数据目录中的组织机构（角色、用户）与已部署表单校验")
@click.option(
    "--lang", type=click.Choice(validate.LANGS), default="zh", show_default=True, help="说明的语言（en：英文）"
)
def validate_command(paths, data_dir: str | None, lang: str) -> None:
    """校验 BPMN 与表单文件，不写入数据库（文件夹：逐个校验其中的 BPMN 文件）。

    每个问题按 文件:行: 元素: 说明 输出（警告以“警告：”开头）；有错误时返回 1，只有警告时返回 0。
    不带 --data-dir（也未设置 OAFLOW_DATABASE_URL）时由 oaflow_cli.validate 处理，不载入 Web 与数据库。"""
    if data_dir or os.environ.get("OAFLOW_DATABASE_URL"):
        core = open_core(data_dir)
        sys.exit(validate.run(paths, lang, lambda files: deployment.validate(core, None, files)))
    sys.exit(validate.run(paths, lang))


@main.command("deploy")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--data-dir", help="数据目录（默认 ./oaflow-data）")
def deploy_command(paths, data_dir: str | None) -> None:
    """部署 BPMN 与表单文件（内容未变的流程不会产生新版本）。"""
    core = open_core(data_dir)
    files = library.read_paths(paths)
    click.echo(f"部署 {len(files)} 个文件：{', '.join(files)}")
    try:
        result = deployment.deploy(core, None, files)
    except DeployFailed as exc:
        _print_problems(exc.problems)
        click.echo(f"部署失败：{len(exc.problems)} 个问题，未写入任何内容。", err=True)
        sys.exit(1)
    for warning in result["warnings"]:
        click.echo(f"警告：{warning}", err=True)
    for item in result["processes"]:
        state = "新版本" if item["created"] else "内容未变化，版本不变"
        click.echo(f"  {item['name']}（{item['process']}）第 {item['version']} 版 — {state}")


@main.command("versions")
@click.argument("key")
@click.option("--data-dir", help="数据目录（默认 ./oaflow-data）")
def versions_command(key: str, data_dir: str | None) -> None:
    """列出流程的全部版本及各状态的实例数。"""
    core = open_core(data_dir)
    try:
        items = deployment.list_versions(core, None, key)
    except OaflowError as exc:
        raise click.ClickException(exc.message) from None
    for v in items:
        state = "新实例使用" if v["current"] else ("启用" if v["active"] else "已停用")
        counts = "，".join(f"{k} {n}" for k, n in v["instances"].items())
        click.echo(f"  第 {v['version']} 版  {state:<5}  {counts}  部署于 {v['deployed_at']}")


@main.command("migrate")
@click.argument("key")
@click.option("--from", "from_version", type=int, required=True, help="原版本号")
@click.option("--to", "to_version", type=int, required=True, help="目标版本号")
@click.option("--instance", "instance_ids", type=int, multiple=True, help="只迁移这些申请（可重复）")
@click.option("--dry-run", is_flag=True, help="只判断能否安全迁移，不写入")
@click.option("--as", "username", default="admin", show_default=True, help="以哪个管理员账号执行（记入流转记录）")
@click.option("--data-dir", help="数据目录（默认 ./oaflow-data）")
def migrate_command(key, from_version, to_version, instance_ids, dry_run, username, data_dir) -> None:
    """把审批中的实例迁移到另一个版本：安全的迁移，不安全的列出原因。"""
    core = open_core(data_dir)
    ids = list(instance_ids) or None
    action = migration.dry_run if dry_run else migration.migrate
    started = time.perf_counter()
    try:
        result = action(core, username, key, from_version, to_version, ids)
    except OaflowError as exc:
        raise click.ClickException(exc.message) from None
    for item in result["items"]:
        if not item["safe"]:
            click.echo(f"  #{item['instance_id']} 不安全：{'；'.join(item['reasons'])}")
    verb = "可安全迁移" if dry_run else "已迁移"
    elapsed = time.perf_counter() - started
    click.echo(f"{verb} {result['safe']} 个，不安全 {result['unsafe']} 个（共 {result['total']} 个，{elapsed:.2f} 秒）")


@main.group()
def user() -> None:
    """账号管理。"""


@user.command("create")
@click.argument("username")
@click.option("--name", "display_name", help="姓名（默认同用户名）")
@click.option("--department", help="所属部门名称")
@click.option("--role", "roles", multiple=True, help="角色，可重复")
@click.option("--admin", is_flag=True, help="设为管理员")
@click.option("--email")
@click.option("--data-dir", help="数据目录（默认 ./oaflow-data）")
@click.password_option("--password", prompt="密码", confirmation_prompt="再次输入密码", help="至少 8 个字符")
def user_create(username, display_name, department, roles, admin, email, data_dir, password) -> None:
    """创建账号（密码只保存加盐哈希）。"""
    core = open_core(data_dir)
    try:
        created = accounts.create_account(
            core,
            username,
            display_name or username,
            password,
            department,
            is_admin=admin,
            roles=tuple(roles),
            email=email,
        )
    except InvalidData as exc:
        raise click.ClickException("；".join(e.message for e in exc.errors)) from None
    click.echo(f"已创建账号 {created.username}（{created.display_name}）{'，管理员' if admin else ''}")


@user.command("deactivate")
@click.argument("username")
@click.option("--data-dir", help="数据目录（默认 ./oaflow-data）")
def user_deactivate(username, data_dir) -> None:
    """停用账号：不能再登录，已有的登录与 API 令牌立即失效。"""
    core = open_core(data_dir)
    try:
        ended = accounts.deactivate(core, username)
    except OaflowError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"已停用账号 {username}，结束了 {ended} 处登录与令牌")


@main.group()
def org() -> None:
    """组织设置。"""


@org.command("top-approver")
@click.argument("username", required=False)
@click.option("--data-dir", help="数据目录（默认 ./oaflow-data）")
def org_top_approver(username, data_dir) -> None:
    """设置（或查看）最高审批人：申请人已是审批链最高一级时（如总经理本人的请假）由其审批，如董事长或指定的副职。"""
    core = open_core(data_dir)
    if username is None:
        top = accounts.top_approver(core)
        click.echo(f"最高审批人：{top.username}（{top.display_name}）" if top else "尚未设置最高审批人")
        return
    try:
        top = accounts.set_top_approver(core, username)
    except InvalidData as exc:
        raise click.ClickException("；".join(e.message for e in exc.errors)) from None
    click.echo(f"最高审批人已设为 {top.username}（{top.display_name}）")


@org.command("office-name")
@click.argument("name", required=False)
@click.option("--data-dir", help="数据目录（默认 ./oaflow-data）")
def org_office_name(name, data_dir) -> None:
    """设置（或查看）机关名称：发文红头的发文机关标志（如“示例市教育局”，红头印作“示例市教育局文件”）。"""
    core = open_core(data_dir)
    if name is None:
        click.echo(f"机关名称：{accounts.office_name(core)}")
        return
    try:
        name = accounts.set_office_name(core, name)
    except InvalidData as exc:
        raise click.ClickException("；".join(e.message for e in exc.errors)) from None
    click.echo(f"机关名称已设为 {name}")


main.add_command(backup_command)
main.add_command(restore_command)


if __name__ == "__main__":
    main()
