"""English for the office on a phone (the folded menu, the timeline of nodes), the rounds of a resubmitted
application and the fields changed in it, and the 月度统计 charts; merged into i18n.EN."""

EN_OFFICE = {
    # the phone's menu and the timeline of nodes
    "菜单": "Menu",
    "提交申请": "Submitted",
    # rounds (轮次) after a 重新提交
    "第 %d 轮": "Round %d",
}
