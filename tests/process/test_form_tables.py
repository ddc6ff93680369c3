"""Tables in a form (engine/process/form_tables.py): rows cleaned, a bad cell named by row and column, the
合计 of a column added up in decimal, and deploy refusing what a table cannot hold. No database."""

from __future__ import annotations

import pytest

from engine.errors import InvalidData
from engine.process import forms

LINES = {
    "title": "费用明细",
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["date", "amount"],
        "additionalProperties": False,
        "properties": {
            "date": {"title": "日期", "type": "string", "format": "date"},
            "summary": {"title": "摘要", "type": "string", "maxLength": 10},
            "amount": {"title": "金额", "type": "number", "exclusiveMinimum": 0, "multipleOf": 0.01},
            "receipts": {"title": "票据张数", "type": "integer", "minimum": 0},
        },
    },
}
FORM = {
    "type": "object",
    "required": ["lines"],
    "properties": {
        "lines": LINES,
        "total": {"title": "合计", "type": "number", "x-computed": {"function": "sum", "args": ["lines.amount"]}},
    },
}


def test_rows_are_cleaned_and_the_total_is_added_up_exactly():
    data = {
        "lines": [
            {"date": "2026-03-01", "amount": "0.1", "summary": "  车票 ", "receipts": "2"},
            {"date": "", "amount": "", "summary": " "},  # an empty row, as the browser posts one
            {"date": "2026-03-02", "amount": 0.2},
        ]
    }
    cleaned = forms.validate(FORM, data)
    assert cleaned["lines"] == [
        {"date": "2026-03-01", "amount": 0.1, "summary": "车票", "receipts": 2},
        {"date": "2026-03-02", "amount": 0.2},
    ]
    assert cleaned["total"] == 0.3  # not 0.30000000000000004


def test_the_total_sent_by_the_client_is_ignored():
    cleaned = forms.validate(FORM, {"lines": [{"date": "2026-03-01", "amount": 5}], "total": 1})
    assert cleaned["total"] == 5


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"date": "2026-03-01", "amount": -1}, "费用明细第 2 行：金额必须大于 0"),
        ({"date": "2026-03-01"}, "费用明细第 2 行：请填写金额"),
        ({"date": "3月1日", "amount": 1}, "费用明细第 2 行：日期不是有效的日期（YYYY-MM-DD）"),
        ({"date": "2026-03-01", "amount": 1, "x": 1}, "费用明细第 2 行：含有未定义的列"),
        ({"date": "2026-03-01", "amount": "abc"}, "费用明细第 2 行：金额的格式不正确"),
        ({"date": "2026-03-01", "amount": 1, "summary": "很长" * 6}, "费用明细第 2 行：摘要最多 10 个字符"),
    ],
)
def test_a_bad_cell_is_named_by_row_and_column(row, message):
    with pytest.raises(InvalidData) as refused:
        forms.validate(FORM, {"lines": [{"date": "2026-03-01", "amount": 1}, row]})
    assert [(e.field, e.message) for e in refused.value.errors] == [("lines", message)]


def test_no_rows_is_refused_by_min_items():
    with pytest.raises(InvalidData) as refused:
        forms.validate(FORM, {"lines": [{"summary": ""}]})
    assert refused.value.errors[0].message == "费用明细至少填写 1 行"


def test_deploy_refuses_a_column_a_table_cannot_hold_and_a_sum_of_an_unknown_column():
    nested = {**LINES, "items": {"type": "object", "properties": {"inner": {"type": "array"}}}}
    with pytest.raises(forms.FormProblem, match="列 'inner' 类型"):
        forms.check_schema({"type": "object", "properties": {"lines": nested}})
    wrong = {**FORM, "properties": {**FORM["properties"]}}
    wrong["properties"]["total"] = {"type": "number", "x-computed": {"function": "sum", "args": ["lines.nope"]}}
    with pytest.raises(forms.FormProblem, match="不存在的字段 'lines.nope'"):
        forms.check_schema(wrong)
    forms.check_schema(FORM)
