"""SpiffWorkflow's run-time failures, in the users' language.

The library explains in English why it could not run a step; users and administrators read Chinese. Each
known message is matched by pattern and said in Chinese with what to fix; a message with no pattern here
becomes a Chinese sentence naming the kind of failure, and its English is logged for the administrators
(`oaflow.work`). Messages already in Chinese (our evaluator's, our limits', a service handler's) pass as
they are. The element is named by the caller (failure.failed_at), not here.
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger("oaflow.work")

_CJK = re.compile(r"[\u4e00-\u9fff]")

_RUNTIME_MESSAGES = [
    (
        r"Expected an output item",
        "多实例节点的实例结束时没有给出输出项（outputDataItem）：请在该节点的表单中加入这个字段、"
        "用脚本设置它，或去掉 loopDataOutputRef",
    ),
    (
        r"Multiinstance input item (\S+?)\.? already exists",
        r"多实例的输入项“\1”（elementVariable / inputDataItem）与已有的流程变量同名：请给输入项换一个名字",
    ),
    (
        r"Multiinstance output item (\S+?)\.? already exists",
        r"多实例的输出项“\1”（outputDataItem）与已有的流程变量同名：请给输出项换一个名字",
    ),
    (r"Missing data input for multiinstance task", "多实例的集合（collection / loopDataInputRef）变量不存在"),
    (r"Multiinstance data input must be iterable", "多实例的集合（collection / loopDataInputRef）必须是列表或字典"),
    (r"Only a mutable map \(dict\) or sequence \(list\) can be used for output", "多实例的输出变量必须是列表或字典"),
    (r"the output must be empty or it must be a map", "多实例的输出变量已有内容：它必须为空，或是字典"),
    (r"the output must be a map \(dict\) or empty sequence", "多实例的输出变量已有内容：它必须为空列表，或是字典"),
    (
        r"data object could not be read; '([^']+)'",
        r"数据对象“\1”还没有值：请让前面的步骤先写入它（dataOutputAssociation），再读取",
    ),
    (
        r"data object could not be set; '([^']+)'",
        r"数据对象“\1”要由本节点写入，但本节点结束时没有这个变量：请在表单中加入字段 \1，或用脚本设置它",
    ),
    (r"Missing data input", "节点需要的输入数据（dataInput）不存在"),
    (r"Missing data ou?tput", "节点结束时没有给出声明的输出数据（dataOutput）"),
    (r"No conditions satisfied", "网关的所有条件都不成立，且没有默认流向：请设置默认流向（default）"),
    (r"This process is not waiting for (.+)", r"流程当前没有等待“\1”"),
    (r"Error evaluating expression '(.*)'", r"表达式求值失败：\1"),
    (r"was not reached", "汇合网关等待的分支不会到达：请检查网关的配对"),
    (r"maximum recursion depth", "流程嵌套过深"),
]


def in_chinese(message: str, kind: str = "") -> str:
    """The failure's message for users: Chinese as it is, a known English message translated, anything
    else a Chinese sentence (its English logged)."""
    text = (message or "").strip()
    if _CJK.search(text):
        return text
    for pattern, chinese in _RUNTIME_MESSAGES:
        found = re.search(pattern, text)
        if found:
            return found.expand(chinese)
    log.warning("engine failure without a translation (%s): %s", kind, text)
    return f"流程引擎无法执行该节点（{kind or '未知错误'}），详情已记入服务器日志，请联系管理员"
