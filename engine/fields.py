"""What a command accepts in one field: its type, its length (the column's, or less) and its characters.

Every command reads its caller's values through these, so a wrong type or an over-long text is a 422 that
names the field and its limit, never a database error (PostgreSQL refuses NUL and an over-long varchar;
SQLite stores anything)."""

from __future__ import annotations

from engine.errors import FieldError, InvalidData

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what a BIGINT holds, and JSON numbers we accept
ID_MAX = 2**31 - 1  # ids and version numbers are INTEGER columns: 32 bits on PostgreSQL


def _refuse(field: str, message: str):
    raise InvalidData([FieldError(field, message)])


def text(value, field: str, label: str, *, max_length: int, required: bool = False) -> str:
    """A text field, trimmed: "" when absent; the label names it in the message (“意见最多 2000 个字”)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        _refuse(field, f"{label}必须是文字")
    if "\x00" in value:
        _refuse(field, f"{label}不能含有 NUL 字符")
    if not value.isprintable() and any("\ud800" <= ch <= "\udfff" for ch in value):
        _refuse(field, f"{label}含有无效的 Unicode 字符（孤立的代理字符）")
    value = value.strip()
    if required and not value:
        _refuse(field, f"请填写{label}")
    if len(value) > max_length:
        _refuse(field, f"{label}最多 {max_length} 个字")
    return value


def optional_text(value, field: str, label: str, *, max_length: int) -> str | None:
    """Like text(), but None when absent or blank."""
    return text(value, field, label, max_length=max_length) or None


def is_one_of(value, choices) -> bool:
    """Whether `value` is one of the named choices (a list or a dict is never one, nor hashable)."""
    return isinstance(value, str) and value in choices


def integer(value, field: str, label: str, *, low: int = 1, high: int = INT64_MAX) -> int:
    """A whole number within [low, high] (ids, versions, years); true/false are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int):
        _refuse(field, f"{label}必须是整数")
    if not low <= value <= high:
        _refuse(field, f"{label}必须在 {low} 到 {high} 之间")
    return value


def identifier(value, field: str, label: str) -> int:
    """An id or a version number: a whole number from 1 to ID_MAX."""
    return integer(value, field, label, low=1, high=ID_MAX)


def identifiers(value, field: str, label: str, *, max_items: int = 1000) -> list[int]:
    """A list of ids."""
    if not isinstance(value, list) or len(value) > max_items:
        _refuse(field, f"{label}必须是最多 {max_items} 个编号的列表")
    return [identifier(v, field, label) for v in value]
