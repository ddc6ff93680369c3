"""密级 (x-secrecy) and 紧急程度 (x-urgency): the form keywords of official documents, without a database — the
refusal and the mapping as forms.validate applies them, and what deploy refuses about the keywords; plus the
other deploy-time rules the 公文 flows brought: an end event's outcome and `dept_leader:{field}`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import InvalidData
from engine.process import definitions, document_distribution, document_marks, forms, library

FORMS = Path(__file__).resolve().parents[2] / "forms"
DRAFT = json.loads((FORMS / "outgoing_draft.json").read_text(encoding="utf-8"))
SCHEMA = {
    "type": "object",
    "required": ["subject", "secrecy"],
    "properties": {
        "subject": {"title": "标题", "type": "string"},
        "secrecy": {"title": "密级", "type": "string", "enum": ["非密", "秘密"], "x-secrecy": True},
        "urgency": {"title": "紧急程度", "type": "string", "enum": ["特急", "加急", "平件"], "x-urgency": True},
    },
}


@pytest.mark.parametrize("value", ["秘密", "机密", "绝密", "机密★10年", " 绝密 "])
def test_a_classified_value_is_refused_naming_the_field(value):
    with pytest.raises(InvalidData) as caught:
        forms.validate(SCHEMA, {"subject": "通知", "secrecy": value})
    assert [e.as_dict() for e in caught.value.errors] == [
        {"field": "secrecy", "message": "涉密公文不得在本系统中处理，请按纸质文件流转"}
    ]


def test_the_refusal_comes_before_the_choice_list_and_alongside_other_errors():
    # 绝密 is not among this form's choices: the rule says why, not "必须是以下之一".
    with pytest.raises(InvalidData) as caught:
        forms.validate(SCHEMA, {"secrecy": "绝密"})
    assert {e.field: e.message for e in caught.value.errors} == {
        "secrecy": document_marks.SECRECY_REFUSED,
        "subject": "请填写标题",
    }


def test_unclassified_values_and_unmarked_fields_pass():
    assert forms.validate(SCHEMA, {"subject": "通知", "secrecy": "非密"})["secrecy"] == "非密"
    plain = {"type": "object", "properties": {"level": {"type": "string"}}}
    assert forms.validate(plain, {"level": "秘密"}) == {"level": "秘密"}  # no x-secrecy: just text


@pytest.mark.parametrize(("urgency", "priority"), [("特急", "紧急"), ("加急", "重要"), ("平件", "正常"), (None, None)])
def test_urgency_maps_to_the_priority(urgency, priority):
    values = {"urgency": urgency} if urgency else {}
    assert document_marks.priority_of(SCHEMA, values) == priority


def test_the_shipped_draft_form_carries_both_marks():
    assert DRAFT["properties"]["secrecy"]["x-secrecy"] is True
    assert DRAFT["properties"]["urgency"]["x-urgency"] is True
    assert document_marks.problems(DRAFT) == []


@pytest.mark.parametrize(
    ("properties", "words"),
    [
        ({"s": {"type": "string", "x-secrecy": "yes"}}, "x-secrecy 只能是 true"),
        ({"s": {"type": "integer", "x-secrecy": True}}, "类型必须是 string"),
        ({"u": {"type": "string", "enum": ["特急", "急件"], "x-urgency": True}}, "不认识：急件"),
        (
            {"u": {"type": "string", "x-urgency": True}, "v": {"type": "string", "x-urgency": True}},
            "只能有一个紧急程度字段",
        ),
    ],
)
def test_deploy_refuses_misused_marks(properties, words):
    with pytest.raises(forms.FormProblem) as caught:
        forms.check_schema({"type": "object", "properties": properties})
    assert words in str(caught.value)


# --- 分发: the letters each unit receives ------------------------------------------------------------------


def test_each_unit_gets_one_letter_with_the_document():
    data = {
        "title": "通知",
        "issuer": "示例单位",
        "doc_no": "示例办发〔2026〕1号",
        "doc_date": "2026-09-20",
        "urgency": "加急",
        "secrecy": "非密",
        "summary": "不随文分发",
        "distribute_to": ["业务部", "人事部", "业务部"],
    }
    letters = document_distribution.letters(data)["distribution"]
    assert [letter["receiving_dept"] for letter in letters] == ["业务部", "人事部"]
    assert letters[0] == {
        "title": "通知",
        "from_org": "示例单位",
        "incoming_no": "示例办发〔2026〕1号",
        "doc_date": "2026-09-20",
        "urgency": "加急",
        "secrecy": "非密",
        "receiving_dept": "业务部",
    }
    assert document_distribution.letters({"title": "通知"}) == {"distribution": []}


# --- deploy checks the 公文 flows rely on ------------------------------------------------------------------

END = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">
  <bpmn:process id="p" name="p" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
    <bpmn:userTask id="t" name="审核">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="assignee" value="{rule}" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" />
    <bpmn:endEvent id="e" name="结束">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="outcome" value="{outcome}" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def problems(rule: str = "user:lisi", outcome: str = "rejected") -> list[tuple[str, str]]:
    bundle = definitions.read_bundle({"p.bpmn": END.replace("{rule}", rule).replace("{outcome}", outcome).encode()})
    return [("error", p.message) for p in bundle.problems] + [("warning", p.message) for p in bundle.warnings]


def test_an_end_event_may_end_as_rejected_and_nothing_else():
    assert problems() == []
    assert problems(outcome="refused") == [("error", "outcome 'refused' 无效（可用：approved、rejected）")]


def test_a_department_named_by_a_field_nobody_fills_is_warned_about():
    assert problems("dept_leader:{depts}") == [
        ("warning", "审批人规则 'dept_leader:{depts}' 引用的字段 'depts' 没有表单字段提供：运行时找不到部门负责人")
    ]


def test_the_library_deploys_without_a_warning():
    bundle = definitions.read_bundle(library.library_files())
    assert bundle.problems == [] and bundle.warnings == []
