"""公文 in the browser: the three processes under 发起 (heading 公文), the 发文 start form with its 密级 and
紧急程度 fields (no second 紧急程度 choice), a classified draft refused back to the form with what was typed
kept and nothing stored, and each process's diagram drawn from its file."""

from __future__ import annotations

import io
import re

from attachment_files import docx
from sqlalchemy import func, select
from support import sign_in

from engine.store.tables import instance

DRAFT_FORM = {
    "title": "关于开展保密检查的通知",
    "doc_type": "通知",
    "main_to": "各部门",
    "urgency": "加急",
    "secrecy": "机密",
    "issuer": "示例单位",
    "doc_prefix": "示例办发",
}


def test_the_three_processes_are_listed_under_their_heading(client, core):
    sign_in(client, core, "zhangsan")
    html = client.get("/start").get_data(as_text=True)
    section = html[html.index('<h2 class="category">公文</h2>') :]
    for key, name in (("outgoing_document", "发文"), ("incoming_document", "收文"), ("request_report", "请示报告")):
        assert f'href="/start/{key}"' in section and name in section


def test_the_draft_form_asks_for_secrecy_and_urgency_once(client, core):
    sign_in(client, core, "zhangsan")
    html = client.get("/start/outgoing_document").get_data(as_text=True)
    assert re.search(r'<select id="f-secrecy" name="secrecy"', html)
    assert re.search(r'<select id="f-urgency" name="urgency"', html)
    assert 'name="priority"' not in html  # the 紧急程度 field sets the priority
    assert "涉密公文不得在本系统中处理，请按纸质文件流转" in html  # said before anyone tries
    assert 'name="priority"' in client.get("/start/leave").get_data(as_text=True)


def count(core) -> int:
    with core.db.read() as conn:
        return conn.execute(select(func.count()).select_from(instance)).scalar()


def test_a_classified_draft_comes_back_to_the_form_with_the_reason(client, core):
    token = sign_in(client, core, "zhangsan")
    before = count(core)
    response = client.post("/start/outgoing_document", data={"csrf_token": token, **DRAFT_FORM})
    assert response.status_code in (302, 303) and response.headers["Location"].endswith("/start/outgoing_document")
    assert count(core) == before
    html = client.get("/start/outgoing_document").get_data(as_text=True)
    error = re.search(r'<p class="field-error" id="err-secrecy">([^<]*)</p>', html)
    assert error and error.group(1) == "涉密公文不得在本系统中处理，请按纸质文件流转"
    assert 'value="关于开展保密检查的通知"' in html  # what was typed is kept


def test_each_process_has_its_diagram(api):
    for key, names in (
        ("outgoing_document", ("拟稿", "会签", "签发", "复核", "编号", "分发", "归档")),
        ("incoming_document", ("签收", "登记", "初审", "拟办", "批办", "主办", "协办", "传阅", "答复")),
        ("request_report", ("领导批复", "知会拟稿部门", "领导阅知", "批复不同意")),
    ):
        response = api("admin").get(f"/api/v1/processes/{key}/versions/1/diagram")
        assert response.status_code == 200, key
        svg = response.get_data(as_text=True)
        assert svg.startswith("<svg") and all(name in svg for name in names), key


def test_the_redhead_links_the_uploaded_text_for_the_signed_in_reader(client, core, api):
    content = docx("防汛通知正文")
    upload = {"file": (io.BytesIO(content), "防汛通知.docx")}
    body = api("zhangsan").post("/api/v1/attachments", data=upload, content_type="multipart/form-data").get_json()
    data = {**DRAFT_FORM, "secrecy": "非密", "body": body, "supervisor_first": False}
    response = api("zhangsan").post("/api/v1/instances", json={"process": "outgoing_document", "data": data})
    assert response.status_code == 201, response.get_json()
    sign_in(client, core, "zhangsan")
    html = client.get(f"/instances/{response.get_json()['id']}/redhead").get_data(as_text=True)
    link = re.search(r'正文见附件：<a href="([^"]+)">防汛通知.docx</a>', html)
    assert link and link.group(1) == f"/attachments/{body['id']}"  # the page route: the browser's session is enough
    download = client.get(link.group(1))
    assert download.status_code == 200 and download.data == content
