"""Camunda, Flowable and Zeebe extensions that oaflow ignores, reported as warnings.

Listeners, field injection and variable mappings would run Java code or move variables in the vendor's
engine; oaflow does neither, so a designer must hear that these parts of the file have no effect. A
service task's inputOutput is not reported: its output parameters name the variables that the external
work supplies (dialect.output_variables), so it does mean something here.
"""

from __future__ import annotations

from engine.process import dialect
from engine.process.bpmn import BPMN_NS, local, namespace
from engine.process.validation.report import Report

# Vendor extensions that would run Java code or map variables elsewhere: ignored here, so say so.
IGNORED_VENDOR = {
    "executionListener": "执行监听器",
    "taskListener": "任务监听器",
    "field": "字段注入",
    "inputOutput": "输入/输出映射",
    "in": "调用活动的输入变量映射",
    "out": "调用活动的输出变量映射",
    "ioMapping": "输入/输出映射",
}


def check_vendor_extensions(root, filename: str, report: Report) -> None:
    """One warning per ignored extension element, on the element that carries it."""
    for ext in root.iter(f"{{{BPMN_NS}}}extensionElements"):
        owner = ext.getparent()
        for child in ext:
            if not isinstance(child.tag, str) or namespace(child.tag) not in (*dialect.VENDOR_NS, dialect.ZEEBE_NS):
                continue
            if local(child.tag) == "loopCharacteristics" and child.get("outputCollection"):
                report.warn(
                    filename,
                    child.sourceline,
                    owner.getparent().get("id"),
                    f"已忽略 zeebe:loopCharacteristics 的 outputCollection（{child.get('outputCollection')}）："
                    "各实例的数据会合并到流程数据中，不会汇集成列表",
                )
            what = IGNORED_VENDOR.get(local(child.tag))
            if what is None or (local(child.tag) == "inputOutput" and local(owner.tag) == "serviceTask"):
                continue
            prefix = dialect.VENDOR_PREFIX.get(namespace(child.tag), "")
            report.warn(
                filename,
                child.sourceline,
                owner.get("id"),
                f"已忽略 {prefix}:{local(child.tag)}（{what}）：oaflow 不执行 Java 代码或引擎专有映射",
            )
