"""English for the office on a phone (the folded menu, the timeline of nodes), the rounds of a resubmitted
application and the fields changed in it, and the 月度统计 charts; merged into i18n.EN."""

EN_OFFICE = {
    # the phone's menu and the timeline of nodes
    "菜单": "Menu",
    "提交申请": "Submitted",
    # rounds (轮次) after a 重新提交
    "第 %d 轮": "Round %d",
    "已修改": "Changed",
    "已清空": "Cleared",
    "修改前": "Before",
    "未填写": "Empty",
    "申请人重新提交时修改了 %d 项内容，已标出修改前的值": (
        "The applicant changed %d fields when resubmitting; their earlier values are shown"
    ),
    # 月度统计: the charts and the items behind a figure
    "小时": "h",
    "办理件数": "Handled",
    "平均办理时长（工作小时）": "Average handling time (working hours)",
    "超时率": "Overdue rate",
    "计入平均办理时长": "Counted in the average handling time",
    "月末未办结": "Open at month end",
    "超时件数": "Overdue",
    "工作小时": "Working hours",
    "办结时间": "Completed",
    "项": "items",
    "平均": "average",
    "人员": "Person",
    "图中的链接列出按当前数据统计的明细，可能与快照数字不同。": (
        "The links list the items as counted now, which may differ from the snapshot's figures."
    ),
}
