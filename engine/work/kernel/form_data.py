"""Form data as a command saves it: checked against its form, user fields against the directory, and the
computed fields (`x-computed`) worked out on the working calendar. 发起, 重新提交 and a decision's form all
save form data through `check`, so the server's computed value is the only one routing ever sees — and a
classified 密级 (`x-secrecy`) is refused before anything is stored. `priority` is where a form's 紧急程度
(`x-urgency`) becomes the instance's priority."""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Connection

from engine.org import users
from engine.process import document_marks, forms
from engine.time import working_days
from engine.time.office_hours import work_calendar


class CalendarEnv:
    """The working calendar as the computed-field catalogue asks for it (read on first use only)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self._calendar = None

    def working_days(self, start: date, end: date, *, start_afternoon: bool, end_morning: bool) -> float:
        if self._calendar is None:
            self._calendar = work_calendar(self.conn)
        return working_days.count_working_days(
            self._calendar, start, end, start_afternoon=start_afternoon, end_morning=end_morning
        )


def check(conn: Connection, schema: dict, data) -> dict:
    """The cleaned data to save, computed fields filled in; InvalidData naming each bad field."""
    return forms.validate(
        schema, data, user_exists=lambda name: users.find_user(conn, name) is not None, env=CalendarEnv(conn)
    )


def priority(schema: dict, cleaned: dict, current: str) -> str:
    """The instance's priority once this form's data is saved: what its 紧急程度 field (`x-urgency`) maps
    to (特急/加急/平件 → 紧急/重要/正常), else `current` unchanged."""
    return document_marks.priority_of(schema, cleaned) or current


def preview(conn: Connection, schema: dict, data) -> dict:
    """What the computed fields would be for this (perhaps half-filled) form, without saving anything:
    {"values": {field: value or None}, "errors": [{field, message}]} (errors about those fields only)."""
    values, errors = forms.computed_values(schema, data, CalendarEnv(conn))
    return {"values": values, "errors": [e.as_dict() for e in errors]}
