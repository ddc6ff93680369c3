"""传阅 on the engine API: readers and their states (未读 / 已读 / 已批示), departments, no duplicates, recalling
the unread only, 阅毕方可办结 (require_read), who may circulate, who then sees the application, and the
readers' items closing when the application ends."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from support import DATA

from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.org import users
from engine.process import definitions
from engine.store.tables import notification, user_account
from engine.work import circulation, decisions, initiate, retraction
from engine.work.views import detail as details
from engine.work.views import worklist


@pytest.fixture
def doc(core) -> int:
    """A 收文 registered by 周文 (文书), at 批办 with 郑强 (总经理)."""
    with core.db.write() as conn:
        definitions.deploy(
            conn,
            {name: (DATA / name).read_bytes() for name in ("circulation_form.json", "circulation_flow.bpmn")},
            None,
        )
    return initiate.start(core, "zhouwen", "circulation_flow", {"subject": "关于做好防汛工作的通知"})["id"]


def user(core, username: str) -> users.User:
    with core.db.read() as conn:
        return users.find_user(conn, username)


def readers(core, instance_id: int, as_user: str = "admin") -> list[tuple]:
    found = details.get_instance(core, user(core, as_user), instance_id)["circulation"]
    return [(r["username"], r["state"], r["comment"]) for r in found]


def read_item(core, username: str, instance_id: int) -> int:
    listed = worklist.work_items(core, user(core, username), "read")["items"]
    (item,) = [i for i in listed if i["instance_id"] == instance_id and i["status"] == "open"]
    return item["id"]


def open_item(core, username: str, instance_id: int) -> int:
    listed = worklist.work_items(core, user(core, username), "todo")["items"]
    (item,) = [i for i in listed if i["instance_id"] == instance_id]
    return item["id"]


def test_readers_go_from_unread_to_read_to_commented(core, doc):
    result = circulation.circulate(core, "zhengqiang", doc, ["wangfang", "liuyang"], message="请阅示")
    assert result["added"] == ["wangfang", "liuyang"]
    assert readers(core, doc) == [("wangfang", "unread", None), ("liuyang", "unread", None)]
    entry = result["circulation"][0]
    assert (entry["name"], entry["department"], entry["circulated_by"]) == ("王芳", "办公室", "zhengqiang")
    assert entry["read_at"] is None and entry["circulated_at"]

    # The readers are told, and find the document in 待阅 with an unread badge.
    with core.db.read() as conn:
        told = conn.execute(
            select(user_account.c.username, notification.c.title)
            .join(user_account, user_account.c.id == notification.c.user_id)
            .where(notification.c.kind == "read")
            .order_by(notification.c.id)
        ).all()
    assert [tuple(t) for t in told] == [
        ("wangfang", "请阅：收文：关于做好防汛工作的通知"),
        ("liuyang", "请阅：收文：关于做好防汛工作的通知"),
    ]
    assert worklist.item_counts(core, user(core, "wangfang"))["read"] == 1

    circulation.read(core, "wangfang", read_item(core, "wangfang", doc))
    assert (
        circulation.read(core, "liuyang", read_item(core, "liuyang", doc), "同意，请人事部配合")["state"] == "commented"
    )
    assert readers(core, doc) == [("wangfang", "read", None), ("liuyang", "commented", "同意，请人事部配合")]
    assert worklist.item_counts(core, user(core, "wangfang"))["read"] == 0

    # A reader who has read may add a 批示 later; every one is kept, in order, and shows in the 流转记录.
    listed = worklist.work_items(core, user(core, "wangfang"), "read")["items"]
    assert listed[0]["read_state"] == "read"
    circulation.read(core, "wangfang", listed[0]["id"], "办公室负责督办")
    circulation.read(core, "wangfang", listed[0]["id"], "已布置到位")
    detail = details.get_instance(core, user(core, "zhouwen"), doc)
    wang = detail["circulation"][0]
    assert (wang["state"], wang["comment"]) == ("commented", "已布置到位")
    assert [c["text"] for c in wang["comments"]] == ["办公室负责督办", "已布置到位"]
    events = [(e["label"], e["actor_name"], e["opinion"]) for e in detail["history"] if e["type"] != "started"]
    assert events[:1] == [("传阅", "郑强", None)]
    assert ("批示", "王芳", "已布置到位") in events and ("已阅", "王芳", None) in events


def test_departments_mean_their_members_without_the_circulator_and_without_duplicates(core, doc):
    # 业务部: 孙丽, 张三, 李四; 王芳 is named as well.
    result = circulation.circulate(core, "zhengqiang", doc, ["wangfang"], ["业务部"])
    assert result["added"] == ["wangfang", "sunli", "zhangsan", "lisi"]
    # Again, with someone new: only the new one is added; the unread ones are not sent twice.
    again = circulation.circulate(core, "zhengqiang", doc, ["lisi", "chenjing"], ["业务部"])
    assert again["added"] == ["chenjing"]
    assert [r[0] for r in readers(core, doc)] == ["wangfang", "sunli", "zhangsan", "lisi", "chenjing"]
    # A department with the circulator in it leaves the circulator out (示例单位: 郑强 himself, 吴建, 黄伟).
    third = circulation.circulate(core, "zhengqiang", doc, None, ["示例单位"])
    assert third["added"] == ["wujian", "huangwei"]
    # Someone who has read it may be sent it again: a new, unread entry.
    circulation.read(core, "chenjing", read_item(core, "chenjing", doc))
    assert circulation.circulate(core, "zhengqiang", doc, ["chenjing"])["added"] == ["chenjing"]
    assert [r[1] for r in readers(core, doc) if r[0] == "chenjing"] == ["read", "unread"]


@pytest.mark.parametrize(
    ("people", "departments", "field"),
    [
        (None, None, "users"),
        ([], [], "users"),
        (["nobody"], None, "users"),
        (["zhengqiang"], None, "users"),  # oneself
        (None, ["没有这个部门"], "departments"),
        (None, "业务部x", "departments"),
        (None, [3], "departments"),
    ],
)
def test_bad_readers_are_refused_naming_the_field(core, doc, people, departments, field):
    with pytest.raises(InvalidData) as refused:
        circulation.circulate(core, "zhengqiang", doc, people, departments)
    assert [e.field for e in refused.value.errors] == [field]
    assert readers(core, doc) == []


def test_a_message_too_long_is_refused(core, doc):
    with pytest.raises(InvalidData) as refused:
        circulation.circulate(core, "zhengqiang", doc, ["wangfang"], message="阅" * 201)
    assert [e.field for e in refused.value.errors] == ["message"]


def test_only_unread_readers_can_be_recalled(core, doc):
    circulation.circulate(core, "zhengqiang", doc, ["wangfang", "liuyang", "chenjing"])
    circulation.read(core, "wangfang", read_item(core, "wangfang", doc))
    with pytest.raises(Conflict, match="^王芳已阅，不能撤回传阅$"):
        circulation.recall_readers(core, "zhengqiang", doc, ["liuyang", "wangfang"])
    assert [r[1] for r in readers(core, doc)] == ["read", "unread", "unread"]  # nobody was recalled
    with pytest.raises(InvalidData) as stranger:
        circulation.recall_readers(core, "zhengqiang", doc, ["lisi"])
    assert stranger.value.errors[0].field == "users" and "李四不在传阅名单中" in stranger.value.errors[0].message

    result = circulation.recall_readers(core, "zhengqiang", doc, ["liuyang"])
    assert result["recalled"] == ["liuyang"]
    assert [r["username"] for r in result["circulation"]] == ["wangfang", "chenjing"]
    # The recalled reader's 待阅 is gone and the application is no longer theirs to see.
    assert worklist.item_counts(core, user(core, "liuyang"))["read"] == 0
    with pytest.raises(NotFound):
        details.get_instance(core, user(core, "liuyang"), doc)
    # Only the circulator (or an administrator) recalls.
    with pytest.raises(Forbidden):
        circulation.recall_readers(core, "wangfang", doc, ["chenjing"])
    assert circulation.recall_readers(core, "admin", doc, ["chenjing"])["recalled"] == ["chenjing"]


def test_require_read_refuses_archiving_until_read_or_recalled(core, doc):
    circulation.circulate(core, "zhengqiang", doc, ["liuyang", "chenjing", "zhaolei"])
    decisions.complete(core, "zhengqiang", open_item(core, "zhengqiang", doc), {}, "approve", "请办公室归档")
    archive = open_item(core, "wangfang", doc)
    with pytest.raises(Conflict) as refused:
        decisions.complete(core, "wangfang", archive, {}, "approve", "归档")
    assert refused.value.status == 409
    assert refused.value.message == "还有 3 人未阅：刘洋、陈静、赵磊；请等待阅毕或撤回未读的传阅"

    circulation.read(core, "liuyang", read_item(core, "liuyang", doc))
    circulation.read(core, "chenjing", read_item(core, "chenjing", doc), "阅")
    with pytest.raises(Conflict, match="^还有 1 人未阅：赵磊；"):
        decisions.complete(core, "wangfang", archive, {}, "approve", "归档")
    circulation.recall_readers(core, "zhengqiang", doc, ["zhaolei"])
    assert decisions.complete(core, "wangfang", archive, {}, "approve", "归档")["status"] == "approved"


def test_circulation_does_not_hold_up_other_nodes(core, doc):
    circulation.circulate(core, "zhengqiang", doc, ["liuyang"])
    # 批办 has no require_read: it passes with the reader still unread.
    result = decisions.complete(core, "zhengqiang", open_item(core, "zhengqiang", doc), {}, "approve", "阅")
    assert result["status"] == "running"
    assert readers(core, doc) == [("liuyang", "unread", None)]


def test_who_may_circulate(core, doc):
    # 周文 (the registrar) holds no open item: not a handler.
    with pytest.raises(Forbidden, match="只有当前办理人或管理员可以传阅"):
        circulation.circulate(core, "zhouwen", doc, ["liuyang"])
    # A stranger does not even see the application.
    with pytest.raises(NotFound):
        circulation.circulate(core, "lisi", doc, ["liuyang"])
    assert "circulate" in details.get_instance(core, user(core, "zhengqiang"), doc)["actions"]
    assert "circulate" not in details.get_instance(core, user(core, "zhouwen"), doc)["actions"]
    # At 归档 the node does not allow 传阅 (operations = send_back), though 王芳 holds its item.
    decisions.complete(core, "zhengqiang", open_item(core, "zhengqiang", doc), {}, "approve", "阅")
    with pytest.raises(Forbidden, match="本节点不允许传阅"):
        circulation.circulate(core, "wangfang", doc, ["liuyang"])
    # Administrators may circulate at any time while the application runs.
    assert circulation.circulate(core, "admin", doc, ["liuyang"])["added"] == ["liuyang"]


def test_readers_see_the_application_strangers_do_not(core, doc):
    with pytest.raises(NotFound):
        details.get_instance(core, user(core, "liuyang"), doc)
    circulation.circulate(core, "zhengqiang", doc, ["liuyang"])
    seen = details.get_instance(core, user(core, "liuyang"), doc)
    assert seen["title"] == "收文：关于做好防汛工作的通知"
    assert "circulate" not in seen["actions"] and "recall_readers" not in seen["actions"]
    with pytest.raises(NotFound):
        details.get_instance(core, user(core, "lisi"), doc)
    # A reader cannot read someone else's item; a stranger does not learn it exists.
    item = read_item(core, "liuyang", doc)
    with pytest.raises(Forbidden):
        circulation.read(core, "zhengqiang", item)
    with pytest.raises(NotFound):
        circulation.read(core, "lisi", item)


@pytest.mark.parametrize("ending", ["rejected", "cancelled"])
def test_unread_readers_are_closed_when_the_application_ends(core, doc, ending):
    circulation.circulate(core, "zhengqiang", doc, ["liuyang", "chenjing"])
    circulation.read(core, "chenjing", read_item(core, "chenjing", doc))
    if ending == "rejected":  # 终止: 不同意 at 批办 ends the application as 不通过
        decisions.complete(core, "zhengqiang", open_item(core, "zhengqiang", doc), {}, "reject", "非本单位办理事项")
    else:
        retraction.cancel(core, "zhouwen", doc, "来文单位已撤回")
    assert worklist.item_counts(core, user(core, "liuyang"))["read"] == 0
    liu = worklist.work_items(core, user(core, "liuyang"), "read")["items"]
    assert [(i["status"], i["read_state"]) for i in liu] == [("cancelled", "unread")]
    assert readers(core, doc) == [("liuyang", "unread", None), ("chenjing", "read", None)]
    with pytest.raises(Conflict, match="不能再阅办"):
        circulation.read(core, "liuyang", liu[0]["id"])
    chen = worklist.work_items(core, user(core, "chenjing"), "read")["items"]
    with pytest.raises(Conflict, match="不能再阅办"):
        circulation.read(core, "chenjing", chen[0]["id"], "补一句批示")
    # Their 请阅 messages no longer ask for anything.
    with core.db.read() as conn:
        unread = conn.execute(
            select(notification.c.id).where(notification.c.kind == "read", notification.c.read_at.is_(None))
        ).all()
    assert unread == []
