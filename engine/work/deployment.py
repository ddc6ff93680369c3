"""流程管理: deploying process definitions and keeping their versions, as administrators do it from the pages,
the API and the command line: deploy or only validate files, list a process's versions, 启用/停用 one,
compare two, draw one; and the 流程管理 pages. Migrating running instances is engine.work.migration.

The command line on the server acts without an account: it passes no user (None), and is not checked.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from engine.errors import NotFound
from engine.org import directory, permissions, users
from engine.process import definitions, diagram, versions, wording
from engine.store.tables import definition
from engine.time.working_days import local_iso
from engine.work import frame

log = logging.getLogger("oaflow.work")


def _deployer(user: users.User | None) -> None:
    if user is not None:  # None: the command line on the server
        permissions.require_deployer(user)


def _manager(conn: Connection, user: users.User | None, key: str) -> None:
    if user is not None:  # None: the command line on the server
        permissions.require_process(conn, user, key)


# --- commands and queries (the API, the command line) --------------------------------------------------------


def deploy(core, username: str | None, files: dict[str, bytes]) -> dict:
    """Validate the files and store a new version of each process whose content changed; deploying the same
    files again changes nothing. DeployFailed names every problem, and then nothing is stored."""
    with core.db.write() as conn:
        actor = users.require_user(conn, username) if username is not None else None
        _deployer(actor)
        results, bundle = definitions.deploy_bundle(conn, files, actor.id if actor else None)
        for result in results:  # a new version of another's process: refused, nothing stored
            if result["created"]:
                _manager(conn, actor, result["process"])
    return {"processes": results, "warnings": bundle.warnings}


def validate(core, user: users.User | None, files: dict[str, bytes]) -> definitions.Bundle:
    """Check files as a deployment would (forms of earlier versions, the organisation), storing nothing."""
    _deployer(user)
    with core.db.read() as conn:
        return definitions.check_files(conn, files)


def list_versions(core, user: users.User | None, key: str) -> list[dict]:
    """Every version of a process, newest first, with its instances counted by status."""
    with core.db.read() as conn:
        _manager(conn, user, key)
        return _in_office_time(versions.list_versions(conn, key))


def _in_office_time(items: list[dict]) -> list[dict]:
    """The versions with their deployment time in office time (ISO), as every time the engine shows."""
    return [{**item, "deployed_at": local_iso(item["deployed_at"])} for item in items]


def set_active(core, username: str, key: str, version: int, active: bool) -> dict:
    """启用 / 停用 a version: an inactive version starts no new instances; running ones carry on."""
    with core.db.write() as conn:
        actor = users.require_user(conn, username)
        _manager(conn, actor, key)
        return versions.set_active(conn, actor.id, key, version, active)


def diff(core, user: users.User, key: str, from_version: int, to_version: int) -> dict:
    """What changed between two versions: added, removed and changed nodes."""
    with core.db.read() as conn:
        _manager(conn, user, key)
        return _diff_in_words(core, conn, key, from_version, to_version)


def _diff_in_words(core, conn: Connection, key: str, from_version: int, to_version: int) -> dict:
    """The version diff with `details`: the old and new value of each changed name, rule, property and
    condition, rules in words (engine.process.wording)."""
    summary = versions.diff_summary(core, conn, key, from_version, to_version)
    old, new = (core.specs.from_row(versions.definition_row(conn, key, v)).model for v in (from_version, to_version))
    names = directory.names_of(conn, wording.usernames_in([old, new]))
    return {**summary, "details": wording.changes(old, new, names)}


def diagram_svg(core, user: users.User, key: str, version: int) -> str:
    """A deployed version's diagram as SVG, drawn from the file's diagram interchange (BPMN DI)."""
    with core.db.read() as conn:
        _manager(conn, user, key)
        row = versions.definition_row(conn, key, version)
    svg = diagram.render_svg(row.bpmn_xml, key)
    if svg is None:
        raise NotFound(f"流程 {key} 第 {version} 版的文件没有图形信息（BPMN DI），无法绘制流程图")
    return svg


# --- the 流程管理 pages ---------------------------------------------------------------------------------------


def processes_page(core, user: users.User) -> dict:
    """流程管理: every process with its newest version, its number of versions and the one new instances use."""
    permissions.require_deployer(user)
    with core.db.read() as conn:
        listed = _processes(conn)
        if not user.is_admin:  # a 流程管理员 sees their own processes
            owned = permissions.owned_processes(conn, user)
            listed = [p for p in listed if p["key"] in owned]
        return {"processes": listed, "layout": frame.figures(conn, user)}


def _processes(conn: Connection) -> list[dict]:
    rows = conn.execute(
        select(
            definition.c.process_key,
            func.max(definition.c.version).label("newest"),
            func.count().label("versions"),
        ).group_by(definition.c.process_key)
    ).all()
    current = {row.process_key: row for row in definitions.list_latest(conn)}
    result = []
    for row in rows:
        latest = current.get(row.process_key)
        result.append(
            {
                "key": row.process_key,
                "name": latest.name if latest is not None else row.process_key,
                "newest": row.newest,
                "versions": row.versions,
                "current": latest.version if latest is not None else None,
            }
        )
    return sorted(result, key=lambda p: p["name"])


def versions_page(
    core,
    user: users.User,
    key: str,
    from_version: int | None = None,
    to_version: int | None = None,
    *,
    newest_by_default: bool = True,
) -> dict:
    """版本: every version with its instance counts, and the difference between two of them: the ones asked
    for, else (`newest_by_default`) the two newest."""
    with core.db.read() as conn:
        permissions.require_process(conn, user, key)
        items = _in_office_time(versions.list_versions(conn, key))
        if from_version is None and to_version is None and newest_by_default and len(items) >= 2:
            from_version, to_version = items[1]["version"], items[0]["version"]
        compare = (from_version, to_version)
        if None in compare or from_version == to_version:
            compare = None
        summary = _diff_in_words(core, conn, key, *compare) if compare else None
        return {"versions": items, "compare": compare, "summary": summary, "layout": frame.figures(conn, user)}


def version_page(core, user: users.User, key: str, version: int) -> dict:
    """A deployed version: its diagram (None when it cannot be drawn), its nodes and its forms."""
    with core.db.read() as conn:
        permissions.require_process(conn, user, key)
        row = versions.definition_row(conn, key, version)
        compiled = core.specs.from_row(row)
        names = directory.names_of(conn, wording.usernames_in([compiled.model]))
        layout = frame.figures(conn, user)
    try:
        svg = diagram.render_svg(row.bpmn_xml, key)
    except Exception:  # the page must open even when a drawing fails
        log.exception("diagram of %s v%s failed", key, version)
        svg = None
    rules = {node.id: wording.rules_in_words(node.assignee, names) for node in compiled.model.nodes.values()}
    return {
        "row": dict(row._mapping),
        "model": compiled.model,
        "forms": compiled.forms,
        "svg": svg,
        "assignees": rules,
        "layout": layout,
    }
