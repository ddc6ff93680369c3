"""The `oaflow` command as an administrator uses it (SQLite in a temporary data directory)."""

import re

import pytest
from click.testing import CliRunner
from support import DATA

from engine.process import library
from webapp.cli import main


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("OAFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OAFLOW_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def test_validate_reports_file_line_element_and_exit_code(run):
    bpmn_dir, forms_dir = library.library_dirs()
    ok = run("validate", str(bpmn_dir), str(forms_dir))
    assert ok.exit_code == 0 and "全部通过" in ok.output

    bad = run("validate", str(DATA / "unsafe_condition.bpmn"))
    assert bad.exit_code == 1
    problems = [re.match(r"^unsafe_condition\.bpmn:(\d+): (\S+): (.+)$", text) for text in bad.output.splitlines()]
    problems = [p for p in problems if p]
    assert [(p.group(1), p.group(2)) for p in problems] == [("13", "Flow_import"), ("16", "Flow_subclasses")]
    assert all("不安全" in p.group(3) for p in problems)
    assert "发现 2 个问题" in bad.output


def test_demo_prepare_deploy_and_user_create(run, tmp_path):
    first = run("demo", "--prepare-only")
    assert first.exit_code == 0, first.output
    assert "[4/4] 部署流程库" in first.output and "zhangsan" in first.output and "oaflow-demo" in first.output
    again = run("demo", "--prepare-only")
    assert "已存在，未改动" in again.output and "未变化" in again.output

    upgrade = run("db", "upgrade")
    assert upgrade.exit_code == 0 and "当前版本" in upgrade.output

    bpmn_dir, forms_dir = library.library_dirs()
    same = run("deploy", str(bpmn_dir / "leave.bpmn"), str(forms_dir))
    assert same.exit_code == 0 and "内容未变化，版本不变" in same.output

    refused = run("deploy", str(DATA / "xxe.bpmn"))
    assert refused.exit_code == 1 and "未写入任何内容" in refused.output

    created = run(
        "user", "create", "wangwu", "--name", "王五", "--department", "业务部", input="long-enough-1\nlong-enough-1\n"
    )
    assert created.exit_code == 0 and "已创建账号 wangwu（王五）" in created.output
    duplicate = run("user", "create", "wangwu", input="long-enough-1\nlong-enough-1\n")
    assert duplicate.exit_code != 0 and "已存在" in duplicate.output


def test_org_top_approver(run):
    assert run("demo", "--prepare-only").exit_code == 0
    shown = run("org", "top-approver")
    assert shown.exit_code == 0 and "最高审批人：wujian（吴建）" in shown.output  # the demo's 董事长
    changed = run("org", "top-approver", "huangwei")
    assert changed.exit_code == 0 and "最高审批人已设为 huangwei（黄伟）" in changed.output
    assert "最高审批人：huangwei（黄伟）" in run("org", "top-approver").output
    unknown = run("org", "top-approver", "ghost")
    assert unknown.exit_code != 0 and "用户 'ghost' 不存在或已停用" in unknown.output
    assert "最高审批人：huangwei（黄伟）" in run("org", "top-approver").output


def test_org_office_name(run):
    assert run("demo", "--prepare-only").exit_code == 0
    assert "机关名称：示例市教育局" in run("org", "office-name").output  # the example until one is set
    changed = run("org", "office-name", "  某某市人民政府办公室 ")
    assert changed.exit_code == 0 and "机关名称已设为 某某市人民政府办公室" in changed.output
    assert "机关名称：某某市人民政府办公室" in run("org", "office-name").output
    too_long = run("org", "office-name", "长" * 41)
    assert too_long.exit_code != 0 and "机关名称最多 40 个字" in too_long.output
    assert "机关名称：某某市人民政府办公室" in run("org", "office-name").output
