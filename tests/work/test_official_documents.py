"""公文 through the REST API as the demo office handles it: 发文 (拟稿 → 核稿 → 会签 → 签发 → 复核 → 编号 → 套红/用印
→ 分发 → 归档), 收文 (签收 → 登记 → 初审 → 拟办 → 批办 → 主办/协办 → 传阅 → 答复 → 归档) and 请示报告, with the 密级
and 紧急程度 rules. Who is who in the demo organisation: 张三 drafts (业务部, leader 孙丽, 分管领导 黄伟), 王芳 leads
办公室, 周文 is its 文书, 郑强 is 机关负责人, 陈静 leads 财务部, 赵磊 法务部, 刘洋 人事部."""

from __future__ import annotations

import io

import pytest
from attachment_files import PDF, docx
from sqlalchemy import func, select

from engine.process.document_marks import SECRECY_REFUSED
from engine.store.tables import instance, work_item
from engine.store.tables_files import attachment
from engine.time import working_days
from engine.time.office_hours import work_calendar

DRAFT = {
    "title": "关于做好国庆节假期值班工作的通知",
    "doc_type": "通知",
    "main_to": "各部门",
    "urgency": "平件",
    "secrecy": "非密",
    "issuer": "示例单位",
    "doc_prefix": "示例办发",
    "supervisor_first": False,
}
PAPER = {  # a letter the 文书 registers by hand
    "title": "关于开展安全生产大检查的通知",
    "from_org": "某市应急管理局",
    "incoming_no": "某应急发〔2026〕8号",
    "doc_date": "2026-09-01",
    "copies": 2,
    "received_date": "2026-09-03",
    "urgency": "加急",
    "secrecy": "非密",
}
REQUEST = {
    "doc_type": "请示",
    "title": "关于购置办公电脑的请示",
    "content": "拟购置电脑 5 台，约 3 万元。",
    "urgency": "平件",
    "secrecy": "非密",
}


