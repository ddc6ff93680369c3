"""JSON answers are written by orjson (webapp/json_provider.py): byte for byte what Flask's own provider
writes, for every kind of value a view hands it."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import uuid

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from webapp.json_provider import OrjsonProvider


@dataclasses.dataclass
class _Row:
    name: str
    days: int


VALUES = [
    {"标题": "请假申请：张三", "天数": 2.5, "ok": True, "none": None, "list": [1, "二", {"三": 3}]},
    {"when": datetime.datetime(2026, 12, 5, 8, 30, tzinfo=datetime.timezone.utc), "day": datetime.date(2026, 12, 5)},
    {"amount": decimal.Decimal("1234.50"), "id": uuid.UUID(int=7), "row": _Row("年假", 5)},
    {1: "an integer key", "z": 1, "a": 2},  # keys keep their order
    {"ids": [2**70]},  # past 64 bits: Flask's provider writes it
]


def _providers():
    app = Flask(__name__)
    flask_json = DefaultJSONProvider(app)
    flask_json.ensure_ascii = False
    flask_json.sort_keys = False
    return app, OrjsonProvider(app), flask_json


def test_answers_are_what_flask_would_write():
    app, ours, flask_json = _providers()
    with app.app_context():
        for value in VALUES:
            assert ours.response(value).get_data() == flask_json.response(value).get_data(), value
