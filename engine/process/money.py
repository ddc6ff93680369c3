"""Money in a form: which fields hold an amount of money, how an amount is written with thousands separators
(¥120,000.00), and the capital amount (大写金额, 壹拾贰万元整) that vouchers, contracts and 审批单 carry.

A form field holds money when its schema says `"x-money": true` (a number field; JSON Schema's `format`
is for strings, so the marker is our own). Pure functions, no database: every layer may use them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("仟", "佰", "拾", "")  # within a group of four digits, from the highest
GROUPS = ("", "万", "亿")  # each group of four digits, from the lowest
LIMIT = Decimal(10) ** (4 * len(GROUPS))  # 一万亿: far beyond any approval, and the words change there
CENT = Decimal("0.01")


def is_money(prop: dict) -> bool:
    """Whether a form field's schema marks it as an amount of money."""
    return isinstance(prop, dict) and prop.get("x-money") is True and prop.get("type") in ("number", "integer")


def to_cents(value) -> Decimal:
    """The amount rounded half up to the fen; ValueError for what is not a finite number (bools included)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise ValueError(f"不是金额：{value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"不是金额：{value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"不是金额：{value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(value) -> str:
    """¥120,000.00: the yuan sign, thousands separators and two decimals (a minus sign before the ¥)."""
    amount = to_cents(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def capital_amount(value) -> str:
    """大写金额 as banks and finance offices write it: 0 → 零元整, 100000 → 壹拾万元整, 1005.5 → 壹仟零伍元伍角,
    10.07 → 壹拾元零柒分, 100000000 → 壹亿元整. Rounded half up to the fen. ValueError for a negative
    amount (a capital amount is never negative: write 退款 or 冲销 instead) and from 一万亿 up."""
    amount = to_cents(value)
    if amount < 0:
        raise ValueError("大写金额不能为负数")
    if amount >= LIMIT:
        raise ValueError("金额过大（大写金额以不足一万亿元为限）")
    cents = int(amount * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if cents == 0:
        return "零元整"
    words = _yuan_words(yuan) + "元" if yuan else ""
    if jiao == 0 and fen == 0:
        return words + "整"
    if jiao:
        words += DIGITS[jiao] + "角"
    elif yuan:
        words += "零"  # 壹拾元零柒分: the missing 角 is read as 零
    if fen:
        words += DIGITS[fen] + "分"
    return words


def _yuan_words(yuan: int) -> str:
    """The whole yuan (≥ 1) in capital digits: groups of four with 万/亿, one 零 for each run of zeros inside."""
    groups = []
    while yuan:
        groups.append(yuan % 10000)
        yuan //= 10000
    words = ""
    gap = False  # zeros stand between what is written and the next non-zero digit
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            gap = gap or bool(words)
            continue
        if words and (gap or group < 1000):
            words += "零"
        words += _group_words(group) + GROUPS[index]
        gap = False
    return words


def _group_words(group: int) -> str:
    """1–9999 in capital digits with 仟佰拾, a single 零 for zeros inside, none for zeros at the end."""
    words = ""
    gap = False
    for place, digit in zip(PLACES, f"{group:04d}", strict=True):
        if digit == "0":
            gap = bool(words)
            continue
        if gap:
            words += "零"
            gap = False
        words += DIGITS[int(digit)] + place
    return words
