"""分发: what each receiving unit of an outgoing document (发文) gets — the letter that starts its 收文.

The 发文 process runs this as a built-in service task (`oaflow.document.distribute`, engine.process.
service_tasks): from the document's data it makes one letter per unit chosen in 主送/分发单位, and the send
task after it throws each letter as the message 公文分发, which starts a 收文 at that unit (engine.work.kernel.
routing.deliver_messages). A letter carries what the receiving 收文 registers: the title, the issuing office
as 来文机关, the allocated 文号 as 来文字号, the 成文日期, 紧急程度 and 密级, the 正文 and the attachments.
"""

from __future__ import annotations

DISTRIBUTE = "oaflow.document.distribute"
MESSAGE = "公文分发"

# 发文 field → 收文 field. Fields the draft left empty are left out of the letter.
LETTER_FIELDS = {
    "title": "title",
    "issuer": "from_org",
    "doc_no": "incoming_no",
    "doc_date": "doc_date",
    "urgency": "urgency",
    "secrecy": "secrecy",
    "body": "body",
    "attachments": "attachments",
}


def letters(data: dict) -> dict:
    """{"distribution": [letter, …]}: one letter per receiving unit, in the order chosen, each once."""
    units = data.get("distribute_to") or []
    if isinstance(units, str):
        units = [units]
    common = {theirs: data[ours] for ours, theirs in LETTER_FIELDS.items() if data.get(ours) not in (None, "", [])}
    found = []
    for unit in units:
        if isinstance(unit, str) and unit.strip() and unit.strip() not in [f["receiving_dept"] for f in found]:
            found.append({**common, "receiving_dept": unit.strip()})
    return {"distribution": found}
