"""导入部门 and 导出部门 through the REST API: a GB18030 CSV or an .xlsx, the preview, the refusal naming row
and column with nothing stored, a round trip through the export, and 系统管理员 only."""

from __future__ import annotations

import io

from openpyxl import load_workbook

DEPARTMENTS = "/api/v1/admin/departments"


def _import(api, content: bytes, name="departments.csv", user="admin", **flags):
    data = {"file": (io.BytesIO(content), name), **{k: "1" for k, v in flags.items() if v}}
    return api(user).post(f"{DEPARTMENTS}/import", data=data, content_type="multipart/form-data")


def test_preview_refusal_and_import_of_a_chinese_windows_csv(api):
    csv = "部门名称,上级部门,负责人,分管领导\n运维组,信息中心,lisi,\n信息中心,示例单位,,\n审计组,信息中心,,sunli2\n"
    content = csv.encode("gb18030")
    preview = _import(api, content, dry_run=True)
    assert preview.status_code == 200
    report = preview.get_json()
    assert (report["total"], report["valid"], report["invalid"]) == (3, 2, 1)
    assert report["rows"][2]["errors"] == [{"column": "分管领导", "message": "分管领导“sunli2”不存在或已停用"}]
    refused = _import(api, content)
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["message"] == "第 4 行“分管领导”：分管领导“sunli2”不存在或已停用"
    names = [d["name"] for d in api("admin").get(DEPARTMENTS).get_json()["items"]]
    assert "信息中心" not in names and "运维组" not in names  # neither the preview nor the refusal stored
    done = _import(api, content, only_valid=True)
    assert done.status_code == 201
    assert sorted(done.get_json()["created"]) == ["信息中心", "运维组"]
    tree = {d["name"]: d for d in api("admin").get(DEPARTMENTS).get_json()["items"]}
    assert tree["运维组"]["parent"] == "信息中心" and tree["运维组"]["leader_name"] == "李四"


def test_export_then_import_the_same_file_changes_nothing(api):
    exported = api("admin").get(f"{DEPARTMENTS}?format=xlsx")
    assert exported.status_code == 200
    rows = list(load_workbook(io.BytesIO(exported.data)).active.iter_rows(values_only=True))
    assert rows[0] == ("部门名称", "上级部门", "负责人", "分管领导")
    assert ("财务部", "示例单位", "chenjing", "huangwei") in rows
    again = _import(api, exported.data, name="部门.xlsx", dry_run=True).get_json()
    assert again["invalid"] == 0 and {r["action"] for r in again["rows"]} == {"unchanged"}


def test_bad_files_and_other_roles_are_refused(api):
    header = _import(api, "名称,上级部门\n甲,示例单位\n".encode(), dry_run=True)
    assert header.status_code == 422
    assert "缺少列：部门名称" in header.get_json()["errors"][0]["message"]
    assert _import(api, b"x", name="departments.txt").get_json()["errors"][0]["field"] == "file"
    refused = _import(api, "部门名称\n甲组\n".encode(), user="zhangsan", dry_run=True)
    assert refused.status_code == 403
