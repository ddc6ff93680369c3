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
    # pages: lists, forms, details
    "按标题搜索": "Search by title",
    "清除": "Clear",
    "流程": "Process",
    "流程/节点": "Process / step",
    "流程/当前节点": "Process / current step",
    "收到时间": "Received",
    "处理时间": "Handled",
    "发起时间": "Started",
    "抄送时间": "CC'd",
    "结束时间": "Ended",
    "我的处理": "My decision",
    "阅读": "Read?",
    "第 {n} 版": "version {n}",
    "暂无可发起的流程": "There is no process you can start",
    "取消": "Cancel",
    "是": "Yes",
    "否": "No",
    "每行填写一项": "One item per line",
    "没有填写内容": "No data entered",
    "请检查标红的内容后重新提交": "Please correct the fields marked in red and submit again",
    "紧急程度决定每个审批节点的办理期限": "The priority sets the deadline of every approval step",
    "审批": "Decide",
    "不同意时必须填写": "Required when rejecting",
    "查看申请详情与流程图": "Request details and diagram",
    "您有一项待办": "You have a task here",
    "去办理": "Handle it",
    "意见/说明": "Opinion / note",
    "系统": "System",
    "待处理": "Waiting",
    "已完成": "Done",
    "办理中": "In progress",
    "该流程文件没有图形信息（BPMN DI），无法绘制流程图": (
        "This process file carries no diagram interchange (BPMN DI), so no diagram can be drawn"
    ),
    "流程管理": "Processes",
    "紧急": "Urgent",
    "重要": "Important",
    "正常": "Normal",
    "已挂起": "Suspended",
    "异常": "Error",
    # 流转记录 event labels (engine.audit.EVENT_LABELS)
    "流程结束": "Ended",
    "待办分配": "Assigned",
    "跳过": "Skipped",
    "自动通过": "Auto-approved",
    "无审批人": "No approver",
    "知会": "CC",
    "部署": "Deployed",
    # work item states and messages
    "已提交": "Submitted",
    "已同意": "Approved",
    "已不同意": "Rejected",
    "用户名或密码错误": "Wrong username or password",
    "知会，无需审批": "For your information; no decision needed",
    "已处理：同意": "Handled: approved",
    "已处理：不同意": "Handled: rejected",
    "已由他人处理": "Handled by someone else",
    "流程已结束": "The process has ended",
    "这不是您的待办": "This task is assigned to someone else",
    "该申请已结束，无需处理": "This request has ended; nothing to do",
    # error pages
    "请求无效": "Invalid request",
    "无权访问": "Access denied",
    "未找到": "Not found",
    "操作冲突": "Conflict",
    "无法处理": "Cannot process",
    "出错了": "Something went wrong",
    "页面不存在": "Page not found",
    "页面已过期或请求无效，请返回刷新后重试": (
        "The page has expired or the request was invalid. Go back, reload and try again."
    ),
    "返回待办": "Back to my tasks",
    "返回登录": "Back to login",
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
