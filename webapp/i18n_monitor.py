"""English for 流程监控, the 日志 and the search pages; merged into i18n.EN."""

EN_MONITOR = {
    "流程监控": "Process monitor",
    "登录日志": "Sign-in log",
    "操作日志": "Operation log",
    "搜索申请": "Search requests",
    "标题/文号/发起人": "Title / doc. no. / applicant",
    "标题或文号的开头，或发起人姓名": "Beginning of a title or doc. no., or an applicant's name",
    "版本": "Version",
    "发起人（用户名）": "Applicant (user name)",
    "当前办理人（用户名）": "Current handler (user name)",
    "当前办理人": "Current handler",
    "发起日期从": "Started from",
    "到": "to",
    "查询": "Search",
    "文号": "Doc. no.",
    "没有符合条件的申请": "No request matches",
    "当前待办": "Open items",
    "等待中": "waiting",
    "转办原因": "Reason for the transfer",
    "没有未办结的待办": "No open items",
    "跳转": "Jump",
    "跳转到": "Jump to",
    "跳转原因": "Reason for the jump",
    "跳到已经过的节点：由原办理人重新办理；跳到后面的节点：途经的节点不经审批直接通过": (
        "Back to a step already passed: its handlers handle it again; ahead: the steps on the way pass "
        "without a decision"
    ),
    "终止": "Terminate",
    "终止原因": "Reason for terminating",
    "终止申请": "Terminate the request",
    "终止后申请结束，不能恢复": "A terminated request ends for good",
    "已终止": "Terminated",
    "管理员跳转": "Jumped by an administrator",
    "管理员终止": "Terminated by an administrator",
    "姓名": "Name",
    "IP 地址": "IP address",
    "方式": "Via",
    "浏览器": "Browser",
    "接口": "API",
    "结果": "Result",
    "成功": "Succeeded",
    "失败": "Failed",
    "导出 Excel": "Export to Excel",
    "没有符合条件的登录记录": "No sign-in matches",
    "登录日志保留天数": "Keep the sign-in log (days)",
    "至少 180 天；每天清理一次超过保留天数的记录。操作日志即流转记录，永久保留。": (
        "At least 180 days; older entries are removed once a day. The operation log is the audit trail and "
        "is kept for good."
    ),
    "操作人": "By",
    "没有符合条件的操作记录": "No action matches",
    "标题和文号按开头匹配，发起人按姓名或用户名包含匹配。": (
        "Titles and doc. numbers match by their beginning, applicants by any part of their name or user name."
    ),
    "只搜索您发起或经手的申请。": "Only requests you started or handled are searched.",
    "没有找到符合条件的申请": "No request found",
    "请输入标题、文号或发起人": "Type a title, a doc. number or an applicant",
    # the version pages in words
    "节点或连线": "Step or flow",
    "项目": "Item",
    "原值": "Old value",
    "新值": "New value",
}
