"""English for 费用报销 and 预算管理: the budget page, the start form's budget panel and table fields; merged
into i18n.EN."""

EN_BUDGET = {
    "预算管理": "Budgets",
    "每个部门每年按费用类型设预算。费用报销提交时占用预算，出纳付款后计为已使用，不通过或撤销时释放。": (
        "Each department has a budget per expense type and year. A claim reserves it when submitted; it is "
        "spent once the cashier pays and released when the claim is rejected or cancelled."
    ),
    "年度": "Year",
    "查看": "Show",
    "年预算": "budgets",
    "本年度还没有预算": "No budgets for this year yet",
    "费用类型": "Expense type",
    "预算金额": "Budget",
    "预算金额（元）": "Budget (yuan)",
    "已占用": "Reserved",
    "已使用": "Spent",
    "余额": "Remaining",
    "设置预算": "Set a budget",
    "保存": "Save",
    "导入预算": "Import budgets",
    "Excel（.xlsx）或 CSV 文件，第一行为表头：部门、费用类型、年度、预算金额。有一行出错则整个文件都不导入。": (
        "An Excel (.xlsx) or CSV file whose first row is the header: 部门, 费用类型, 年度, 预算金额. If any row "
        "is wrong, nothing of the file is imported."
    ),
    "文件": "File",
    "或粘贴 CSV": "Or paste CSV",
    "导入": "Import",
    "预算余额": "Budget left",
    "年": "",
    "未设预算": "No budget",
    "合计超出所选费用类型的预算余额时不能提交": (
        "A claim whose total exceeds the budget left for its type cannot be submitted"
    ),
    "合计超出预算余额时仍可提交，但须增加分管领导审批": (
        "A claim over the budget left can still be submitted, but the supervising leader must also approve it"
    ),
    "添加一行": "Add a row",
    "删除": "Remove",
}
