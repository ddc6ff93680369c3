"""The JSON API's routes as the tests that hammer them see them: every /api/v1 rule of the app's URL map, with
its path filled for one running 请假 (so a new route is covered without a list to keep up to date)."""

from __future__ import annotations

from dataclasses import dataclass

from support import LEAVE

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Target:
    """A running 请假 of zhangsan's: its id, its open work item and who holds it."""

    instance_id: int
    item_id: int
    holder: str


def api_rules(app) -> list[tuple[str, object]]:
    """(method, rule) for every /api/v1 route, sorted so a failure names the same route every run."""
    pairs = [
        (method, rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    return sorted(pairs, key=lambda pair: (pair[1].rule, pair[0]))


def write_rules(app) -> list[tuple[str, object]]:
    return [(method, rule) for method, rule in api_rules(app) if method in WRITES]


def start_leave(api) -> Target:
    response = api("zhangsan").post("/api/v1/instances", json={"process": "leave", "data": LEAVE})
    assert response.status_code == 201, response.get_json()
    instance_id = response.get_json()["id"]
    detail = api("admin").get(f"/api/v1/instances/{instance_id}").get_json()
    item = next(w for w in detail["work_items"] if w["status"] == "open")
    return Target(instance_id, item["id"], item["assignee"])


def fill(rule, target: Target, **overrides) -> str:
    """The rule's path for the target: its instance, its work item, the leave process, version 1."""
    values = {
        "instance_id": target.instance_id,
        "item_id": target.item_id,
        "key": "leave",
        "version": 1,
        "day": "2026-10-08",
        "element": "external",
        "notification_id": 1,
        "delegation_id": 1,
        "phrase_id": 1,
        "prefix": "示例办发",
        "year": 2026,
        "name": "人事部",  # a department (组织与用户)
        "username": "liuyang",  # an account none of the fuzzing callers signs in as: resetting its password is harmless
        **overrides,
    }
    return rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]


def caller_for(rule, target: Target) -> str:
    """Who may act on the route: the item's holder for a work-item route, else the administrator."""
    return target.holder if "item_id" in rule.arguments else "admin"
