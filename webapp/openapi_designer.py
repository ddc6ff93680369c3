"""OpenAPI paths for process designers and integrations (webapp.api_designer): validation, versions and
migration, diagrams, external work, messages and signals."""

from __future__ import annotations

from .openapi_common import BEARER, error_responses, response


def _op(summary: str, body: dict | None = None, codes=(401, 403, 404, 409, 422)) -> dict:
    item = {"summary": summary, "security": BEARER, "responses": {"200": response("成功"), **error_responses(*codes)}}
    if body is not None:
        item["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return item


def paths() -> dict:
    migration_body = {
        "type": "object",
        "required": ["from_version", "to_version"],
        "properties": {
            "from_version": {"type": "integer"},
            "to_version": {"type": "integer"},
            "instance_ids": {"type": "array", "items": {"type": "integer"}},
        },
    }
    named = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "payload": {"type": "object"}},
    }
    return {
        "/deployments/validate": {"post": _op("校验 BPMN 与表单文件（multipart files），不写入：errors 与 warnings")},
        "/processes/{key}/versions": {"get": _op("流程的全部版本，含各状态的实例数")},
        "/processes/{key}/versions/{version}/deactivate": {"post": _op("停用版本（不再用于新实例）")},
        "/processes/{key}/versions/{version}/activate": {"post": _op("启用版本")},
        "/processes/{key}/versions/{version}/diagram": {"get": _op("该版本的流程图（SVG）；无图形信息时 404")},
        "/processes/{key}/diff": {"get": _op("两个版本的差异（?from=&to=）：新增、删除、修改的节点")},
        "/processes/{key}/migrations/dry-run": {"post": _op("试迁移：逐个实例给出安全与否及原因", migration_body)},
        "/processes/{key}/migrations": {"post": _op("迁移安全的实例，每个实例记入流转记录", migration_body)},
        "/instances/{id}/waiting": {"get": _op("实例等待的外部任务、消息、信号与定时器")},
        "/instances/{id}/external/{element}": {
            "post": _op("完成在该节点等待的外部任务（服务任务）", {"type": "object", "properties": {"data": {}}})
        },
        "/instances/{id}/messages": {"post": _op("向实例发送消息", named)},
        "/messages": {"post": _op("发送消息：启动以该消息为开始事件的流程，或交给仍在等待它的实例", named)},
        "/signals": {"post": _op("广播信号：等待它的实例继续，以它为开始事件的流程启动", named)},
    }