class Office:
    """The demo office handling 公文 through the API."""

    def __init__(self, api, core):
        self.api = api
        self.core = core

    def upload(self, user: str, content: bytes, name: str) -> dict:
        data = {"file": (io.BytesIO(content), name)}
        response = self.api(user).post("/api/v1/attachments", data=data, content_type="multipart/form-data")
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def draft(self, user: str = "zhangsan", status: int = 201, **overrides) -> dict:
        """A 发文 drafted by `user` with a 正文 uploaded first; the answer of 发起."""
        body = self.upload(user, docx("国庆值班安排"), "国庆值班通知.docx")
        return self.start("outgoing_document", user, {**DRAFT, "body": body, **overrides}, status)

    def start(self, process: str, user: str, data: dict, status: int = 201) -> dict:
        response = self.api(user).post("/api/v1/instances", json={"process": process, "data": data})
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def detail(self, instance_id: int) -> dict:
        response = self.api("admin").get(f"/api/v1/instances/{instance_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def open_items(self, instance_id: int) -> list[dict]:
        return [w for w in self.detail(instance_id)["work_items"] if w["kind"] == "approve" and w["status"] == "open"]

    def holders(self, instance_id: int) -> dict[str, set[str]]:
        """{node name: usernames holding it open}."""
        found: dict[str, set[str]] = {}
        for item in self.open_items(instance_id):
            found.setdefault(item["node_name"], set()).add(item["assignee"])
        return found

    def submit(self, user: str, instance_id: int, data=None, *, opinion="同意", decision="approve", status=200):
        mine = [w for w in self.open_items(instance_id) if w["assignee"] == user]
        assert len(mine) == 1, f"{user} should hold one open item of {instance_id}: {self.holders(instance_id)}"
        body = {"decision": decision, "data": data or {}}
        if opinion is not None:
            body["opinion"] = opinion
        response = self.api(user).post(f"/api/v1/work-items/{mine[0]['id']}/complete", json=body)
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def started_by(self, process: str) -> list[dict]:
        with self.core.db.read() as conn:
            ids = conn.execute(select(instance.c.id).where(instance.c.process_key == process).order_by(instance.c.id))
            return [self.detail(row.id) for row in ids]

    def counts(self) -> tuple[int, int]:
        with self.core.db.read() as conn:
            return (
                conn.execute(select(func.count()).select_from(instance)).scalar(),
                conn.execute(select(func.count()).select_from(work_item)).scalar(),
            )


@pytest.fixture
def office(api, core) -> Office:
    return Office(api, core)


def history_text(detail: dict) -> str:
    return "\n".join(event["message"] or "" for event in detail["history"])


# --- 发文 --------------------------------------------------------------------------------------------------


def sign_off(office: Office, doc: int) -> None:
    """From 签发 to the end of 复核 without changes: 郑强 signs, 王芳 finds no substantive change."""
    office.submit("zhengqiang", doc, opinion="同意印发")
    office.submit("wangfang", doc, {"recheck_result": "无实质性修改"}, opinion="已复核")


def test_outgoing_document_walks_every_step_to_its_archive(office):
    schedule = office.upload("zhangsan", PDF, "值班表.pdf")
    doc = office.draft(
        countersign_depts=["财务部", "法务部"],
        supervisor_first=True,
        distribute_to=["业务部", "人事部"],
        attachments=[schedule],
    )["id"]
    assert office.detail(doc)["title"] == "发文：关于做好国庆节假期值班工作的通知"
    assert office.detail(doc)["doc_no"] is None  # a draft never has a number
    assert office.holders(doc) == {"部门核稿": {"sunli"}}
    office.submit("sunli", doc, opinion="核稿无误")
    assert office.holders(doc) == {"办公室核稿": {"wangfang"}}
    office.submit("wangfang", doc, opinion="文字已规范")

    # 会签: the two departments picked on the draft, in parallel; opinions only, no veto.
    assert office.holders(doc) == {"会签": {"chenjing", "zhaolei"}}
    office.submit("chenjing", doc, decision="reject", opinion="不同意", status=409)
    office.submit("chenjing", doc, opinion="财务部无意见")
    assert office.holders(doc) == {"会签": {"zhaolei"}}
    office.submit("zhaolei", doc, opinion="建议补充值班补贴条款")

    # 分管领导 first, as the draft asked, then the 机关负责人 signs.
    assert office.holders(doc) == {"分管领导审核": {"huangwei"}}
    office.submit("huangwei", doc, opinion="同意，报郑总签发")
    assert office.holders(doc) == {"签发": {"zhengqiang"}}
    office.submit("zhengqiang", doc, opinion="同意印发")

    # 复核 finds a substantive change: back to the signer with the reason; the 正文 is final until then.
    assert office.holders(doc) == {"复核": {"wangfang"}}
    office.submit("wangfang", doc, {"recheck_result": "有实质性修改，退回签发人"}, opinion=None, status=422)
    office.submit("wangfang", doc, {"recheck_result": "有实质性修改，退回签发人"}, opinion="第三条值班时间已改")
    assert office.holders(doc) == {"签发": {"zhengqiang"}}
    assert "第三条值班时间已改" in [w["opinion"] for w in office.detail(doc)["work_items"]]
    # Back at 签发, the signer may sign a revised 正文: its second version.
    revised = office.upload("zhengqiang", docx("国庆值班安排（修改）"), "国庆值班通知（签发稿）.docx")
    office.submit("zhengqiang", doc, {"body": revised}, opinion="同意修改后印发")
    assert office.detail(doc)["data"]["body"]["name"] == "国庆值班通知（签发稿）.docx"
    office.submit("wangfang", doc, {"recheck_result": "无实质性修改"}, opinion="已复核")
    assert office.detail(doc)["doc_no"] is None  # signed, not yet numbered

    assert office.holders(doc) == {"编号": {"zhouwen"}}
    office.submit("zhouwen", doc, {"doc_date": "2026-09-20"}, opinion="已编号")
    assert office.detail(doc)["doc_no"] == "示例办发〔2026〕1号"
    assert office.holders(doc) == {"套红/用印": {"zhouwen"}}
    office.submit("zhouwen", doc, {"seal": "单位公章", "print_copies": 20}, opinion="已套红用印")

    # 分发: each unit picked on the draft has a 收文 with the 正文 and the attachments, at its leader for 签收.
    issued = office.detail(doc)["data"]
    received = office.started_by("incoming_document")
    assert [r["data"]["receiving_dept"] for r in received] == ["业务部", "人事部"]
    for letter, leader in zip(received, ["sunli", "liuyang"], strict=True):
        assert letter["title"] == "收文：关于做好国庆节假期值班工作的通知"
        assert letter["data"]["from_org"] == "示例单位"
        assert letter["data"]["incoming_no"] == "示例办发〔2026〕1号"
        assert letter["data"]["doc_date"] == "2026-09-20"
        assert letter["initiator"] == "zhouwen"  # 收文's process administrator: the 文书
        assert office.holders(letter["id"]) == {"签收": {leader}}
        body = letter["data"]["body"]
        assert (body["name"], body["sha256"]) == (issued["body"]["name"], issued["body"]["sha256"])  # the signed one
        assert [a["sha256"] for a in letter["data"]["attachments"]] == [schedule["sha256"]]
    # 刘洋 took no part in the 发文: he reads his unit's copy of the 正文, not the 发文's own.
    copy = received[1]["data"]["body"]["id"]
    assert office.api("liuyang").get(f"/api/v1/attachments/{copy}").data == docx("国庆值班安排（修改）")
    assert office.api("liuyang").get(f"/api/v1/attachments/{issued['body']['id']}").status_code == 404
    assert "发出消息“公文分发”，已启动“收文：关于做好国庆节假期值班工作的通知”" in history_text(office.detail(doc))

    assert office.holders(doc) == {"归档": {"zhouwen"}}
    office.submit("zhouwen", doc, opinion="已归档")
    final = office.detail(doc)
    assert final["status"] == "approved"
    done = [w["node_name"] for w in final["work_items"] if w["status"] == "done"]
    assert done.count("签发") == 2 and done.count("复核") == 2 and done.count("会签") == 2


def test_outgoing_document_skips_countersign_and_supervisor_when_not_asked(office):
    first = office.draft("lisi")["id"]
    doc = office.draft("lisi")["id"]
    office.submit("sunli", doc)
    office.submit("wangfang", doc)
    assert office.holders(doc) == {"签发": {"zhengqiang"}}
    assert "按规则找不到审批人，按节点设置跳过" in history_text(office.detail(doc))
    sign_off(office, doc)
    office.submit("zhouwen", doc, {"doc_date": "2026-09-21"})
    assert office.detail(doc)["doc_no"] == "示例办发〔2026〕1号"  # numbered first, though drafted second
    office.submit("zhouwen", doc, {"seal": "办公室印章", "print_copies": 5})
    assert office.started_by("incoming_document") == []  # nowhere to distribute: no 收文
    assert "发出消息" not in history_text(office.detail(doc))
    office.submit("zhouwen", doc)
    assert office.detail(doc)["status"] == "approved"
    for user in ("sunli", "wangfang"):
        office.submit(user, first)
    sign_off(office, first)
    office.submit("zhouwen", first, {"doc_date": "2026-09-22"})
    assert office.detail(first)["doc_no"] == "示例办发〔2026〕2号"


def test_a_draft_sent_back_at_dept_review_returns_to_its_drafter(office):
    doc = office.draft()["id"]
    office.submit("sunli", doc, decision="reject", opinion="标题不规范")
    assert office.holders(doc) == {"发起人修改后重新提交": {"zhangsan"}}


# --- 收文 --------------------------------------------------------------------------------------------------


def test_incoming_document_by_hand_is_handled_in_parallel_and_archived(office):
    scan = office.upload("zhouwen", PDF, "安全生产大检查通知（扫描件）.pdf")
    letter = office.start("incoming_document", "zhouwen", {**PAPER, "body": scan})["id"]
    detail = office.detail(letter)
    assert detail["data"]["body"]["name"] == "安全生产大检查通知（扫描件）.pdf"
    assert detail["priority"] == "重要"  # 加急
    # Registered by hand: 签收 and 登记 were the 文书's own, 初审 is next; the 流转记录 says so in its words.
    assert office.holders(letter) == {"初审": {"wangfang"}}
    history = history_text(office.detail(letter))
    assert "手工登记的来文已由文书收取，无需接收单位签收" in history
    assert "来文已在发起时登记，无需再登记" in history
    assert "按规则找不到审批人" not in history
    office.submit("wangfang", letter, {"check_result": "符合要求"}, opinion="请郑总批示")
    assert office.holders(letter) == {"拟办": {"wangfang"}}
    office.submit("wangfang", letter, opinion="拟请业务部主办，财务部、法务部协办")
    assert office.holders(letter) == {"批办": {"zhengqiang"}}
    instruction = {"lead_dept": "业务部", "assist_depts": ["财务部", "法务部"]}
    office.submit("zhengqiang", letter, instruction, opinion="按拟办意见办")

    assert office.holders(letter) == {"主办": {"sunli"}, "协办": {"chenjing", "zhaolei"}}
    office.submit("chenjing", letter, opinion="财务部配合")
    office.submit("sunli", letter, {"handling": "已组织自查，形成报告"})
    assert office.holders(letter) == {"协办": {"zhaolei"}}  # 传阅 waits for every 协办 too
    office.submit("zhaolei", letter, opinion="法务部配合")

    # 传阅: 王芳 circulates it to two leaders and moves on; 归档 waits until both have read it.
    assert office.holders(letter) == {"传阅": {"wangfang"}}
    readers = {"users": ["zhengqiang", "huangwei"], "message": "请阅示"}
    response = office.api("wangfang").post(f"/api/v1/instances/{letter}/circulate", json=readers)
    assert response.status_code == 200, response.get_json()
    office.submit("wangfang", letter, opinion="已传阅")
    assert office.holders(letter) == {"答复": {"sunli"}}
    office.submit("sunli", letter, {"reply_text": "自查报告已报市应急管理局"})
    assert office.holders(letter) == {"归档": {"zhouwen"}}
    refused = office.submit("zhouwen", letter, opinion="已归档", status=409)
    assert "郑强" in refused["error"] and "黄伟" in refused["error"]
    circulation = {r["username"]: r for r in office.detail(letter)["circulation"]}
    office.api("zhengqiang").post(
        f"/api/v1/work-items/{circulation['zhengqiang']['item_id']}/read", json={"comment": "抓紧落实"}
    )
    office.api("huangwei").post(f"/api/v1/work-items/{circulation['huangwei']['item_id']}/read", json={})
    states = {r["username"]: (r["state"], r["comment"]) for r in office.detail(letter)["circulation"]}
    assert states == {"zhengqiang": ("commented", "抓紧落实"), "huangwei": ("read", None)}
    office.submit("zhouwen", letter, opinion="已归档")
    assert office.detail(letter)["status"] == "approved"


def test_a_letter_registered_by_hand_needs_copies_and_date(office):
    paper = {**PAPER, "copies": None, "received_date": None}
    response = office.start("incoming_document", "zhouwen", paper, status=422)
    assert {e["field"] for e in response["errors"]} == {"copies", "received_date"}


def test_returning_a_letter_to_its_sender_ends_it(office):
    letter = office.start("incoming_document", "zhouwen", PAPER)["id"]
    office.submit("wangfang", letter, {"check_result": "退回来文单位"}, opinion=None, status=422)  # the reason
    office.submit("wangfang", letter, {"check_result": "退回来文单位"}, opinion="非本单位主管事项")
    detail = office.detail(letter)
    assert detail["status"] == "rejected" and detail["status_label"] == "不通过"
    assert "流程结束：不通过（已退回来文单位）" in history_text(detail)
    assert office.open_items(letter) == []


def test_a_distributed_letter_is_signed_for_and_registered_by_its_unit(office):
    doc = office.draft(distribute_to=["财务部"], urgency="特急")["id"]
    office.submit("sunli", doc)
    office.submit("wangfang", doc)
    sign_off(office, doc)
    office.submit("zhouwen", doc, {"doc_date": "2026-09-22"})
    office.submit("zhouwen", doc, {"seal": "单位公章", "print_copies": 3})
    (letter,) = office.started_by("incoming_document")
    assert letter["priority"] == "紧急"  # 特急 travels with the letter
    office.submit("chenjing", letter["id"], opinion="已签收")
    assert office.holders(letter["id"]) == {"登记": {"chenjing"}}
    office.submit("chenjing", letter["id"], {"copies": 1, "received_date": "2026-09-22", "urgency": "平件"})
    assert office.detail(letter["id"])["priority"] == "正常"  # 登记 corrected the 紧急程度
    assert office.holders(letter["id"]) == {"初审": {"wangfang"}}


# --- 请示报告 --------------------------------------------------------------------------------------------------


def cc_readers(office: Office, instance_id: int) -> set[str]:
    return {w["assignee"] for w in office.detail(instance_id)["work_items"] if w["kind"] == "cc"}


@pytest.mark.parametrize(
    ("reply", "status", "end"), [("同意", "approved", "批复同意"), ("不同意", "rejected", "批复不同意")]
)
def test_a_request_gets_a_reply_and_its_department_is_told(office, reply, status, end):
    request = office.start("request_report", "zhangsan", REQUEST)["id"]
    assert office.detail(request)["title"] == "请示：关于购置办公电脑的请示"
    office.submit("sunli", request, opinion="同意上报")
    assert office.holders(request) == {"领导批复": {"huangwei"}}
    office.submit("huangwei", request, {"reply": reply}, opinion=None, status=422)  # a 批示 is required
    office.submit("huangwei", request, {"reply": reply}, opinion="请按程序采购" if reply == "同意" else "今年预算已满")
    detail = office.detail(request)
    assert detail["status"] == status and detail["data"]["reply"] == reply
    assert cc_readers(office, request) == {"zhangsan", "sunli"}  # 知会拟稿部门
    if status == "rejected":
        assert f"流程结束：不通过（{end}）" in history_text(detail)


def test_a_report_is_read_and_commented_without_a_decision(office):
    report = {**REQUEST, "doc_type": "报告", "title": "三季度工作报告"}
    report = office.start("request_report", "zhangsan", report)["id"]
    office.submit("sunli", report)
    assert office.holders(report) == {"领导阅知": {"huangwei", "zhengqiang"}}
    office.submit("huangwei", report, decision="reject", opinion="不同意", status=409)  # no decision to take
    office.submit("huangwei", report, opinion="已阅，四季度注意回款")
    office.submit("zhengqiang", report, opinion=None)  # reading without a comment is fine
    detail = office.detail(report)
    assert detail["status"] == "approved" and "reply" not in detail["data"]
    assert {(w["assignee"], w["opinion"]) for w in detail["work_items"] if w["node_name"] == "领导阅知"} == {
        ("huangwei", "已阅，四季度注意回款"),
        ("zhengqiang", ""),
    }


# --- 密级 and 紧急程度 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["秘密", "机密", "绝密"])
def test_a_classified_draft_is_refused_and_nothing_is_stored(office, level):
    body = office.upload("zhangsan", docx("保密检查"), "保密检查通知.docx")
    before = office.counts()
    data = {**DRAFT, "secrecy": level, "body": body}
    response = office.start("outgoing_document", "zhangsan", data, status=422)
    assert response["errors"] == [{"field": "secrecy", "message": SECRECY_REFUSED}]
    assert office.counts() == before
    with office.core.db.read() as conn:  # the 正文 stays the drafter's unbound upload
        assert conn.execute(select(attachment.c.instance_id).where(attachment.c.id == body["id"])).scalar() is None


def test_secrecy_is_checked_at_every_submission_and_by_message(office, api):
    # A paper letter for 财务部, registered by hand: its leader signs for it and registers it.
    letter = office.start("incoming_document", "zhouwen", {**PAPER, "receiving_dept": "财务部"})["id"]
    office.submit("chenjing", letter)
    before = office.counts()
    registered = {"copies": 1, "received_date": "2026-09-22", "secrecy": "机密★10年"}
    response = office.submit("chenjing", letter, registered, status=422)
    assert response["errors"] == [{"field": "secrecy", "message": SECRECY_REFUSED}]
    assert office.counts() == before and office.holders(letter) == {"登记": {"chenjing"}}

    payload = {**PAPER, "secrecy": "绝密", "receiving_dept": "业务部"}
    response = api("admin").post("/api/v1/messages", json={"name": "公文分发", "payload": payload})
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "secrecy"
    assert office.counts() == before


@pytest.mark.parametrize(("urgency", "priority"), [("特急", "紧急"), ("加急", "重要"), ("平件", "正常")])
def test_urgency_sets_the_priority_and_the_due_dates(office, core, urgency, priority):
    doc = office.draft(urgency=urgency)["id"]
    assert office.detail(doc)["priority"] == priority
    with core.db.read() as conn:
        item = conn.execute(select(work_item).where(work_item.c.instance_id == doc)).one()
        expected = working_days.deadline(work_calendar(conn), item.created_at, priority)
    assert item.due_at == expected.due_at
    assert expected.rule.startswith(f"{ {'紧急': 1, '重要': 2, '正常': 3}[priority] } 个工作日")


def test_an_explicit_priority_gives_way_to_the_urgency_field(office, api):
    body = {"process": "request_report", "data": {**REQUEST, "urgency": "特急"}, "priority": "正常"}
    response = api("zhangsan").post("/api/v1/instances", json=body)
    assert response.status_code == 201
    assert office.detail(response.get_json()["id"])["priority"] == "紧急"
