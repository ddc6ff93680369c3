"""发文字号: how a 文号 is written and read, after GB/T 9704-2012 — 机关代字 + 〔year〕 + number + 号.

`示例办发〔2026〕12号`: six-cornered brackets 〔〕 (never [] or ()), the full four-digit year, no 第, no
leading zeros. Pure: no database, so the rules are tested on their own (tests/numbering).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.errors import FieldError, InvalidData

PREFIX_MAX = 40  # the column's width (doc_number.prefix)
NUMBER_MAX = 999_999  # more documents than any office issues under one 代字 in a year
YEAR_MIN, YEAR_MAX = 1949, 9999
# A 代字 is the agency's short name and the document kind (示例办发, X府办函): no spaces, no brackets of any
# kind (they would make the text ambiguous) and no digits (they would run into the number when it is read).
_BAD_IN_PREFIX = re.compile(r"[\s〔〕\[\]()（）【】{}<>《》0-9０-９]")
_TEXT = re.compile(r"^(?P<prefix>[^〔〕]+)〔(?P<year>[0-9]{4})〕(?P<number>[1-9][0-9]*)号$")


@dataclass(frozen=True, order=True)
class DocNo:
    prefix: str
    year: int
    number: int

    @property
    def text(self) -> str:
        return format_doc_no(self.prefix, self.year, self.number)


def format_doc_no(prefix: str, year: int, number: int) -> str:
    """示例办发〔2026〕12号."""
    return f"{prefix}〔{year}〕{number}号"


def parse_doc_no(text: str) -> DocNo | None:
    """The parts of a 文号 written exactly right, else None (〔2026〕 only: not [2026], (2026), 〔26〕, 第12号
    or 012号)."""
    match = _TEXT.match(text.strip()) if isinstance(text, str) else None
    if match is None or prefix_problem(match["prefix"]) is not None:
        return None
    year, number = int(match["year"]), int(match["number"])
    if not (YEAR_MIN <= year <= YEAR_MAX and number <= NUMBER_MAX):
        return None
    return DocNo(match["prefix"], year, number)


def prefix_problem(prefix) -> str | None:
    """Why a 机关代字 cannot be used, or None."""
    if not isinstance(prefix, str) or not prefix.strip():
        return "请填写机关代字，例如 示例办发"
    if len(prefix) > PREFIX_MAX:
        return f"机关代字不能超过 {PREFIX_MAX} 个字"
    if _BAD_IN_PREFIX.search(prefix):
        return "机关代字不能含空格、数字或括号，例如 示例办发"
    return None


def check_prefix(prefix, field: str = "doc_prefix") -> str:
    """The 机关代字, or InvalidData naming `field`."""
    problem = prefix_problem(prefix)
    if problem is not None:
        raise InvalidData([FieldError(field, problem)])
    return prefix
