"""The application's course read from its work items and its history: the rounds (轮次: a 重新提交 starts
the next one) and the nodes in the order it reached them, which a phone shows as a vertical timeline instead
of the wide diagram. Pure functions over `detail.instance_detail`'s lists."""

from __future__ import annotations

RESUBMITTED = "resubmitted"


def label_rounds(history: list[dict]) -> int:
    """Give each 流转记录 event its round (`round`, from 1; the 重新提交 itself closes its round) and return
    how many rounds there were."""
    current = 1
    for event in history:
        event["round"] = current
        if event["type"] == RESUBMITTED:
            current += 1
    return current


def item_rounds(work_items: list[dict]) -> dict[int, int]:
    """The round of each work item (by id): one more than the 重新提交 before it. The drafter's step that a
    resubmission closed (origin `resubmit`, done) belongs to the round it ends."""
    rounds: dict[int, int] = {}
    current = 1
    for w in sorted(work_items, key=lambda w: w["id"]):
        rounds[w["id"]] = current
        if w["origin"] == "resubmit" and w["status"] == "done":
            current += 1
    return rounds


def steps(detail: dict) -> list[dict]:
    """发起, then each node the application reached, in order, with its people (name, what they did, opinion,
    when; `status`, `decision` and `note` as a signer's), state `done` or `current`; the ending (已通过,
    已驳回, 已撤销) last when the application ended. A node reached again (退回,
    重新提交) is a step of its own; signers of one node opened together (会签) share a step."""
    rounds = item_rounds(detail["work_items"])
    result = [
        {
            "name": "发起",
            "state": "done",
            "round": 1,
            "people": [
                {
                    "name": detail["initiator_name"],
                    "status": "done",
                    "decision": "submit",
                    "note": None,
                    "opinion": None,
                    "at": detail["created_at"],
                }
            ],
        }
    ]
    open_steps: dict[tuple[str, int], dict] = {}
    for w in detail["work_items"]:
        if w["kind"] != "approve" or w["origin"] == "delegate":
            continue
        key = (w["node"], rounds[w["id"]])
        step = open_steps.get(key)
        if step is None or step is not result[-1] and not _same_activation(step, w):
            step = {"name": w["node_name"], "state": "done", "round": key[1], "people": [], "opened": w["created_at"]}
            result.append(step)
            open_steps[key] = step
        if w["status"] in ("open", "waiting"):
            step["state"] = "current"
        step["people"].append(
            {
                "name": w["assignee_label"],
                "status": w["status"],
                "decision": "resubmit" if w["origin"] == "resubmit" and w["status"] == "done" else w["decision"],
                "note": w["note"],
                "opinion": w["opinion"],
                "at": w["completed_at"] or w["created_at"],
            }
        )
    if detail.get("ended_at"):
        result.append({"name": detail["status_label"], "state": "done", "round": result[-1]["round"], "people": []})
    for step in result:
        step.pop("opened", None)
    return result


def _same_activation(step: dict, w: dict) -> bool:
    """Signers opened together (会签, 加签 before anyone decided) belong to one step."""
    return step.get("opened") == w["created_at"]
