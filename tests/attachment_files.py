"""Small files of each accepted type (real enough for the content checks) and the 发文 test process with
file fields, for the attachment tests."""

from __future__ import annotations

import io
import json
import zipfile


def _package(part: str, text: str = "") -> bytes:
    """A zip package with a fixed time stamp: the same text gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, content in (("[Content_Types].xml", "<Types/>"), (part, f"<document>{text}</document>")):
            package.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), content)
    return buffer.getvalue()


def docx(text: str = "正文") -> bytes:
    return _package("word/document.xml", text)


XLSX = _package("xl/workbook.xml")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
EXE = b"MZ\x90\x00" + b"\x00" * 60

FORM = {
    "type": "object",
    "required": ["title"],
    "properties": {
        "title": {"title": "标题", "type": "string", "minLength": 1},
        "body": {"title": "正文", "type": "file", "accept": ["docx", "pdf", "ofd", "wps"]},
        "extras": {"title": "附件", "type": "array", "items": {"type": "file"}},
    },
}

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Definitions_{key}" targetNamespace="https://oaflow.example/tests">
"""


def _task(ident: str, name: str, who: str, extra: str = "") -> str:
    return f"""    <bpmn:userTask id="{ident}" name="{name}">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="assignee" value="{who}" />
        <spiffworkflow:property name="form" value="doc_body" />{extra}
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
"""


# 拟稿 (zhangsan) → 核稿 (sunli) → 签发 (huangwei; freezes 正文) → 复核 (wangfang) → end
DOC = (
    _HEAD.format(key="doc_test")
    + """  <bpmn:process id="doc_test" name="发文测试" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="form" value="doc_body" />
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:startEvent>
"""
    + _task("check", "核稿", "user:sunli")
    + _task("sign", "签发", "user:huangwei", '\n        <spiffworkflow:property name="freeze_files" value="body" />')
    + _task("review", "复核", "user:wangfang")
    + """    <bpmn:endEvent id="e" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="sign" />
    <bpmn:sequenceFlow id="f3" sourceRef="sign" targetRef="review" />
    <bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>
"""
).encode()

# 收文, started by the message 分发 with the 正文 of a 发文
RECEIVE = (
    _HEAD.format(key="receive_test")
    + """  <bpmn:message id="m_dispatch" name="分发" />
  <bpmn:process id="receive_test" name="收文测试" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="form" value="doc_body" />
    </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:messageEventDefinition messageRef="m_dispatch" /></bpmn:startEvent>
"""
    + _task("sign_in", "签收", "user:wangfang")
    + """    <bpmn:endEvent id="e" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sign_in" />
    <bpmn:sequenceFlow id="f2" sourceRef="sign_in" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>
"""
).encode()


def bundle() -> dict[str, bytes]:
    return {
        "doc_test.bpmn": DOC,
        "receive_test.bpmn": RECEIVE,
        "doc_body.json": json.dumps(FORM, ensure_ascii=False).encode(),
    }
