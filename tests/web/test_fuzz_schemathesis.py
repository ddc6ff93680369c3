"""schemathesis over /api/v1/openapi.json, in process against the Flask WSGI app (no network): every documented
operation with generated parameters and bodies, valid and schema-violating, sent as an ordinary user and as
the administrator. No answer may be a 5xx or take longer than the per-request limit; an error is JSON.

schemathesis' own pytest plugin (`from_fixture`) does not run under pytest 9 yet, so each operation's
hypothesis strategy is driven here directly."""

from __future__ import annotations

import pytest
import schemathesis
from fuzzing import EXAMPLES, FUZZ, TALLY, time_limit
from hypothesis import given, settings
from schemathesis import GenerationMode

from webapp.openapi import openapi_document

OPERATIONS = sorted(
    f"{op.method.upper()} {op.path}"
    for op in (result.ok() for result in schemathesis.openapi.from_dict(openapi_document()).get_all_operations())
)


def _content_type(response) -> str:
    for name, values in response.headers.items():
        if name.lower() == "content-type":
            return values[0] if isinstance(values, list) else values
    return ""


@pytest.mark.parametrize("operation", OPERATIONS)
def test_schemathesis(app, api, operation):
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    method, path = operation.split(" ", 1)
    op = next(r.ok() for r in loaded.get_all_operations() if r.ok().method.upper() == method and r.ok().path == path)
    callers = [api("zhangsan").headers, api("admin").headers]
    cases = op.as_strategy(GenerationMode.POSITIVE) | op.as_strategy(GenerationMode.NEGATIVE)

    @settings(FUZZ, max_examples=EXAMPLES)
    @given(case=cases)
    def one(case):
        for headers in callers:
            with time_limit():
                response = case.call(headers=headers)
            TALLY["requests"] += 1
            TALLY["5xx"] += response.status_code >= 500
            where = (operation, case.path_parameters, case.query, str(case.body)[:300])
            assert response.status_code < 500, (where, response.status_code, response.text[:300])
            if response.status_code >= 400:
                assert "json" in _content_type(response), (where, response.status_code, response.headers)

    one()
