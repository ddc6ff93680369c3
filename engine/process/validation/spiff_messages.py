"""The libraries' own (English) messages, in the users' language: SpiffWorkflow's validation messages and
libxml2's XML syntax errors.

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
    (
        r"Time Specification Error\. Unknown Time Specification",
        "计时器事件没有设置时间：请设置 timeDuration、timeDate 或 timeCycle",
    ),
    (r"Time Specification Error\. (.*)", r"计时器的时间无法识别（\1）"),
]

# libxml2's messages for a file that is not well-formed XML (the line is the error's own).
_XML_MESSAGES = [
    (
        r"Opening and ending tag mismatch: (\S+) line (\d+) and (\S+?),? line",
        r"第 \2 行的开始标签 <\1> 与结束标签 </\3> 不匹配：每个元素都要用它自己的结束标签关闭",
    ),
    (r"Premature end of data in tag (\S+) line (\d+)", r"文件在第 \2 行的标签 <\1> 结束之前就结束了：文件可能不完整"),
    (r"EndTag: '</' not found", "缺少结束标签：文件可能不完整"),
    (r"Extra content at the end of the document", "文档的根元素之后还有多余的内容"),
    (r"Document is empty", "文件是空的"),
    (r"Start tag expected, '<' not found", "不是 XML 文件：找不到任何标签"),
    (r"expected '>'", "标签缺少结尾的 '>'"),
    (r"StartTag: invalid element name", "标签名无效"),
    (r"Couldn't find end of Start Tag (\S+)", r"开始标签 <\1> 没有写完"),
    (r"attributes construct error", "属性的写法有误（引号不成对或缺少 =）"),
    (r"Attribute (\S+) redefined", r"同一元素上属性 \1 重复"),
    (r"Namespace prefix (\S+) on (\S+) is not defined", r"元素 <\2> 的命名空间前缀 \1 没有声明"),
]


def spiff_message(message: str) -> str:
    for pattern, chinese in _SPIFF_MESSAGES:
        found = re.search(pattern, message)
        if found:
            return found.expand(chinese)
    return message


def xml_message(message: str) -> str:
    for pattern, chinese in _XML_MESSAGES:
        found = re.search(pattern, message)
        if found:
            return found.expand(chinese)
    return message
