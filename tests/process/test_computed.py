"""Computed fields (`x-computed`): the deploy check names the form and the field, and at validation the server's
value replaces whatever the client sent, with the range errors on the field the user has to change."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from support import Weekdays

from engine.errors import DeployFailed, InvalidData
from engine.process import computed, forms
from engine.work import deployment

LEAVE_FORM = json.loads((Path(__file__).parents[2] / "forms" / "leave_apply.json").read_text("utf-8"))


def form(**props) -> dict:
    base = {
        "type": "object",
        "properties": {
            "start": {"title": "开始", "type": "string", "format": "date"},
            "end": {"title": "结束", "type": "string", "format": "date"},
            "half": {"type": "string", "enum": ["上午", "下午"]},
            "a": {"type": "number"},
            "b": {"type": "integer"},
            "note": {"type": "string"},
        },
    }
    base["properties"].update(props)
    return base


def computed_field(function, *args, kind="number") -> dict:
    return {"title": "结果", "type": kind, "x-computed": {"function": function, "args": list(args)}}


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (computed_field("age_of", "start"), "未知的函数 'age_of'"),
        (computed_field("working_days", "start", "missing"), "引用了不存在的字段 'missing'"),
        (computed_field("working_days", "start"), "参数个数不对"),
        (computed_field("days_between", "start", "end", "half"), "参数个数不对"),
        (computed_field("working_days", "start", "note"), "第 2 个参数 'note' 应为日期字段"),
        (computed_field("working_days", "start", "end", "note"), "第 3 个参数 'note' 应为上午/下午字段"),
        (computed_field("sum", "a", "note"), "第 2 个参数 'note' 应为数字字段"),
        (computed_field("working_days", "start", "end", kind="string"), "字段的 type 应为 number"),
        (computed_field("sum", "a", "total"), "引用了另一个计算字段 'total'"),
        ({"type": "number", "x-computed": "working_days(start, end)"}, '必须是 {"function"'),
        ({"type": "number", "x-computed": {"function": "sum", "args": ["a"], "when": "x"}}, "必须是"),
        ({"type": "number", "x-computed": {"function": "sum", "args": "a"}}, "args 必须是字段名的列表"),
    ],
)
def test_deploy_refuses_bad_declarations_naming_the_field(spec, words):
    with pytest.raises(forms.FormProblem) as caught:
        forms.check_schema(form(total=spec))
    assert "字段 'total' 的 x-computed" in str(caught.value)
    assert words in str(caught.value)


def test_deploy_errors_name_the_form_file_the_field_and_its_line(core):
    schema = copy.deepcopy(LEAVE_FORM)
    schema["properties"]["days"]["x-computed"]["function"] = "workdays"
    text = json.dumps(schema, ensure_ascii=False, indent=2)
    line = text[: text.index('"days": {')].count("\n") + 1
    bpmn = (Path(__file__).parents[2] / "bpmn" / "leave.bpmn").read_bytes()
    with pytest.raises(DeployFailed) as caught:
        deployment.deploy(core, "admin", {"leave.bpmn": bpmn, "leave_apply.json": text.encode()})
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.element) == ("leave_apply.json", line, "days")
    assert problem.message.startswith("字段 'days' 的 x-computed 使用了未知的函数 'workdays'（可用：working_days")


def test_the_shipped_leave_form_declares_days_as_computed():
    assert computed.computed_fields(LEAVE_FORM) == {
        "days": {"function": "working_days", "args": ["start_date", "end_date", "start_half", "end_half"]}
    }
    assert "days" not in LEAVE_FORM["required"]


def leave(**fields) -> dict:
    return {"leave_type": "年假", "start_date": "2026-11-23", "end_date": "2026-11-27", "reason": "r", **fields}


@pytest.mark.parametrize("sent", [1, 100000, "5", None, -1, [1], {"a": 1}])
def test_the_server_value_replaces_the_clients(sent):
    assert forms.validate(LEAVE_FORM, leave(days=sent), env=Weekdays())["days"] == 5


def test_the_computed_value_keeps_the_form_order_and_whole_numbers_stay_whole():
    cleaned = forms.validate(LEAVE_FORM, {"days": 3, **leave(end_half="上午")}, env=Weekdays())
    assert list(cleaned) == ["leave_type", "start_date", "end_date", "end_half", "days", "reason"]
    assert cleaned["days"] == 4.5
    assert isinstance(forms.validate(LEAVE_FORM, leave(), env=Weekdays())["days"], int)


def errors(schema, data) -> dict:
    with pytest.raises(InvalidData) as caught:
        forms.validate(schema, data, env=Weekdays())
    return {e.field: e.message for e in caught.value.errors}


def test_missing_dates_are_named_once_and_the_computed_field_not_at_all():
    assert errors(LEAVE_FORM, leave(start_date=None, end_date=None)) == {
        "start_date": "请填写开始日期",
        "end_date": "请填写结束日期",
    }
    assert errors(LEAVE_FORM, leave(start_date="2026/11/23")) == {"start_date": "开始日期不是有效的日期（YYYY-MM-DD）"}


def test_the_computed_value_is_checked_against_its_own_rules():
    schema = copy.deepcopy(LEAVE_FORM)
    schema["properties"]["days"]["maximum"] = 3
    assert errors(schema, leave()) == {"days": "天数不能大于 3"}


def test_days_between_and_sum():
    schema = form(
        span=computed_field("days_between", "start", "end", kind="integer"), total=computed_field("sum", "a", "b")
    )
    forms.check_schema(schema)
    cleaned = forms.validate(schema, {"start": "2026-11-23", "end": "2026-11-29", "a": 1.5, "span": 1}, env=None)
    assert cleaned["span"] == 7 and cleaned["total"] == 1.5
    assert forms.validate(schema, {"a": "2", "b": "3"}, env=None)["total"] == 5
    assert errors(schema, {"a": 2**53, "b": 2**53}) == {"total": "结果不是有效的数字（超出范围）"}


def test_a_preview_reports_what_it_can_without_complaining_about_missing_fields():
    values, problems = forms.computed_values(LEAVE_FORM, {"start_date": "2026-11-23"}, Weekdays())
    assert values == {"days": None} and problems == []
    values, problems = forms.computed_values(LEAVE_FORM, leave(start_half="下午"), Weekdays())
    assert values == {"days": 4.5} and problems == []
    values, problems = forms.computed_values(LEAVE_FORM, leave(end_date="2026-11-22"), Weekdays())
    assert values == {"days": None}
    assert [(p.field, p.message) for p in problems] == [("end_date", "结束日期不能早于开始日期")]
    assert forms.computed_values(LEAVE_FORM, ["not", "a", "form"], Weekdays()) == ({"days": None}, [])


def test_a_span_longer_than_a_year_is_refused_before_anything_is_counted():
    class Exploding(Weekdays):
        def working_days(self, *args, **kwargs):
            raise AssertionError("counted")

    found = errors(LEAVE_FORM, leave(end_date=(date(2026, 11, 23) + timedelta(days=400)).isoformat()))
    assert list(found) == ["end_date"] and "超过了 366 天" in found["end_date"]
    with pytest.raises(InvalidData):
        forms.validate(LEAVE_FORM, leave(end_date="9999-12-31"), env=Exploding())
