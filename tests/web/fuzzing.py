"""What the fuzz tests share: the budget (bounded in CI, OAFLOW_FUZZ_EXAMPLES to run longer locally), a
per-request time limit (a hang fails the test instead of stalling the suite), the hostile values, and the tally
of requests tried and server errors seen (printed at the end of the session: `pytest -s tests/web -k fuzz`)."""

from __future__ import annotations

import atexit
import json
import os
import re
import signal
import time
from collections import Counter
from contextlib import contextmanager

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("OAFLOW_FUZZ_EXAMPLES", "20"))
REQUEST_SECONDS = float(os.environ.get("OAFLOW_FUZZ_REQUEST_SECONDS", "10"))
TALLY: Counter = Counter()


@atexit.register
def _write_tally() -> None:
    """OAFLOW_FUZZ_TALLY=path: each test process appends its figures (requests, 5xx, seconds) as a JSON line."""
    if os.environ.get("OAFLOW_FUZZ_TALLY") and TALLY:
        with open(os.environ["OAFLOW_FUZZ_TALLY"], "a") as out:
            out.write(json.dumps(dict(TALLY)) + "\n")


# Derandomized: a failure in CI comes back the same on every run (and on a developer's machine).
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # the per-request limit below is the hang check; hypothesis' deadline would flake
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one app per test; the examples share it on purpose
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: float = REQUEST_SECONDS):
    """Fail a request that takes longer than `seconds` (SIGALRM: the test runs in the main thread)."""

    def _expired(_signum, _frame):
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        TALLY["seconds"] += time.monotonic() - started


def check_answer(response, where) -> None:
    """The fuzz tests' oracle: no 5xx, and on the API an error is JSON."""
    TALLY["requests"] += 1
    if response.status_code >= 500:
        TALLY["5xx"] += 1
    assert response.status_code < 500, (where, response.status_code, response.get_data(as_text=True)[:500])
    if response.status_code >= 400:
        assert response.is_json, (where, response.status_code, response.content_type)


# --- hostile values -----------------------------------------------------------------------------------------

SPECIAL_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "长" * 201,
    "长" * 501,
    "长" * 2001,
    "x" * 70_000,
    "'; DROP TABLE instance; --",
    "${7*7}",
    "__import__('os').system('id')",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "2026-02-30",
    "9999-12-31",
    "0000-01-01",
    "R/PT0S",
    "user:admin",
    "lisi",
    "admin",
    "leave",
    "approve",
    "reject",
    "after",
    "day28",
    "Asia/Shanghai",
    "%s%n",
    "\u202e",
    "１２３",
]
SPECIAL_NUMBERS = [0, -1, 1, 2, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30, 1.5, -0.0, 1e308]

text = st.one_of(st.sampled_from(SPECIAL_TEXT), st.text(max_size=20))
number = st.one_of(st.sampled_from(SPECIAL_NUMBERS), st.integers(), st.floats(allow_nan=True, allow_infinity=True))
scalar = st.one_of(st.none(), st.booleans(), number, text)
value = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=12,
)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# Whole bodies that are not what any endpoint wants.
RAW_BODIES = [
    b"",
    b"[1]",
    b'"x"',
    b"1",
    b"null",
    b"true",
    b"{",
    b"[" * 50_000,
    b'{"a":' * 50_000,
    nested(33).encode(),
    b'{"a": NaN}',
    b'{"a": -Infinity}',
    b"\xff\xfe",
    b'{"a": "\\ud800"}',
    b'{"\\u0000": 1}',
    b'{"a": 1e999}',
    b'{"a": 123456789012345678901234567890}',
]


def dump(body) -> bytes:
    """JSON as an attacker sends it: NaN/Infinity literals and \\ud800 escapes allowed."""
    return json.dumps(body, allow_nan=True).encode()


# --- the OpenAPI document's request bodies ------------------------------------------------------------------

_PARAM = re.compile(r"<(?:[^:>]+:)?[^>]+>|\{[^}]+\}")


def shape(path: str) -> str:
    """/api/v1/instances/<int:instance_id>/cc and /instances/{id}/cc → /instances/{}/cc"""
    return _PARAM.sub("{}", path.removeprefix("/api/v1"))


def body_schemas(document: dict) -> dict[tuple[str, str], dict]:
    """(METHOD, shape) → the JSON request body's schema (properties, required)."""
    found = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {}) if isinstance(operation, dict) else {}
            if "application/json" in content:
                found[(method.upper(), shape(path))] = content["application/json"].get("schema") or {}
    return found


def plausible(schema: dict):
    """A value of the schema's type that an honest client might send (the start of a mutation)."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {name: plausible(prop) for name, prop in schema.get("properties", {}).items()}
    if kind == "array":
        return [plausible(schema.get("items", {}))] if schema.get("items") else []
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if schema.get("format") == "date":
        return "2026-12-01"
    return "lisi" if kind == "string" else None


@st.composite
def mutated_body(draw, schema: dict) -> bytes:
    """An honest body with one to three of its fields (or unknown ones) replaced, dropped or nested; or a
    body that is not an object at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(RAW_BODIES))
    body = plausible(schema) if schema.get("type") == "object" else {}
    names = sorted(set(body) | {"data", "payload", "opinion", "users", "ids"})
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.one_of(st.sampled_from(names), text))
        if draw(st.booleans()) and name in body:
            body.pop(name)
        else:
            body[name] = draw(value)
    return dump(body)
