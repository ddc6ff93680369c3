"""文号管理: the 发文字号 register as its keepers see and change it — the counters, setting the next number
(to continue a paper register), 作废 (left void or reusable), 预留 and assigning a reserved number.

Refused to anyone the organisation does not let keep the register (engine.org.permissions.may_manage_doc_numbers:
系统管理员 and 文件管理员)
before the input is read. A change to a number an instance holds takes that instance's lock first, then the
counter's (the order allocation takes them in), and changes the instance's `doc_no` with it.
"""

from __future__ import annotations

from engine import fields
from engine.errors import Conflict, FieldError, InvalidData, NotFound
from engine.numbering import register
from engine.numbering.doc_no import NUMBER_MAX, YEAR_MAX, YEAR_MIN, check_prefix
from engine.org import permissions, users
from engine.work import frame
from engine.work.kernel import case as kernel
from engine.work.kernel.doc_numbers import store_doc_no

REASON_MAX = 500


def _manager(conn, username: str) -> users.User:
    user = users.require_user(conn, username)
    permissions.require_doc_numbers(user)
    return user


def _counter_key(prefix, year) -> tuple[str, int]:
    return check_prefix(prefix, "prefix"), fields.integer(year, "year", "年份", low=YEAR_MIN, high=YEAR_MAX)


def _number(value, field: str = "number", label: str = "文号") -> int:
    return fields.integer(value, field, label, low=1, high=NUMBER_MAX)


def list_counters(core, username: str) -> list[dict]:
    """Every counter: next number, how many allocated, voided, reserved."""
    with core.db.read() as conn:
        _manager(conn, username)
        return register.counters(conn)


def counters_page(core, username: str) -> dict:
    """The 文号管理 page: the counters, the latest changes and the page frame's figures, in one read."""
    with core.db.read() as conn:
        user = _manager(conn, username)
        return {
            "counters": register.counters(conn),
            "changes": register.changes(conn, 20),
            "layout": frame.figures(conn, user),
        }


def set_next(core, username: str, prefix, year, next_number, reason=None) -> dict:
    """Set the counter's next number (never back to or below a number already given out)."""
    with core.db.write() as conn:
        user = _manager(conn, username)
        prefix, year = _counter_key(prefix, year)
        next_number = _number(next_number, "next", "下一个文号")
        reason = fields.optional_text(reason, "reason", "原因", max_length=REASON_MAX)
        return register.set_next(conn, prefix, year, next_number, user.id, reason)


def void(core, username: str, prefix, year, number, reason, reuse=False) -> dict:
    """作废 a number, with the reason; `reuse`: the next allocation takes it (the lowest such first)."""
    with core.db.write() as conn:
        user = _manager(conn, username)
        prefix, year = _counter_key(prefix, year)
        number = _number(number)
        reason = fields.text(reason, "reason", "作废原因", max_length=REASON_MAX, required=True)
        if not isinstance(reuse, bool):
            raise InvalidData([FieldError("reuse", "reuse 必须是 true（可重新使用）或 false（保持作废）")])
        holder = register.holder(conn, prefix, year, number)  # read before the locks, checked after
        case = kernel.lock(core, conn, holder)[0] if holder is not None else None
        held = register.void(conn, prefix, year, number, reason, reuse=reuse, actor_id=user.id)
        if held != holder:
            raise Conflict("该文号刚被他人改动，请刷新后重试")
        if case is not None:
            store_doc_no(case, None)
        return {"prefix": prefix, "year": year, "number": number, "reusable": reuse, "instance_id": held}


def reserve(core, username: str, prefix, year, number=None, count=None, reason=None) -> dict:
    """预留 one number (`number`) or the next `count` free ones: allocation skips them."""
    with core.db.write() as conn:
        user = _manager(conn, username)
        prefix, year = _counter_key(prefix, year)
        reason = fields.optional_text(reason, "reason", "预留原因", max_length=REASON_MAX)
        if number is not None:
            number = _number(number)
        else:
            count = fields.integer(count, "count", "预留个数", low=1, high=register.RESERVE_MAX)
        numbers = register.reserve(conn, prefix, year, number=number, count=count, reason=reason, actor_id=user.id)
        return {"prefix": prefix, "year": year, "numbers": numbers}


def assign(core, username: str, prefix, year, number, instance_id) -> dict:
    """Give a reserved number to an instance: it becomes that instance's 文号."""
    with core.db.write() as conn:
        user = _manager(conn, username)
        prefix, year = _counter_key(prefix, year)
        number = _number(number)
        instance_id = fields.identifier(instance_id, "instance_id", "申请编号")
        try:
            case, _ = kernel.lock(core, conn, instance_id)
        except NotFound:
            raise NotFound("申请不存在") from None
        given = register.assign(conn, prefix, year, number, instance_id, user.id)
        store_doc_no(case, given.text)
        return {"prefix": prefix, "year": year, "number": number, "instance_id": instance_id, "doc_no": given.text}
