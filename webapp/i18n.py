"""Interface language: Simplified Chinese by default, English on request (?lang=en, remembered in a
cookie). Templates call `_("中文")`; the English table below translates the interface's own words.
Domain data (process names, node names, opinions) stays as written."""

from __future__ import annotations

from flask import g, request

EN = {
    "协同办公": "Office Automation",
    "待办": "To do",
    "已办": "Done",
    "我发起的": "Started by me",
    "抄送我的": "CC'd to me",
    "发起": "New request",
    "发起申请": "Start request",
    "登录": "Log in",
    "退出": "Log out",
    "用户名": "Username",
    "密码": "Password",
    "提交": "Submit",
    "同意": "Approve",
    "不同意": "Reject",
    "审批意见": "Opinion",
    "流转记录": "History",
    "节点": "Step",
    "办理人": "Handled by",
    "处理结果": "Decision",
    "意见": "Opinion",
    "时间": "Time",
    "状态": "Status",
    "标题": "Title",
    "发起人": "Initiator",
    "当前节点": "Current step",
    "期限": "Due",
    "已超时": "Overdue",
    "即将超时": "Due soon",
    "紧急程度": "Priority",
    "搜索": "Search",
    "暂无数据": "Nothing here",
    "申请详情": "Request",
    "办理": "Handle",
    "查看": "View",
    "上一页": "Previous",
    "下一页": "Next",
    "未读": "Unread",
    "已读": "Read",
    "消息": "Messages",
    "申请内容": "Request details",
    "请选择": "Please choose",
    "可发起的流程": "Processes you can start",
    "审批中": "In progress",
    "已通过": "Approved",
    "不通过": "Rejected",
    "已撤销": "Cancelled",
    "流程图": "Diagram",
    "返回": "Back",
    "共": "Total",
    "条": "items",
    "第": "Page",
    "页": "",
}

LANGS = ("zh", "en")


def current_lang() -> str:
    return g.get("lang", "zh")


def translate(text: str) -> str:
    if current_lang() == "en":
        return EN.get(text, text)
    return text


def init_app(app) -> None:
    @app.before_request
    def _pick_language():
        lang = request.args.get("lang") or request.cookies.get("lang") or "zh"
        g.lang = lang if lang in LANGS else "zh"

    @app.after_request
    def _remember_language(response):
        lang = request.args.get("lang")
        if lang in LANGS:
            response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax")
        return response

    app.jinja_env.globals["_"] = translate
    app.jinja_env.globals["current_lang"] = current_lang
