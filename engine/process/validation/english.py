"""Deploy-time messages in English, for `?lang=en` and `oaflow validate --lang en`.

The checks speak Chinese, the users' language; a message listed here (by the pattern of its Chinese text) is
given in English on request, any other is shown as it came. Kept beside the checks rather than in the web
layer's tables because `oaflow validate` runs without the web stack.
"""

from __future__ import annotations

import re

_ENGLISH = [
    (
        r"^XML 格式错误：第 (\d+) 行的开始标签 <([^>]+)> 与结束标签 </([^>]+)> 不匹配：(.*)$",
        r"XML is not well formed: the start tag <\2> on line \1 does not match the end tag </\3>: "
        r"every element must be closed by its own end tag",
    ),
    (
        r"^XML 格式错误：文件在第 (\d+) 行的标签 <([^>]+)> 结束之前就结束了(.*)$",
        r"XML is not well formed: the file ends before the tag <\2> of line \1 is closed: it may be incomplete",
    ),
    (r"^XML 格式错误：(.*)$", r"XML is not well formed: \1"),
    (
        r"^计时器事件没有设置时间：(.*)$",
        "the timer event has no time: give it a timeDuration, timeDate or timeCycle (for example PT5M)",
    ),
    (r"^BPMN 校验失败：计时器的时间无法识别（(.*)）$", r"BPMN check failed: the timer's time was not understood (\1)"),
    (r"^没有可执行的流程：(.*)$", 'no executable process: set isExecutable="true" on the bpmn:process that should run'),
    (
        r"^链接事件 '([^']*)' 没有同名的链接捕获事件(.*)$",
        r"link event '\1' has no catching link event of the same name in the same process: the flow would stop here",
    ),
    (
        r"^链接捕获事件 '([^']*)' 没有同名的链接抛出事件(.*)$",
        r"catching link event '\1' has no throwing link event of the same name in the same process: never reached",
    ),
    (
        r"^链接捕获事件 '([^']*)' 重名(.*)$",
        r"more than one catching link event is named '\1' in the same process: the throw cannot know where to go",
    ),
    (
        r"^formField '([^']*)' 的类型是 enum，但没有任何选项(.*)$",
        r"form field '\1' is an enum without any value: add camunda:value entries, or use another type",
    ),
    (
        r"^表达式引用的变量 '([^']*)' 只在部分路径上提供：在路径 (.*) 上没有任何步骤提供它，运行到这里会出错："
        r"请在“(.*)”的表单中加入该字段$",
        r"the variable '\1' that an expression reads is provided on some paths only: nothing provides it on the "
        r"path \2, so the flow fails here: add the field to the form of '\3'",
    ),
    (
        r"^表达式引用的变量 '([^']*)' 只在部分路径上提供：在路径 (.*) 上没有任何步骤提供它，运行到这里会出错："
        r"请在发起表单中加入该字段$",
        r"the variable '\1' that an expression reads is provided on some paths only: nothing provides it on the "
        r"path \2, so the flow fails here: add the field to the start form",
    ),
    (
        r"^表达式引用的变量 '([^']*)' 只在部分路径上提供：在路径 (.*) 上没有任何步骤提供它(.*)$",
        r"the variable '\1' that an expression reads is provided on some paths only: nothing provides it on the "
        r"path \2, so the flow fails here: provide it in a step on that path",
    ),
    (
        r"^表达式引用的变量 '([^']*)' 没有任何表单字段或前序步骤提供(.*)$",
        r"the variable '\1' that an expression reads is provided by no form field or earlier step",
    ),
]
_COMPILED = [(re.compile(pattern, re.S), english) for pattern, english in _ENGLISH]


def in_english(message: str) -> str:
    for pattern, english in _COMPILED:
        found = pattern.search(message)
        if found:
            return found.expand(english)
    return message
