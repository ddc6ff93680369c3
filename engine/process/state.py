"""The workflow state as stored: SpiffWorkflow's serialization without the spec, which comes from the
compiled-spec cache (a small instance's state is half the size without it, and never out of date).
"""

from __future__ import annotations

import re
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.process.service_tasks import ExternalTask, ExternalTaskConverter


class _StateOnlyConverter(BpmnWorkflowConverter):
    """Serialize the workflow's state without its spec; the spec comes from the compiled cache."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec, subprocess_specs = dct.pop("__specs__")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry():
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _StateOnlyConverter
    config[ExternalTask] = ExternalTaskConverter
    return BpmnWorkflowSerializer.configure(config)


REGISTRY = _registry()


_SERIALIZER = BpmnWorkflowSerializer(REGISTRY)


def dump_state(workflow: BpmnWorkflow) -> str:
    dct = _SERIALIZER.to_dict(workflow)
    return orjson.dumps(dct).decode()


def load_state(state: str, spec, subprocess_specs, script_engine) -> BpmnWorkflow:
    dct = orjson.loads(state)
    dct["__specs__"] = (spec, subprocess_specs)
    workflow = _SERIALIZER.from_dict(dct)
    workflow.script_engine = script_engine
    return workflow


def unstorable(exc: TypeError) -> str:
    """Why the serializer could not store a value (orjson's TypeError), in the user's words."""
    text = str(exc)
    if "Dict key must be str" in text:
        return "字典的键必须是文本"
    found = re.search(r"Type is not JSON serializable: (\w+)", text)
    return f"类型 {found.group(1)} 不能保存" if found else "不是文本、数字、列表或字典"
