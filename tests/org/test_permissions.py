"""The administrators' roles as the engine enforces them (engine.org.permissions): a 流程管理员 deploys and
keeps their own processes only, a 文件管理员 keeps the 发文字号 register, a 普通用户 neither; the org cache
sees role changes at once."""

from __future__ import annotations

import pytest
from support import DATA

from engine.errors import Forbidden
from engine.org import accounts, permissions, users
from engine.process import library
from engine.work import deployment, doc_numbers, organisation


def _user(core, username):
    with core.db.read() as conn:
        return users.find_user(conn, username)


def _grant(core, username, *roles):
    organisation.update_user(core, "admin", username, {"roles": list(roles)})


def _simple():
    return {
        "simple.bpmn": (DATA / "simple.bpmn").read_bytes(),
        "simple_form.json": (DATA / "simple_form.json").read_bytes(),
    }


def test_roles_of_each_kind(core):
    assert permissions.roles_of(_user(core, "admin")) == ["system_admin"]
    assert permissions.roles_of(_user(core, "zhangsan")) == ["ordinary"]
    _grant(core, "zhangsan", "流程管理员", "file_admin")  # the cache answers the new roles at once
    zhangsan = _user(core, "zhangsan")
    assert permissions.roles_of(zhangsan) == ["process_admin", "file_admin"]
    assert permissions.role_names(zhangsan) == "流程管理员、文件管理员"


def test_a_process_administrator_keeps_their_own_processes_only(core, row_counts):
    _grant(core, "sunli", "process_admin")
    deployment.deploy(core, "sunli", _simple())  # a new process: now his
    sunli = _user(core, "sunli")
    with core.db.read() as conn:
        assert permissions.owned_processes(conn, sunli) == {"simple"}
        assert permissions.may_monitor(conn, sunli, "simple")
        assert not permissions.may_monitor(conn, sunli, "leave")
        assert permissions.monitored_processes(conn, sunli) == {"simple"}
        assert permissions.monitored_processes(conn, _user(core, "admin")) is None
        assert permissions.monitored_processes(conn, _user(core, "lisi")) == set()
    assert [v["version"] for v in deployment.list_versions(core, sunli, "simple")] == [1]
    with pytest.raises(Forbidden):
        deployment.list_versions(core, sunli, "leave")
    changed = library.library_files()["leave.bpmn"].replace(b"days &gt; 3", b"days &gt; 4")
    before = row_counts()
    with pytest.raises(Forbidden, match="该流程的流程管理员"):
        deployment.deploy(core, "sunli", {"leave.bpmn": changed})
    assert row_counts() == before  # refused after checking: the new version was rolled back
    page = deployment.processes_page(core, sunli)
    assert [p["key"] for p in page["processes"]] == ["simple"]


def test_the_process_admin_property_names_its_administrator(core):
    _grant(core, "lisi", "process_admin")
    files = _simple()
    named = b'<bpmn:process id="simple" name="\xe7\xae\x80\xe5\x8d\x95\xe5\xae\xa1\xe6\x89\xb9" isExecutable="true">'
    assert named in files["simple.bpmn"]
    admin = b'<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="admin" value="lisi" />'
    files["simple.bpmn"] = files["simple.bpmn"].replace(
        named, named + admin + b"</spiffworkflow:properties></bpmn:extensionElements>"
    )
    deployment.deploy(core, None, files)  # the command line: deployed by nobody
    with core.db.read() as conn:
        assert permissions.owned_processes(conn, _user(core, "lisi")) == {"simple"}
        assert not permissions.may_manage_process(conn, _user(core, "sunli"), "simple")


def test_ordinary_users_and_file_administrators(core):
    with pytest.raises(Forbidden, match="系统管理员和流程管理员"):
        deployment.validate(core, _user(core, "zhangsan"), _simple())
    with pytest.raises(Forbidden, match="系统管理员和文件管理员"):
        doc_numbers.list_counters(core, "zhouwen")
    _grant(core, "zhouwen", "file_admin")
    assert doc_numbers.list_counters(core, "zhouwen") == []
    with pytest.raises(Forbidden, match="系统管理员和流程管理员"):
        deployment.deploy(core, "zhouwen", _simple())
    with pytest.raises(Forbidden, match="组织与用户"):
        organisation.list_users(core, "zhouwen")


def test_a_reset_password_is_changed_before_anything_else(core):
    reset = organisation.reset_password(core, "admin", "lisi")
    lisi = _user(core, "lisi")
    assert lisi.must_change_password
    with pytest.raises(accounts.PasswordChangeRequired) as refused:
        accounts.require_own_password(lisi)
    assert refused.value.status == 403 and refused.value.code == "password_change_required"
    accounts.change_password(core, lisi, reset["password"], "lisi-own-secret")
    assert not _user(core, "lisi").must_change_password
