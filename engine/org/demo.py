"""The demo organisation 示例单位 and its accounts (only `oaflow demo` creates them)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from engine.org import deciders, users

DEMO_PASSWORD = "oaflow-demo"

# (username, name, department, title, roles)
DEMO_USERS = [
    ("wujian", "吴建", "示例单位", "董事长", ("董事长",)),
    ("zhengqiang", "郑强", "示例单位", "总经理", ("总经理", "机关负责人")),
    ("huangwei", "黄伟", "示例单位", "副总经理（分管业务部、财务部、法务部）", ("分管领导",)),
    ("wangfang", "王芳", "办公室", "办公室主任", ()),
    ("zhouwen", "周文", "办公室", "文书", ("文书",)),
    ("liuyang", "刘洋", "人事部", "人事部经理", ()),
    ("chenjing", "陈静", "财务部", "财务部经理", ()),
    ("qianhui", "钱慧", "财务部", "会计", ("会计",)),
    ("fengyan", "冯燕", "财务部", "出纳", ("出纳",)),
    ("zhaolei", "赵磊", "法务部", "法务部经理", ()),
    ("sunli", "孙丽", "业务部", "业务部经理", ()),
    ("zhangsan", "张三", "业务部", "业务员", ()),
    ("lisi", "李四", "业务部", "业务员", ()),
]

# 公文 (docs/official-documents.md): 郑强 signs outgoing documents as 机关负责人 (签发); 黄伟, the 分管领导 of
# 业务部, 财务部 and 法务部, reviews first when a draft asks for it (leader:2 of their staff); 办公室 (王芳) checks
# every draft (核稿) and the 文书 周文 numbers, prints, seals and distributes them; each department's leader
# signs for the documents distributed to it (签收) and handles what it is assigned (主办/协办).

# 费用报销 (docs/budget.md): the department's leader, then 财务审核 by the 会计 钱慧, 黄伟 or the next leader up
# from 5,000 元, 郑强 as 总经理 from 50,000 元, and the 出纳 冯燕 records the payment.

# 董事长: the organisation's top approver (engine.org.deciders), who decides when the applicant is at the top
# of the approval chain (the 总经理's own leave).
TOP_APPROVER = "wujian"

# department: (parent, leader, 分管领导)
DEMO_DEPARTMENTS = {
    "示例单位": (None, "zhengqiang", None),
    "办公室": ("示例单位", "wangfang", None),
    "人事部": ("示例单位", "liuyang", None),
    "财务部": ("示例单位", "chenjing", "huangwei"),
    "法务部": ("示例单位", "zhaolei", "huangwei"),
    "业务部": ("示例单位", "sunli", "huangwei"),
}


def seed(conn: Connection) -> bool:
    """Create the demo organisation once; return False when it already exists."""
    if users.find_user(conn, "admin") is not None:
        return False
    for name, (parent, _leader, _supervisor) in DEMO_DEPARTMENTS.items():
        users.create_department(conn, name, parent)
    ids = {}
    for username, display, dept, title, roles in DEMO_USERS:
        ids[username] = users.create_user(conn, username, display, DEMO_PASSWORD, dept, roles=roles, title=title).id
    users.create_user(conn, "admin", "系统管理员", DEMO_PASSWORD, "办公室", is_admin=True, title="系统管理员")
    for name, (_parent, leader, supervisor) in DEMO_DEPARTMENTS.items():
        users.set_department_leaders(conn, name, ids[leader], ids[supervisor] if supervisor else None)
    deciders.set_top_approver(conn, TOP_APPROVER)
    return True


def set_up(core) -> bool:
    """`oaflow demo`: the demo organisation, once; False when it already exists."""
    with core.db.write() as conn:
        return seed(conn)


def accounts() -> list[tuple[str, str, str]]:
    return [(u, n, t) for u, n, _d, t, _r in DEMO_USERS] + [("admin", "系统管理员", "系统管理员")]
