"""附件 on the engine: stored once per content, the type, content, size and virus checks refusing with nothing
kept, binding to an application, versions, the freeze of `freeze_files` and its end after 退回, and the copy a
message start hands to the new application."""

from __future__ import annotations

import io
import sys

import pytest
from attachment_files import DOC, EXE, PDF, PNG, XLSX, bundle, docx
from sqlalchemy import func, select

from engine.errors import Conflict, Forbidden, InvalidData, NotFound, TooLarge
from engine.org import users
from engine.process import definitions
from engine.store.tables_files import attachment
from engine.work import attachments, decisions, events, initiate, rework
from engine.work.views import detail


@pytest.fixture
def docs(core):
    with core.db.write() as conn:
        definitions.deploy(conn, bundle(), None)
    return core


def upload(core, user, content, name="公文.docx", **kw):
    return attachments.upload(core, user, io.BytesIO(content), name, **kw)


def stored_files(core) -> list:
    root = core.files.root
    return sorted(p for p in root.rglob("*") if p.is_file() and ".incoming" not in p.parts) if root.exists() else []


def rows(core) -> int:
    with core.db.read() as conn:
        return conn.execute(select(func.count()).select_from(attachment)).scalar()


def user(core, name):
    with core.db.read() as conn:
        return users.require_user(conn, name)


def item_of(core, username, instance_id) -> int:
    found = detail.get_instance(core, user(core, "admin"), instance_id)
    (item,) = [w["id"] for w in found["work_items"] if w["assignee"] == username and w["status"] == "open"]
    return item


def start_doc(core, body, **extra) -> int:
    return initiate.start(core, "zhangsan", "doc_test", {"title": "关于年终总结的通知", "body": body, **extra})["id"]


def test_the_same_content_is_stored_once(core):
    first = upload(core, "zhangsan", docx(), "通知.docx")
    second = upload(core, "sunli", docx(), "通知（副本）.docx")
    assert first["sha256"] == second["sha256"] and first["id"] != second["id"]
    (path,) = stored_files(core)
    assert path.name == first["sha256"][2:] and path.parent.name == first["sha256"][:2]
    assert path.read_bytes() == docx()
    assert not list((core.files.root / ".incoming").iterdir())  # no temporary file left


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (EXE, "setup.exe", "附件：只接受 docx、pdf、ofd、wps、xlsx、jpg、jpeg、png 文件"),
        (EXE, "合同.pdf", "附件：文件内容不是 pdf 格式（与扩展名不符），未被接收"),
        (XLSX, "合同.docx", "附件：文件内容不是 docx 格式（与扩展名不符），未被接收"),
        (PNG, "照片.jpg", "附件：文件内容不是 jpg 格式（与扩展名不符），未被接收"),
        (PDF, "", "附件：请选择要上传的文件"),
    ],
)
def test_a_wrong_type_is_refused_and_nothing_is_kept(core, content, name, message):
    with pytest.raises(InvalidData) as refused:
        upload(core, "zhangsan", content, name)
    assert refused.value.errors[0].message == message
    assert stored_files(core) == [] and rows(core) == 0


def test_a_field_narrows_the_types_and_names_itself(docs):
    with pytest.raises(InvalidData) as refused:
        upload(docs, "zhangsan", XLSX, "统计.xlsx", field="body", process="doc_test")
    assert refused.value.errors[0].as_dict() == {"field": "body", "message": "正文：只接受 docx、pdf、ofd、wps 文件"}
    assert stored_files(docs) == [] and rows(docs) == 0


def test_a_file_past_the_limit_is_refused(core, monkeypatch):
    monkeypatch.setenv("OAFLOW_MAX_UPLOAD_MB", "1")
    big = PDF + b"0" * (1024 * 1024)
    with pytest.raises(TooLarge) as refused:
        upload(core, "zhangsan", big, "大文件.pdf")
    assert refused.value.message == "附件：文件过大（上限 1 MB）"
    assert stored_files(core) == [] and rows(core) == 0
    assert not list((core.files.root / ".incoming").iterdir())


