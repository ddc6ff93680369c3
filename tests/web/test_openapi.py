"""The OpenAPI document is valid and describes every /api/v1 route the app serves."""

import re

from openapi_spec_validator import validate


def test_openapi_document_is_valid_and_complete(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    documented = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1") :])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((method, path))
    # Path parameter names may differ ({id} vs {instance_id}); compare their shapes.
    shape = lambda pair: (pair[0], re.sub(r"\{\w+\}", "{}", pair[1]))  # noqa: E731
    assert {shape(p) for p in served} - {shape(p) for p in documented} == set()
