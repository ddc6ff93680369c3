"""English for 组织与用户, the roles and the first-sign-in password change; merged into i18n.EN."""

EN_ORG = {
    "组织与用户": "Organisation and users",
    "导出用户（Excel）": "Export users (Excel)",
    "系统管理员：所有功能；流程管理员：部署流程、管理自己流程的版本、迁移和流程监控；文件管理员：公文登记和发文字号；"
    "普通用户：自己的工作。新建或重置的密码须在首次登录时修改。": (
        "System administrators: everything; process administrators: deploy processes, the versions, migration and "
        "monitoring of their own processes; file administrators: document registers and numbers; ordinary users: "
        "their own work. A new or reset password must be changed at the first sign-in."
    ),
    "负责人": "Leader",
    "分管领导": "Supervising leader",
    "人数": "Members",
    "修改": "Edit",
    "部门名称": "Department name",
    "上级部门": "Parent department",
    "负责人（登录名）": "Leader (user name)",
    "分管领导（登录名）": "Supervising leader (user name)",
    "新建部门": "New department",
    "用户": "Users",
    "姓名或登录名": "Name or user name",
    "全部部门": "All departments",
    "查询": "Search",
    "登录名": "User name",
    "姓名": "Name",
    "岗位": "Position",
    "角色": "Roles",
    "管理角色": "Administrators' roles",
    "都不选即为普通用户。": "None of them: an ordinary user.",
    "系统管理员": "System administrator",
    "流程管理员": "Process administrator",
    "文件管理员": "File administrator",
    "普通用户": "Ordinary user",
    "业务角色（用、分隔）": "Business roles (separated by 、)",
    "待修改初始密码": "Must change the initial password",
    "编辑": "Edit",
    "重置密码": "Reset password",
    "没有符合条件的用户": "No matching users",
    "新建用户": "New user",
    "邮箱": "E-mail",
    "初始密码（留空自动生成）": "Initial password (empty: generated)",
    "导入用户": "Import users",
    "Excel（.xlsx）或 CSV 文件，第 1 行为表头：登录名、姓名、部门、岗位、邮箱、角色、业务角色、初始密码"
    "（登录名和姓名必填）。先预览；有错误的行时不会导入，除非确认只导入无误的行。": (
        "An Excel (.xlsx) or CSV file whose first row is the header: 登录名, 姓名, 部门, 岗位, 邮箱, 角色, 业务角色, "
        "初始密码 (user name and name required). Preview first; nothing is imported while a row is wrong, unless "
        "you confirm importing only the good rows."
    ),
    "预览": "Preview",
    "共 {total} 行：{valid} 行无误，{invalid} 行有错误。尚未导入任何用户。": (
        "{total} rows: {valid} correct, {invalid} with errors. Nothing has been imported yet."
    ),
    "行": "Row",
    "结果": "Result",
    "无误": "Correct",
    "第 {row} 行“{column}”：": "Row {row}, column “{column}”: ",
    "确认只导入无误的 {n} 行，跳过有错误的行": "Import only the {n} correct rows and skip the others",
    "确认导入": "Import",
    "您正在使用管理员设置的初始密码，请先修改密码后再使用系统。": (
        "You signed in with a password an administrator set: change it before going on."
    ),
    "导出部门（Excel）": "Export departments (Excel)",
    "导入部门": "Import departments",
    "Excel（.xlsx）或 CSV 文件，第 1 行为表头：部门名称、上级部门、负责人、分管领导"
    "（部门名称必填；负责人和分管领导填登录名）。"
    "上级部门可以是已有部门或文件中任意一行的部门。已有的部门按名称修改（不能通过导入改名），空的单元格保持原值。"
    "先预览；有错误的行时不会导入，除非确认只导入无误的行。": (
        "An Excel (.xlsx) or CSV file whose first row is the header: 部门名称, 上级部门, 负责人, 分管领导 (the name "
        "is required; leaders by user name). The parent may be an existing department or one on any row of the "
        "file. An existing department is updated by its name (import never renames), an empty cell keeps the "
        "value. Preview first; nothing is imported while a row is wrong, unless you confirm importing only the "
        "good rows."
    ),
    "共 {total} 行：{valid} 行无误，{invalid} 行有错误。尚未导入任何部门。": (
        "{total} rows: {valid} correct, {invalid} with errors. Nothing has been imported yet."
    ),
    "新建": "Create",
    "无变化": "Unchanged",
}
