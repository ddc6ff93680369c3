"""OpenAPI paths of 组织与用户 (webapp.api_org): departments, accounts, import and export (系统管理员)."""

from __future__ import annotations

from .openapi_common import TEXT, area_operation, object_schema

_ROLES = {
    "type": "array",
    "items": {"type": "string", "enum": ["system_admin", "process_admin", "file_admin"]},
    "description": "管理角色（也接受中文名：系统管理员、流程管理员、文件管理员）；空为普通用户",
}
_NAMES = {"type": "array", "items": TEXT, "description": "业务角色（审批规则 role:X 使用，如 文书、分管领导）"}
_DEPARTMENT = {
    "name": TEXT,
    "parent": {"type": "string", "description": "上级部门名称；空为顶级"},
    "leader": {"type": "string", "description": "负责人登录名；空为无"},
    "supervisor": {"type": "string", "description": "分管领导登录名；空为无"},
}
_USER = {
    "username": {"type": "string", "description": "登录名：字母、数字、下划线和点"},
    "display_name": {"type": "string", "description": "姓名"},
    "department": {"type": "string", "description": "部门名称"},
    "title": {"type": "string", "description": "岗位"},
    "email": TEXT,
    "roles": _ROLES,
    "business_roles": _NAMES,
}

# the multipart body of both imports (导入用户, 导入部门)
_SHEET = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": object_schema(
                {
                    "file": {"type": "string", "format": "binary"},
                    "dry_run": {"type": "string", "enum": ["1", "0"]},
                    "only_valid": {"type": "string", "enum": ["1", "0"]},
                },
                ["file"],
            )
        }
    },
}


def paths() -> dict:
    create_user = {**_USER, "password": {"type": "string", "description": "初始密码；省略则生成，首次登录须修改"}}
    edit_user = {**_USER, "active": {"type": "boolean", "description": "false 停用（其登录与令牌立即失效），true 启用"}}
    del edit_user["username"]
    import_op = area_operation(
        "导入用户（multipart：file=.xlsx 或 .csv，dry_run=1 预览，only_valid=1 只导入无误的行）。"
        "列：登录名、姓名、部门、岗位、邮箱、角色、业务角色、初始密码。有错误的行时（未确认 only_valid）"
        "不导入任何用户，422 的 errors 指明行号和列（系统管理员）",
        ok=201,
        codes=(401, 403, 422),
    )
    import_op["responses"]["200"] = {"description": "预览（dry_run）：每行的结果与错误，未写入"}
    import_op["requestBody"] = _SHEET
    departments_op = area_operation(
        "导入部门（multipart：file=.xlsx 或 .csv，dry_run=1 预览，only_valid=1 只导入无误的行）。"
        "列：部门名称、上级部门、负责人、分管领导（登录名）；上级部门可在文件中任意一行定义；已有部门按名称修改，"
        "空单元格保持原值。未知上级部门或循环为该行“上级部门”的错误；有错误的行时（未确认 only_valid）"
        "不导入任何部门，422 的 errors 指明行号和列（系统管理员）",
        ok=201,
        codes=(401, 403, 422),
    )
    departments_op["responses"]["200"] = {
        "description": "预览（dry_run）：每行的结果（action：create/update/unchanged，changes）与错误，未写入"
    }
    departments_op["requestBody"] = _SHEET
    return {
        "/admin/departments/import": {"post": departments_op},
        "/admin/departments": {
            "get": area_operation(
                "部门树：每个部门的上级、负责人、分管领导、人数；format=xlsx 导出 Excel（导入的列）（系统管理员）",
                query=[("format", "string")],
                codes=(401, 403),
            ),
            "post": area_operation(
                "新建部门（系统管理员）", body=object_schema(_DEPARTMENT, ["name"]), ok=201, codes=(401, 403, 422)
            ),
        },
        "/admin/departments/{name}": {
            "patch": area_operation(
                "修改部门：改名、移动（上级部门）、负责人、分管领导；只改给出的字段（系统管理员）",
                body=object_schema(_DEPARTMENT),
                params=[("name", "string")],
                codes=(401, 403, 404, 422),
            )
        },
        "/admin/users": {
            "get": area_operation(
                "用户列表（q：姓名或登录名；department：部门）；format=xlsx 导出 Excel（系统管理员）",
                query=[("q", "string"), ("department", "string"), ("format", "string")],
                codes=(401, 403),
            ),
            "post": area_operation(
                "新建用户：返回一次性初始密码，首次登录须修改（系统管理员）",
                body=object_schema(create_user, ["username", "display_name"]),
                ok=201,
                codes=(401, 403, 422),
            ),
        },
        "/admin/users/{username}": {
            "patch": area_operation(
                "编辑用户：姓名、部门（调动）、岗位、邮箱、角色、业务角色、停用/启用；只改给出的字段（系统管理员）",
                body=object_schema(edit_user),
                params=[("username", "string")],
                codes=(401, 403, 404, 422),
            )
        },
        "/admin/users/{username}/password": {
            "post": area_operation(
                "重置密码：返回一次性密码（或使用 body 的 password），下次登录须修改；"
                "该用户的登录全部退出（系统管理员）",
                body=object_schema({"password": TEXT}),
                params=[("username", "string")],
                codes=(401, 403, 404, 422),
            )
        },
        "/admin/users/import": {"post": import_op},
    }
