"""发文字号 as written (GB/T 9704-2012): 机关代字〔year〕number号 — pure rules, no database."""

from __future__ import annotations

import pytest

from engine.errors import InvalidData
from engine.numbering.doc_no import DocNo, check_prefix, format_doc_no, parse_doc_no


def test_a_number_is_written_with_six_cornered_brackets_the_full_year_and_no_leading_zeros():
    assert format_doc_no("示例办发", 2026, 12) == "示例办发〔2026〕12号"
    assert format_doc_no("示例办发", 2027, 1) == "示例办发〔2027〕1号"
    assert DocNo("X府办函", 2026, 7).text == "X府办函〔2026〕7号"


def test_parse_reads_back_what_format_writes():
    assert parse_doc_no("示例办发〔2026〕12号") == DocNo("示例办发", 2026, 12)
    assert parse_doc_no(" 示例办发〔2026〕1号 ") == DocNo("示例办发", 2026, 1)


@pytest.mark.parametrize(
    "text",
    [
        "示例办发[2026]12号",  # square brackets
        "示例办发(2026)12号",  # round brackets
        "示例办发（2026）12号",  # full-width round brackets
        "示例办发【2026】12号",
        "示例办发〔26〕12号",  # two-digit year
        "示例办发〔2026〕012号",  # leading zero
        "示例办发〔2026〕0号",
        "示例办发〔2026〕第12号",  # 第
        "示例办发〔2026〕12",  # no 号
        "〔2026〕12号",  # no 代字
        "示例 办发〔2026〕12号",  # space in the 代字
        "示例办发〔2026〕１２号",  # full-width digits
        "",
        None,
    ],
)
def test_parse_accepts_only_the_correct_form(text):
    assert parse_doc_no(text) is None


def test_a_prefix_without_brackets_digits_or_spaces():
    assert check_prefix("示例办发") == "示例办发"
    for bad in ("", "  ", "示例〔办发", "示例办发2", "示例 办发", "办" * 41, None, 12):
        with pytest.raises(InvalidData) as caught:
            check_prefix(bad)
        assert caught.value.errors[0].field == "doc_prefix"


def test_numbers_order_by_prefix_year_then_number():
    numbers = [DocNo("示例办发", 2027, 1), DocNo("示例办发", 2026, 12), DocNo("示例办发", 2026, 2)]
    assert [n.text for n in sorted(numbers)] == ["示例办发〔2026〕2号", "示例办发〔2026〕12号", "示例办发〔2027〕1号"]
