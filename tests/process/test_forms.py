"""JSON Schema forms: deploy-time schema checks and the server-side validator (engine.forms)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import Weekdays

from engine.errors import InvalidData
from engine.process import forms

FORMS = Path(__file__).resolve().parents[2] / "forms"
LEAVE_FORM = json.loads((FORMS / "leave_apply.json").read_text(encoding="utf-8"))

SCHEMA = {
    "type": "object",
    "required": ["subject", "amount"],
    "properties": {
        "subject": {"title": "事项", "type": "string", "minLength": 1},
        "amount": {"title": "金额", "type": "number", "minimum": 0},
        "copies": {"title": "份数", "type": "integer"},
        "urgent": {"title": "加急", "type": "boolean"},
        "note": {"title": "备注", "type": "string"},
        "tags": {"title": "标签", "type": "array", "items": {"type": "number"}},
    },
}


# --- check_schema ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        (["not", "an", "object"], "必须是 JSON 对象"),
        ({"type": "array"}, "type 必须是 object"),
        ({"type": "object", "properties": {"a": {"type": 5}}}, "不是有效的 JSON Schema"),
        ({"type": "object", "properties": {"a": {"minLength": "ten"}}}, "不是有效的 JSON Schema"),
        ({"type": "object", "required": "a"}, "不是有效的 JSON Schema"),
        ({"properties": {"1abc": {"type": "string"}}}, "字段名 '1abc' 无效"),
        ({"properties": {"a-b": {"type": "string"}}}, "字段名 'a-b' 无效"),
        ({"properties": {"请假天数": {"type": "number"}}}, "字段名 '请假天数' 无效"),
        ({"properties": {"_secret": {"type": "string"}}}, "字段名 '_secret' 无效"),
        ({"properties": {"__class__": {"type": "string"}}}, "字段名 '__class__' 无效"),
        ({"properties": {"detail": {"type": "object"}}}, "字段 'detail' 的类型 'object' 不受支持"),
        ({"properties": {"nothing": {"type": "null"}}}, "字段 'nothing' 的类型 'null' 不受支持"),
        (
            {"properties": {"end": {"type": "string", "x-not-before": "start"}}},
            "x-not-before 引用了不存在的字段 'start'",
        ),
        ({"properties": {"fee": {"type": "string", "x-money": True}}}, "字段 'fee' 的 x-money 只能是 true"),
        ({"properties": {"fee": {"type": "number", "x-money": "yes"}}}, "字段 'fee' 的 x-money 只能是 true"),
        (
            {"properties": {"a": {"type": "string"}}, "required": ["a", "b"]},
            "required 中的字段 'b' 未在 properties 中定义",
        ),
    ],
)
def test_check_schema_refuses_unusable_forms(schema, words):
    with pytest.raises(forms.FormProblem) as caught:
        forms.check_schema(schema)
    assert words in str(caught.value)


@pytest.mark.parametrize("name", ["leave_apply.json", "leave_approve.json", "contract_draft.json"])
def test_shipped_forms_pass_check_schema(name):
    forms.check_schema(json.loads((FORMS / name).read_text(encoding="utf-8")))


def test_check_schema_accepts_a_plain_form():
    forms.check_schema(SCHEMA)
    forms.check_schema({"properties": {}})


# --- validate: cleaning -----------------------------------------------------------------------------


def test_strings_are_trimmed_and_numbers_converted():
    cleaned = forms.validate(
        SCHEMA,
        {"subject": "  采购打印机 \n", "amount": " 2.50 ", "copies": "3", "urgent": "on", "note": "  备注  "},
    )
    assert cleaned == {"subject": "采购打印机", "amount": 2.5, "copies": 3, "urgent": True, "note": "备注"}
    assert isinstance(cleaned["copies"], int)


@pytest.mark.parametrize(
    ("raw", "value"),
    [("2", 2), ("2.0", 2), (2.0, 2), ("0.5", 0.5), (" 1e3 ", 1000), (7, 7)],
)
def test_numeric_strings_become_numbers(raw, value):
    cleaned = forms.validate(SCHEMA, {"subject": "x", "amount": raw})
    assert cleaned["amount"] == value
    assert type(cleaned["amount"]) is type(value)


@pytest.mark.parametrize(("raw", "value"), [("on", True), ("是", True), ("true", True), ("no", False), ("", False)])
def test_boolean_strings(raw, value):
    cleaned = forms.validate(SCHEMA, {"subject": "x", "amount": 1, "urgent": raw})
    assert cleaned.get("urgent", False) is value


def test_empty_optional_values_are_dropped():
    cleaned = forms.validate(SCHEMA, {"subject": "x", "amount": 1, "note": "   ", "copies": None, "urgent": None})
    assert cleaned == {"subject": "x", "amount": 1}


def test_cleaned_data_keeps_the_form_order():
    submitted = {"note": "n", "urgent": False, "copies": 1, "amount": 3, "subject": "s"}
    cleaned = forms.validate(SCHEMA, submitted)
    assert list(cleaned) == ["subject", "amount", "copies", "urgent", "note"]
    assert list(forms.clean(SCHEMA, submitted)) == ["subject", "amount", "copies", "urgent", "note"]


def test_validate_does_not_change_the_callers_data():
    submitted = {"subject": " x ", "amount": "1"}
    forms.validate(SCHEMA, submitted)
    assert submitted == {"subject": " x ", "amount": "1"}


def test_no_data_means_an_empty_form():
    assert forms.validate({"type": "object", "properties": {}}, None) == {}
    assert forms.validate({"type": "object", "properties": {}}, {}) == {}


# --- validate: errors -------------------------------------------------------------------------------


def errors_of(schema, data, **kwargs) -> dict[str, str]:
    with pytest.raises(InvalidData) as caught:
        forms.validate(schema, data, env=Weekdays(), **kwargs)
    result = {e.field: e.message for e in caught.value.errors}
    assert len(result) == len(caught.value.errors), "each field is named once"
    return result


def test_each_bad_field_is_named_with_its_title():
    errors = errors_of(SCHEMA, {"amount": "很多", "copies": "1.5", "tags": [1, "x"], "colour": "red"})
    assert errors == {
        "colour": "表单中没有这个字段",
        "subject": "请填写事项",
        "amount": "金额的格式不正确",
        "copies": "份数的格式不正确",
        "tags": "标签的格式不正确",
    }


def test_minimum_and_required_messages():
    assert errors_of(SCHEMA, {"subject": "", "amount": -1}) == {"subject": "请填写事项", "amount": "金额不能小于 0"}


def test_leave_form_rules():
    errors = errors_of(
        LEAVE_FORM,
        {
            "leave_type": "旅游假",
            "start_date": "2026-11-24",
            "end_date": "2026-11-20",
            "days": 1.3,  # computed by the server (tests/process/test_computed.py): what is sent is dropped
            "reason": "x" * 1001,
        },
    )
    assert errors == {
        "leave_type": "请假类型必须是以下之一：年假、事假、病假、婚假、产假、丧假、调休",
        "end_date": "结束日期不能早于开始日期",
        "reason": "事由最多 1000 个字符",
    }


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), 10**30, 1e300, "inf", "nan", "1e400"])
def test_numbers_that_cannot_be_checked_or_stored_are_field_errors(value):
    assert errors_of(SCHEMA, {"subject": "x", "amount": value}) == {"amount": "金额不是有效的数字（超出范围）"}
    assert "tags" in errors_of(SCHEMA, {"subject": "x", "amount": 1, "tags": [1, value]})


def test_user_fields_are_checked_with_the_callback():
    seen = []

    def exists(name):
        seen.append(name)
        return name == "lisi"

    data = {"leave_type": "年假", "start_date": "2026-11-23", "end_date": "2026-11-23", "reason": "r"}
    cleaned = forms.validate(LEAVE_FORM, {**data, "handover": "lisi"}, user_exists=exists, env=Weekdays())
    assert cleaned["handover"] == "lisi"
    assert errors_of(LEAVE_FORM, {**data, "handover": "ghost"}, user_exists=exists) == {
        "handover": "工作交接人：用户 'ghost' 不存在"
    }
    assert seen == ["lisi", "ghost"]


@pytest.mark.parametrize("data", [["a"], "text", 3])
def test_data_must_be_an_object(data):
    assert errors_of(SCHEMA, data) == {"data": "表单数据必须是 JSON 对象"}


def test_field_title_falls_back_to_the_name():
    assert forms.field_title(SCHEMA, "amount") == "金额"
    assert forms.field_title({"properties": {"x": {}}}, "x") == "x"
