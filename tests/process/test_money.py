"""Money: thousands separators and the capital amount (大写金额) as a finance office writes it."""

from decimal import Decimal

import pytest

from engine.process.money import capital_amount, format_money, is_money


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "零元整"),
        (0.0, "零元整"),
        (1, "壹元整"),
        (10, "壹拾元整"),
        (15, "壹拾伍元整"),
        (101, "壹佰零壹元整"),
        (110, "壹佰壹拾元整"),
        (1005.5, "壹仟零伍元伍角"),
        (1010, "壹仟零壹拾元整"),
        (1100, "壹仟壹佰元整"),
        (10.07, "壹拾元零柒分"),
        (10.5, "壹拾元伍角"),
        (10.57, "壹拾元伍角柒分"),
        (0.5, "伍角"),
        (0.07, "柒分"),
        (0.57, "伍角柒分"),
        (100000, "壹拾万元整"),
        (120000, "壹拾贰万元整"),
        (120000.00, "壹拾贰万元整"),
        (100001, "壹拾万零壹元整"),
        (105000, "壹拾万伍仟元整"),
        (1000500, "壹佰万零伍佰元整"),
        (10105000, "壹仟零壹拾万伍仟元整"),
        (100000000, "壹亿元整"),
        (100010000, "壹亿零壹万元整"),
        (100000001, "壹亿零壹元整"),
        (1000010000, "壹拾亿零壹万元整"),
        (123456789.12, "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
        (999999999999.99, "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
        (Decimal("3000.30"), "叁仟元叁角"),
        ("2500", "贰仟伍佰元整"),
    ],
)
def test_capital_amount(amount, words):
    assert capital_amount(amount) == words


def test_capital_amount_rounds_half_up_to_the_fen():
    assert capital_amount(99.995) == "壹佰元整"
    assert capital_amount(0.004) == "零元整"
    assert capital_amount(0.005) == "壹分"


@pytest.mark.parametrize("amount", [-1, -0.01, Decimal("-100000")])
def test_negative_amounts_are_refused(amount):
    with pytest.raises(ValueError, match="负数"):
        capital_amount(amount)


@pytest.mark.parametrize("amount", [True, None, "abc", float("nan"), float("inf"), [1], {}])
def test_what_is_not_an_amount_is_refused(amount):
    with pytest.raises(ValueError):
        capital_amount(amount)


def test_amounts_from_one_trillion_up_are_refused():
    with pytest.raises(ValueError, match="过大"):
        capital_amount(10**12)


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "¥0.00"),
        (5, "¥5.00"),
        (999.9, "¥999.90"),
        (1000, "¥1,000.00"),
        (120000, "¥120,000.00"),
        (1234567.891, "¥1,234,567.89"),
        (100000000, "¥100,000,000.00"),
        (-2500.5, "-¥2,500.50"),
    ],
)
def test_format_money(amount, text):
    assert format_money(amount) == text


def test_money_fields_are_marked_numbers():
    assert is_money({"type": "number", "x-money": True})
    assert is_money({"type": "integer", "x-money": True})
    assert not is_money({"type": "number"})
    assert not is_money({"type": "string", "x-money": True})
    assert not is_money({"type": "number", "x-money": "yes"})
