"""附件 through the REST API: upload and download, who may download (a stranger gets 404), the size limit
(413) and the type check (422) storing nothing, and the contract text of a 合同会签."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from attachment_files import EXE, PDF, docx
from sqlalchemy import func, select
from support import CONTRACT

from engine.store.tables_files import attachment


def send(api, user, content, name, **form):
    data = {"file": (io.BytesIO(content), name), **form}
    return api(user).post("/api/v1/attachments", data=data, content_type="multipart/form-data")


def kept(core) -> tuple[int, int]:
    with core.db.read() as conn:
        count = conn.execute(select(func.count()).select_from(attachment)).scalar()
    root = core.files.root
    files = [p for p in root.rglob("*") if p.is_file() and ".incoming" not in p.parts] if root.exists() else []
    return count, len(files)


def start_contract(api, file_value) -> int:
    body = {"process": "contract_countersign", "data": {**CONTRACT, "contract_file": file_value}}
    response = api("zhangsan").post("/api/v1/instances", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_upload_then_the_approver_downloads_and_a_stranger_gets_404(api, core):
    response = send(api, "zhangsan", docx("合同正文"), "采购合同（定稿）.docx")
    assert response.status_code == 201, response.get_json()
    uploaded = response.get_json()
    assert set(uploaded) == {"id", "name", "size", "sha256"} and uploaded["name"] == "采购合同（定稿）.docx"
    # before it is used only the uploader may download it
    assert api("zhangsan").get(f"/api/v1/attachments/{uploaded['id']}").status_code == 200
    assert api("sunli").get(f"/api/v1/attachments/{uploaded['id']}").status_code == 404
    instance_id = start_contract(api, uploaded)
    shown = api("zhangsan").get(f"/api/v1/instances/{instance_id}").get_json()
    assert shown["data"]["contract_file"] == uploaded
    assert shown["attachments"][0]["title"] == "合同文本"
    download = api("sunli").get(f"/api/v1/attachments/{uploaded['id']}")  # 部门负责人审核
    assert download.status_code == 200
    assert download.data == docx("合同正文")
    assert download.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote('采购合同（定稿）.docx')}" in disposition
    stranger = api("lisi").get(f"/api/v1/attachments/{uploaded['id']}")
    missing = api("lisi").get("/api/v1/attachments/987654")
    assert stranger.status_code == missing.status_code == 404
    assert stranger.get_json() == missing.get_json()
    listed = api("sunli").get(f"/api/v1/instances/{instance_id}/attachments").get_json()["items"]
    assert [(g["field"], [v["version"] for v in g["versions"]]) for g in listed] == [("contract_file", [1])]
    assert api("lisi").get(f"/api/v1/instances/{instance_id}/attachments").status_code == 404


def test_a_file_past_the_limit_is_413_and_nothing_is_stored(api, core, monkeypatch):
    monkeypatch.setenv("OAFLOW_MAX_UPLOAD_MB", "1")
    response = send(api, "zhangsan", PDF + b"0" * (1024 * 1024 + 10), "扫描件.pdf")
    assert response.status_code == 413
    assert response.get_json()["error"] == "附件：文件过大（上限 1 MB）"
    assert kept(core) == (0, 0)


def test_the_request_limit_lets_an_upload_at_the_limit_through(api, core, monkeypatch):
    monkeypatch.setenv("OAFLOW_MAX_UPLOAD_MB", "9")  # past the 8 MB every other request is held to
    response = send(api, "zhangsan", PDF + b"0" * (8 * 1024 * 1024 + 10), "扫描件.pdf")
    assert response.status_code == 201, response.get_json()
    assert kept(core) == (1, 1)


@pytest.mark.parametrize(
    ("content", "name", "form", "field", "message"),
    [
        (EXE, "setup.exe", {}, "file", "附件：只接受 docx、pdf、ofd、wps、xlsx、jpg、jpeg、png 文件"),
        (EXE, "合同.pdf", {}, "file", "附件：文件内容不是 pdf 格式（与扩展名不符），未被接收"),
        (
            PDF,
            "合同.xlsx",
            {"field": "contract_file", "process": "contract_countersign"},
            "contract_file",
            "合同文本：只接受 docx、pdf 文件",
        ),
    ],
)
def test_a_wrong_type_is_422_naming_the_field_and_nothing_is_stored(api, core, content, name, form, field, message):
    response = send(api, "zhangsan", content, name, **form)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"] == [{"field": field, "message": message}]
    assert kept(core) == (0, 0)


def test_another_persons_upload_cannot_be_used(api, core):
    uploaded = send(api, "sunli", PDF, "她的.pdf").get_json()
    body = {"process": "contract_countersign", "data": {**CONTRACT, "contract_file": {"id": uploaded["id"]}}}
    response = api("zhangsan").post("/api/v1/instances", json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {"field": "contract_file", "message": "合同文本：附件不存在或无权使用，请重新上传"}
    ]


def test_the_contract_text_is_optional(api):
    response = api("zhangsan").post("/api/v1/instances", json={"process": "contract_countersign", "data": CONTRACT})
    assert response.status_code == 201, response.get_json()
