"""Process management in words: assignee rules as a clerk says them, and the version diff's old and new
values of each changed name, rule, property and condition (the version page and the REST diff)."""

from __future__ import annotations

from support import log_in

from engine.process import definitions, library
from engine.process.wording import rule_in_words, rules_in_words


def test_rules_in_words():
    assert rule_in_words("leader:1") == "发起人的部门负责人"
    assert rule_in_words("leader") == "发起人的部门负责人"
    assert rule_in_words("leader:2") == "发起人的分管领导（上两级领导）"
    assert rule_in_words("leader:3") == "发起人的上 3 级领导"
    assert rule_in_words("dept_leader:业务部") == "业务部负责人"
    assert rule_in_words("dept_leader:{depts}") == "表单字段“depts”所选部门的负责人"
    assert rule_in_words("role:总经理") == "总经理（角色）"
    assert rule_in_words("user:sunli", {"sunli": "孙丽"}) == "孙丽（sunli）"
    assert rule_in_words("field:approver") == "表单字段“approver”中选择的人"
    assert rules_in_words(["initiator", "admin"]) == "发起人、流程管理员"
    assert rule_in_words("something:odd") == "something:odd"


def _leave_v2() -> bytes:
    xml = library.library_files()["leave.bpmn"].decode()
    for old, new in (
        ('name="分管领导审批"', 'name="分管副总审批"'),
        ('value="leader:1"', 'value="dept_leader:业务部"'),
        ("days &gt; 3", "days &gt; 5"),
    ):
        assert old in xml
        xml = xml.replace(old, new, 1)
    return xml.encode()


def test_the_diff_shows_old_and_new_values(api, core, client):
    with core.db.write() as conn:
        definitions.deploy(conn, {"leave.bpmn": _leave_v2()}, None)
    body = api("admin").get("/api/v1/processes/leave/diff?from=1&to=2").get_json()
    details = [(d["what"], d["old"], d["new"]) for d in body["details"]]
    assert ("审批人", "发起人的部门负责人", "业务部负责人") in details
    assert ("名称", "分管领导审批", "分管副总审批") in details
    assert ("条件", "days > 3", "days > 5") in details
    log_in(client, "admin")
    page = client.get("/admin/processes/leave?from=1&to=2").get_data(as_text=True)
    assert "发起人的部门负责人" in page and "分管副总审批" in page and "days &gt; 5" in page
    version = client.get("/admin/processes/leave/versions/1").get_data(as_text=True)
    assert "发起人的部门负责人" in version and "总经理（角色）" in version