def test_the_virus_scanner_refuses_what_it_flags(core, monkeypatch, tmp_path):
    scanner = tmp_path / "scan.py"
    scanner.write_text("import sys\nsys.exit(1 if b'EICAR' in open(sys.argv[1], 'rb').read() else 0)\n")
    monkeypatch.setenv("OAFLOW_VIRUS_SCAN", f"{sys.executable} {scanner} {{path}}")
    with pytest.raises(InvalidData) as refused:
        upload(core, "zhangsan", PDF + b"EICAR", "带毒.pdf")
    assert refused.value.errors[0].message == "附件：文件未通过病毒扫描，已拒收"
    assert stored_files(core) == [] and rows(core) == 0
    assert upload(core, "zhangsan", PDF, "干净.pdf")["name"] == "干净.pdf"  # a clean file passes
    monkeypatch.setenv("OAFLOW_VIRUS_SCAN", "/nonexistent/scanner {path}")
    with pytest.raises(InvalidData, match="病毒扫描程序无法运行"):
        upload(core, "zhangsan", PDF + b"x", "又一个.pdf")


def test_an_upload_is_the_uploaders_until_it_is_used(docs):
    mine = upload(docs, "zhangsan", docx(), "通知.docx")
    assert attachments.download(docs, user(docs, "zhangsan"), mine["id"]).name == "通知.docx"
    for other in ("sunli", "lisi"):
        with pytest.raises(NotFound):
            attachments.download(docs, user(docs, other), mine["id"])
    with pytest.raises(InvalidData) as refused:  # sunli cannot start with zhangsan's upload
        initiate.start(docs, "sunli", "doc_test", {"title": "借用", "body": {"id": mine["id"]}})
    assert refused.value.errors[0].as_dict() == {"field": "body", "message": "正文：附件不存在或无权使用，请重新上传"}


def test_starting_binds_the_files_and_participants_may_download(docs):
    body = upload(docs, "zhangsan", docx(), "通知.docx")
    extra = upload(docs, "zhangsan", PDF, "附表.pdf")
    instance_id = start_doc(docs, {"id": body["id"], "name": "改过的名字"}, extras=[{"id": extra["id"]}])
    shown = detail.get_instance(docs, user(docs, "zhangsan"), instance_id)
    assert shown["data"]["body"] == body  # the stored name, size and hash, not the client's
    assert shown["data"]["extras"] == [extra]
    assert [(a["field"], a["title"], [v["version"] for v in a["versions"]]) for a in shown["attachments"]] == [
        ("body", "正文", [1]),
        ("extras", "附件", [1]),
    ]
    assert attachments.download(docs, user(docs, "sunli"), body["id"]).media_type.endswith("wordprocessingml.document")
    with pytest.raises(NotFound):
        attachments.download(docs, user(docs, "lisi"), body["id"])
    with pytest.raises(InvalidData, match="正文：只接受 docx、pdf、ofd、wps 文件"):
        start_doc(docs, {"id": upload(docs, "zhangsan", PNG, "图.png")["id"]})


