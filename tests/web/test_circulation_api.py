"""传阅 over REST: the contract of /instances/{id}/circulate, /circulate/recall, /work-items/{id}/read and
box=read, its 422s and 409s naming the fields and the people, and the instance's `circulation`."""

from __future__ import annotations

import pytest

FILES = ("circulation_form.json", "circulation_flow.bpmn")


@pytest.fixture
def doc(ops) -> int:
    ops.deploy(*FILES)
    return ops.start("circulation_flow", user="zhouwen", subject="关于做好防汛工作的通知")


def read_item(ops, user: str, instance_id: int) -> int:
    listed = ops.api(user).get("/api/v1/work-items?box=read").get_json()["items"]
    (item,) = [i["id"] for i in listed if i["instance_id"] == instance_id and i["status"] == "open"]
    return item


def test_circulate_read_comment_and_the_instance_carries_the_list(ops, doc):
    result = ops.do("zhengqiang", f"/instances/{doc}/circulate", {"users": ["wangfang"], "departments": ["人事部"]})
    assert result["added"] == ["wangfang", "liuyang"]
    entry = result["circulation"][0]
    assert set(entry) >= {
        "username",
        "name",
        "department",
        "state",
        "comment",
        "read_at",
        "circulated_by",
        "circulated_at",
    }
    assert (entry["username"], entry["name"], entry["department"], entry["state"]) == (
        "wangfang",
        "王芳",
        "办公室",
        "unread",
    )

    box = ops.api("liuyang").get("/api/v1/work-items?box=read").get_json()
    assert box["total"] == 1 and box["items"][0]["read_state"] == "unread"
    assert ops.api("liuyang").get("/api/v1/me").get_json()["counts"]["read"] == 1

    item = read_item(ops, "liuyang", doc)
    assert ops.do("liuyang", f"/work-items/{item}/read", {"comment": "请人事部配合"})["state"] == "commented"
    assert ops.do("wangfang", f"/work-items/{read_item(ops, 'wangfang', doc)}/read")["state"] == "read"
    circulation = ops.detail(doc, "zhouwen")["circulation"]
    assert [(r["username"], r["state"], r["comment"]) for r in circulation] == [
        ("wangfang", "read", None),
        ("liuyang", "commented", "请人事部配合"),
    ]
    assert circulation[1]["read_at"] is not None
    # The 批示 is in the history (处理单 data) with its reader.
    assert any(e["label"] == "批示" and e["opinion"] == "请人事部配合" for e in ops.history(doc))
    assert ops.notifications("liuyang", "read") == ["请阅：收文：关于做好防汛工作的通知"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "users"),
        ({"users": ["nobody"]}, "users"),
        ({"users": "zhengqiang"}, "users"),
        ({"departments": ["没有这个部门"]}, "departments"),
        ({"departments": {"a": 1}}, "departments"),
        ({"users": ["wangfang"], "message": "阅" * 201}, "message"),
    ],
)
def test_bad_circulation_is_a_422_naming_the_field(ops, doc, body, field):
    ops.field_error("zhengqiang", f"/instances/{doc}/circulate", body, field)


def test_recall_refuses_readers_who_have_read_naming_them(ops, doc):
    ops.do("zhengqiang", f"/instances/{doc}/circulate", {"users": ["wangfang", "liuyang", "chenjing"]})
    ops.do("wangfang", f"/work-items/{read_item(ops, 'wangfang', doc)}/read")
    ops.do("chenjing", f"/work-items/{read_item(ops, 'chenjing', doc)}/read", {"comment": "阅"})
    ops.refused(
        "zhengqiang",
        f"/instances/{doc}/circulate/recall",
        {"users": ["liuyang", "wangfang", "chenjing"]},
        409,
        "王芳、陈静已阅，不能撤回传阅",
    )
    ops.field_error("zhengqiang", f"/instances/{doc}/circulate/recall", {"users": ["lisi"]}, "users")
    ops.field_error("zhengqiang", f"/instances/{doc}/circulate/recall", {}, "users")
    result = ops.do("zhengqiang", f"/instances/{doc}/circulate/recall", {"users": ["liuyang"]})
    assert [r["username"] for r in result["circulation"]] == ["wangfang", "chenjing"]
    assert any(e["label"] == "撤回传阅" and "刘洋" in e["message"] for e in ops.history(doc))


def test_require_read_is_a_409_naming_the_unread_readers(ops, doc):
    ops.do("zhengqiang", f"/instances/{doc}/circulate", {"users": ["liuyang", "chenjing"]})
    ops.decide("zhengqiang", doc, opinion="请各位阅示后归档")
    archive = ops.mine("wangfang", doc)
    refused = ops.refused(
        "wangfang", f"/work-items/{archive}/complete", {"decision": "approve", "opinion": "归档"}, 409
    )
    assert refused["error"] == "还有 2 人未阅：刘洋、陈静；请等待阅毕或撤回未读的传阅"
    ops.do("liuyang", f"/work-items/{read_item(ops, 'liuyang', doc)}/read")
    ops.do("zhengqiang", f"/instances/{doc}/circulate/recall", {"users": ["chenjing"]})
    assert ops.complete("wangfang", archive, opinion="归档")["status"] == "approved"


def test_who_may_call_what(ops, doc):
    ops.refused("zhouwen", f"/instances/{doc}/circulate", {"users": ["liuyang"]}, 403)
    ops.refused("lisi", f"/instances/{doc}/circulate", {"users": ["liuyang"]}, 404)
    ops.do("zhengqiang", f"/instances/{doc}/circulate", {"users": ["liuyang"]})
    # The reader sees the application, read-only; a stranger does not.
    assert ops.api("liuyang").get(f"/api/v1/instances/{doc}").status_code == 200
    assert ops.api("lisi").get(f"/api/v1/instances/{doc}").status_code == 404
    ops.refused("liuyang", f"/instances/{doc}/circulate/recall", {"users": ["liuyang"]}, 403)
    item = read_item(ops, "liuyang", doc)
    ops.refused("zhouwen", f"/work-items/{item}/read", {}, 403)
    ops.refused("lisi", f"/work-items/{item}/read", {}, 404)
    ops.field_error("liuyang", f"/work-items/{item}/read", {"comment": "批" * 2001}, "comment")
    # A 待阅 item is read, not decided.
    ops.refused("liuyang", f"/work-items/{item}/complete", {"decision": "approve"}, 409)


def test_read_box_is_listed_in_openapi(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    box = next(p for p in document["paths"]["/work-items"]["get"]["parameters"] if p["name"] == "box")
    assert "read" in box["schema"]["enum"]
    for path in ("/instances/{id}/circulate", "/instances/{id}/circulate/recall", "/work-items/{item_id}/read"):
        assert "post" in document["paths"][path]
    assert "circulation" in document["components"]["schemas"]["Instance"]["properties"]
