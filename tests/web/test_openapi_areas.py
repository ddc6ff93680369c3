"""/api/v1/openapi.json describes issue 4's endpoints too (the calendar, 挂起/恢复, messages, statistics)."""

import re


def test_openapi_lists_the_deadline_endpoints(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    modules = ("api_admin_calendar", "api_notifications", "api_reports")
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in modules:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1") :])
        served |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert len(served) == 19
    assert served - documented == set()
    assert "/instances" in document["paths"]  # the shared document is still there
