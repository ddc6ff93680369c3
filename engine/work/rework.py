"""退回: return an application for rework to an earlier node or to its drafter (not 驳回: see docs)."""

from __future__ import annotations

from engine.errors import FieldError, InvalidData
from engine.work import checks, opinions
from engine.work.kernel import items, routing
from engine.work.kernel.case import item_command, ready_task


def send_back(core, username: str, item_id: int, to_node: str | None, opinion: str | None) -> dict:
    """退回: to the previous node (default), any earlier node already passed, or the initiator; the reason is
    required. The node's `resubmit` option decides whether the resubmission re-walks the route."""
    opinion = opinions.check_opinion(opinion, required=True, what="退回时")
    if to_node is not None and not isinstance(to_node, str):
        raise InvalidData([FieldError("to_node", "退回目标必须是节点 id 或 initiator")])
    with item_command(core, username, item_id) as (case, item, user):
        checks.main_item(item, "退回")
        checks.node_allows(case, item, "send_back")
        task = ready_task(case.workflow, item.task_id)
        targets = routing.send_back_targets(case, task)
        if to_node:
            target = next((t for t in targets if t["node"] == to_node), None)
            if target is None:
                raise InvalidData([FieldError("to_node", "只能退回到上一节点、已经办理过的节点或发起人")])
        else:
            target = next(t for t in targets if t["previous"])
        node = case.model.nodes.get(item.node_id)
        items.close_item(case, item, "send_back", opinion)
        items.record(
            case,
            "sent_back",
            user,
            item,
            decision="send_back",
            opinion=opinion,
            message=f"退回至{target['name']}（{'、'.join(target['handlers'])}）",
        )
        if target["node"] == "initiator":
            routing.return_to_initiator(case, node, actor_id=user.id, reason=opinion)
        else:
            routing.return_to_node(case, task, target["node"], node, actor_id=user.id)
        return {"id": case.instance_id, "status": case.status, "to": target}
