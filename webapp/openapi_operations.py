"""OpenAPI paths of the approval operations, 代理 and 常用意见 (webapp.api_operations)."""

from __future__ import annotations

from .openapi_common import error_responses, json_body, operation


def _printed(summary: str, params: list) -> dict:
    """A printable page: HTML for participants (print styles at /static/print.css, signatures inside)."""
    return {
        "summary": summary,
        "security": [{"bearer": []}],
        "parameters": params,
        "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}, **error_responses(401, 404)},
    }


def paths() -> dict:
    """The approval operations (退回, 转办, 委派, 加签, 撤回, 撤销, 催办, 知会, 传阅, 代理, 常用意见) and the
    printable 审批单 and 处理单."""
    text = {"type": "string"}
    users = {"type": "array", "items": {"type": "string"}, "description": "用户名列表"}
    item = [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    inst = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    return {
        "/work-items/batch-complete": {
            "post": operation(
                "批量同意：以同一意见同意多项待办（节点须允许批量审批，最多 100 项）；每项单独办理，返回每项结果",
                json_body(
                    {"ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 100}, "opinion": text},
                    ["ids"],
                ),
                (401, 422),
            )
        },
        "/work-items/{item_id}/send-back-targets": {
            "get": operation("可退回的节点（上一节点、已办理过的节点、发起人）", None, (401, 403, 404), item)
        },
        "/work-items/{item_id}/send-back": {
            "post": operation(
                "退回：退回上一节点、任一已办理节点或发起人修改",
                json_body({"to_node": text, "opinion": text}, ["opinion"]),
                params=item,
            )
        },
        "/work-items/{item_id}/transfer": {
            "post": operation(
                "转办：交给他人办理", json_body({"to_user": text, "opinion": text}, ["to_user"]), params=item
            )
        },
        "/work-items/{item_id}/delegate": {
            "post": operation(
                "委派：请他人办理后交回", json_body({"to_user": text, "opinion": text}, ["to_user"]), params=item
            )
        },
        "/work-items/{item_id}/resolve": {
            "post": operation("委派办理完成，交回委派人", json_body({"opinion": text}, ["opinion"]), params=item)
        },
        "/work-items/{item_id}/add-signers": {
            "post": operation(
                "加签：前加签 / 后加签 / 并加签",
                json_body(
                    {
                        "users": users,
                        "position": {"type": "string", "enum": ["before", "after", "parallel"]},
                        "opinion": text,
                    },
                    ["users", "position"],
                ),
                params=item,
            )
        },
        "/work-items/{item_id}/remove-signers": {
            "post": operation("减签：移除本人加签且尚未办理的人", json_body({"users": users}, ["users"]), params=item)
        },
        "/work-items/{item_id}/recall": {
            "post": operation("撤回自己已同意的审批（下一步尚未办理时）", None, params=item)
        },
        "/instances/{id}/withdraw": {"post": operation("发起人撤回申请（尚无人审批时）", None, params=inst)},
        "/instances/{id}/cancel": {"post": operation("撤销申请", json_body({"reason": text}, ["reason"]), params=inst)},
        "/instances/{id}/urge": {
            "post": operation("催办（每个待办每小时一次）", json_body({"message": text}), params=inst)
        },
        "/instances/{id}/cc": {
            "post": operation("知会 / 抄送", json_body({"users": users, "message": text}, ["users"]), params=inst)
        },
        "/instances/{id}/circulate": {
            "post": operation(
                "传阅：送选定的人员和部门（部门即其全体成员）阅示或批示；已在传阅中未读的人不重复发送；返回传阅名单",
                json_body(
                    {
                        "users": users,
                        "departments": {"type": "array", "items": text, "description": "部门名称列表"},
                        "message": text,
                    }
                ),
                params=inst,
            )
        },
        "/instances/{id}/circulate/recall": {
            "post": operation(
                "撤回传阅：只撤回尚未阅读的人；已阅的人不能撤回（409，并列出姓名）",
                json_body({"users": users}, ["users"]),
                params=inst,
            )
        },
        "/work-items/{item_id}/read": {
            "post": operation(
                "阅办待阅事项：不填批示为已阅，填写批示为已批示（已阅后仍可追加批示）",
                json_body({"comment": text}),
                params=item,
            )
        },
        "/instances/{id}/read": {"post": operation("把本申请的知会标记为已读", None, (401, 404), inst)},
        "/instances/{id}/signatures/{item_id}": {
            "get": {
                "summary": "审批签名图片（PNG，仅参与人可见）",
                "security": [{"bearer": []}],
                "parameters": inst + item,
                "responses": {"200": {"description": "PNG", "content": {"image/png": {}}}, **error_responses(401, 404)},
            }
        },
        "/instances/{id}/print": {
            "get": _printed("审批单（可打印的 HTML，A4）：申请内容与每一步的办理人、意见、签名和时间", inst)
        },
        "/instances/{id}/sheet": {
            "get": _printed("公文处理单（可打印的 HTML，A4）；没有处理单格式的流程返回审批单", inst)
        },
        "/delegations": {
            "get": operation("我的代理设置", None, (401,)),
            "post": operation(
                "设置代理：期间内新待办交由代理人办理",
                json_body(
                    {
                        "delegate": text,
                        "starts_on": {"type": "string", "format": "date"},
                        "ends_on": {"type": "string", "format": "date"},
                        "processes": {"type": "array", "items": text, "description": "流程标识；为空表示全部"},
                        "reason": text,
                        "move_existing": {"type": "boolean"},
                    },
                    ["delegate", "starts_on", "ends_on"],
                ),
                (401, 422),
            ),
        },
        "/delegations/{delegation_id}": {
            "delete": operation(
                "提前结束代理",
                None,
                (401, 404),
                [{"name": "delegation_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            )
        },
        "/phrases": {
            "get": operation("我的常用意见", None, (401,)),
            "post": operation("添加常用意见", json_body({"text": text}, ["text"]), (401, 422)),
        },
        "/phrases/{phrase_id}": {
            "delete": operation(
                "删除常用意见",
                None,
                (401, 404),
                [{"name": "phrase_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            )
        },
    }
