"""Camunda's multi-instance variables for expressions on a multi-instance task and its instances."""

from __future__ import annotations

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.util.task import TaskState

# Camunda's multi-instance variables, which designers' completion conditions read (`${nrOfCompletedInstances
# >= nrOfInstances / 2}`): SpiffWorkflow has none of them, so they are given to expressions evaluated on a
# multi-instance task or one of its instances (the instance's own data wins over them).
MULTI_INSTANCE_VARIABLES = ("nrOfInstances", "nrOfActiveInstances", "nrOfCompletedInstances", "loopCounter")


def multi_instance_variables(task) -> dict:
    """nrOfInstances, nrOfActiveInstances, nrOfCompletedInstances and loopCounter for `task`, when it is a
    multi-instance task or one of its instances; {} otherwise."""
    parent = getattr(task, "parent", None)
    if isinstance(getattr(task, "task_spec", None), MultiInstanceTask):
        owner, instance = task, None
    elif parent is not None and isinstance(getattr(parent, "task_spec", None), MultiInstanceTask):
        owner, instance = parent, task
    else:
        return {}
    children = [c for c in owner.children if c.task_spec.name == owner.task_spec.task_spec]
    completed = len(owner.internal_data.get("merged", []))
    remaining = owner.internal_data.get("remaining") or []
    total = owner.internal_data.get("cardinality") or len(children) + len(remaining)
    active = len([c for c in children if not c.has_state(TaskState.FINISHED_MASK)])
    counter = children.index(instance) if instance in children else completed
    return {
        "nrOfInstances": total,
        "nrOfActiveInstances": active,
        "nrOfCompletedInstances": completed,
        "loopCounter": counter,
    }