def test_each_new_body_is_a_version_and_signing_freezes_it_until_sent_back(docs):
    instance_id = start_doc(docs, {"id": upload(docs, "zhangsan", docx("第一稿"), "通知.docx")["id"]})
    # 核稿: sunli revises the 正文 with her decision, and again by uploading a new version
    second = upload(docs, "sunli", docx("第二稿"), "通知（核稿）.docx")
    decisions.complete(
        docs,
        "sunli",
        item_of(docs, "sunli", instance_id),
        {"title": "关于年终总结的通知", "body": second},
        "approve",
        "同意",
    )
    upload(docs, "huangwei", docx("第三稿"), "通知（签发）.docx", field="body", instance_id=instance_id)
    with pytest.raises(Forbidden, match="只有正在办理本申请的人可以上传新版本"):
        upload(docs, "sunli", docx("越权"), "x.docx", field="body", instance_id=instance_id)  # not handling it now
    decisions.complete(
        docs, "huangwei", item_of(docs, "huangwei", instance_id), {"title": "关于年终总结的通知"}, "approve", "同意签发"
    )
    # 签发 done: the 正文 is final
    with pytest.raises(Conflict) as frozen:
        upload(docs, "wangfang", docx("复核改稿"), "改.docx", field="body", instance_id=instance_id)
    assert frozen.value.message == "正文已在“签发”环节定稿，不能再修改；如需修改请退回到“签发”"
    change = upload(docs, "wangfang", docx("复核改稿"), "改.docx")
    with pytest.raises(Conflict, match="定稿"):
        decisions.complete(
            docs,
            "wangfang",
            item_of(docs, "wangfang", instance_id),
            {"title": "关于年终总结的通知", "body": change},
            "approve",
            "同意",
        )
    versions = detail.get_instance(docs, user(docs, "zhangsan"), instance_id)["attachments"][0]["versions"]
    assert [(v["version"], v["name"], v["current"]) for v in versions] == [
        (3, "通知（签发）.docx", True),
        (2, "通知（核稿）.docx", False),
        (1, "通知.docx", False),
    ]
    # 复核 sends it back to 签发: the signer may change the 正文 again
    rework.send_back(docs, "wangfang", item_of(docs, "wangfang", instance_id), "sign", "正文有实质性修改，请重新签发")
    fourth = upload(docs, "huangwei", docx("第四稿"), "通知（重签）.docx", field="body", instance_id=instance_id)
    shown = detail.get_instance(docs, user(docs, "zhangsan"), instance_id)
    assert shown["data"]["body"] == fourth
    assert [v["version"] for v in shown["attachments"][0]["versions"]] == [4, 3, 2, 1]
    # older versions stay downloadable by participants
    first_id = shown["attachments"][0]["versions"][-1]["id"]
    assert attachments.download(docs, user(docs, "zhangsan"), first_id).name == "通知.docx"


def test_a_message_start_binds_copies_of_the_files(docs):
    body = upload(docs, "zhangsan", docx(), "通知.docx")
    source = start_doc(docs, body)
    started = events.start_by_message(docs, "admin", "分发", {"title": "关于年终总结的通知", "body": dict(body)})[
        "started"
    ]
    (copy_instance,) = started
    shown = detail.get_instance(docs, user(docs, "admin"), copy_instance)
    copied = shown["data"]["body"]
    assert copied["id"] != body["id"] and copied["sha256"] == body["sha256"] and copied["name"] == "通知.docx"
    assert len(stored_files(docs)) == 1  # the same stored content
    # wangfang handles the 收文 only: she may read its copy, not the 发文's own file
    assert attachments.download(docs, user(docs, "wangfang"), copied["id"]).name == "通知.docx"
    with pytest.raises(NotFound):
        attachments.download(docs, user(docs, "wangfang"), body["id"])
    assert detail.get_instance(docs, user(docs, "zhangsan"), source)["data"]["body"] == body


def test_a_form_with_a_bad_accept_is_refused_at_deploy(core):
    files = bundle()
    files["doc_body.json"] = files["doc_body.json"].replace(b'"wps"]', b'"exe"]')
    with pytest.raises(Exception, match="accept 含有不接受的类型 exe"):
        with core.db.write() as conn:
            definitions.deploy(conn, files, None)


def test_freeze_files_must_name_fields(core):
    files = {**bundle(), "doc_test.bpmn": DOC.replace(b'value="body"', 'value="body, 正文!"'.encode())}
    with pytest.raises(Exception, match="freeze_files 中的 '正文!' 不是有效的字段名"):
        with core.db.write() as conn:
            definitions.deploy(conn, files, None)
