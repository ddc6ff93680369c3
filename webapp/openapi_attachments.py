"""OpenAPI paths of 附件 (webapp.api_attachments)."""

from __future__ import annotations

from .openapi_common import error_responses, response

FILE_VALUE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "size": {"type": "integer", "description": "字节数"},
        "sha256": {"type": "string"},
    },
    "required": ["id", "name", "size", "sha256"],
}
ABOUT = (
    "接受 docx、pdf、ofd、wps、xlsx、jpg/jpeg、png；扩展名与文件内容须一致；单个文件不超过 OAFLOW_MAX_UPLOAD_MB"
    "（默认 20 MB，超过时 413）；配置了病毒扫描时未通过扫描的文件被拒收（422）。被拒收时不保存任何内容。"
    "返回的对象即表单中 file 类型字段的值：发起或办理时把它放进表单数据，文件即归属该申请。"
    "带 instance_id 与 field 时，文件立即成为该申请该字段的新版本（须正在办理该申请；字段已定稿时 409）。"
)


def paths() -> dict:
    bearer = [{"bearer": []}]
    return {
        "/attachments": {
            "post": {
                "summary": "上传附件",
                "description": ABOUT,
                "security": bearer,
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "field": {"type": "string", "description": "表单字段名（按该字段的 accept 检查）"},
                                    "process": {"type": "string", "description": "发起表单所属流程（与 field 一起）"},
                                    "work_item_id": {
                                        "type": "integer",
                                        "description": "办理表单所属待办（与 field 一起）",
                                    },
                                    "instance_id": {"type": "integer", "description": "作为该申请 field 字段的新版本"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": response("已保存", FILE_VALUE),
                    "413": response("文件过大", {"$ref": "#/components/schemas/Error"}),
                    **error_responses(401, 403, 404, 409, 422),
                },
            }
        },
        "/attachments/{attachment_id}": {
            "get": {
                "summary": "下载附件（上传人在使用前；之后为该申请的参与人；其他人 404）",
                "security": bearer,
                "parameters": [
                    {"name": "attachment_id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {
                    "200": {
                        "description": "文件内容（Content-Disposition: attachment）",
                        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    **error_responses(401, 404),
                },
            }
        },
        "/instances/{id}/attachments": {
            "get": {
                "summary": "申请的附件：按字段列出各版本（最新在前，current 为当前版本）",
                "security": bearer,
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": response("附件列表"), **error_responses(401, 404)},
            }
        },
    }
