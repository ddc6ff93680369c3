"""SpiffWorkflow's own (English) validation messages, in the users' language.

SpiffWorkflow still has the last word on what it can execute; its messages are matched by pattern and
translated, and any message not listed here is shown as it came.
"""

from __future__ import annotations

import re

_SPIFF_MESSAGES = [
    (r"No start event found", "流程没有开始事件"),
    (
        r"Exactly one start event is required in a SubWorkflow Task; found (\d+)",
        r"子流程必须有且只有一个开始事件（找到 \1 个）",
    ),
    (r"A SubWorkflow Must contain an End event", "子流程必须包含结束事件"),
    (r"Multiple outgoing flows are not supported", "该类型的节点不支持多条流出的顺序流，请在其后加网关"),
    (r"A loopMaximum or loopCondition must be specified", "循环任务必须设置 loopMaximum 或 loopCondition"),
    (r"Cancel Events may only be used with transactions", "取消事件只能用在事务子流程上"),
    (r"A multiinstance task must specify", "多实例任务必须且只能设置 loopCardinality 或 loopDataInputRef 之一"),
    (r"There is no support implemented for this task type", "不支持该类型的节点"),
    (r"No DMN Diagram available", "业务规则任务需要 DMN 决策表，oaflow 暂不支持"),
    (r"The process '([^']+)' was not found", r"调用的流程 '\1' 不在本次部署的文件中：请把它的 BPMN 文件一起上传"),
]


def spiff_message(message: str) -> str:
    for pattern, chinese in _SPIFF_MESSAGES:
        found = re.search(pattern, message)
        if found:
            return found.expand(chinese)
    return message
