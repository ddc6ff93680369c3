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
}
