"""处理单 layouts ("sheet specs"): which rows a 公文's processing sheet has and where each row's content comes
from — a form field (found by its title or name), the 文号, the applicant, or the opinions of the nodes
whose *names* carry a word (签发, 核稿, 会签 …), so one spec serves every version of a process and any
process that names its nodes the usual way.

A process gets a sheet by its key (SHEET_OF_PROCESS) or by the process property `sheet` naming one of
SHEETS (`<spiffworkflow:property name="sheet" value="发文稿纸" />`); the others print the generic 审批单.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Where a cell's content comes from.
FIELD = "field"  # a form field: `words` are titles, `names` field names
DOC_NO = "doc_no"  # the 文号 the engine allocated
SECRECY = "secrecy"  # the field marked x-secrecy, else a field found as FIELD
URGENCY = "urgency"  # the field marked x-urgency, else a field found as FIELD
INITIATOR = "initiator"  # the applicant's name
DEPARTMENT = "department"  # the applicant's department
CREATED = "created"  # the day the application was started
NODES = "nodes"  # the opinions at the nodes whose names contain one of `words`
NODES_DATE = "nodes_date"  # the day the last of those nodes was done
CIRCULATION = "circulation"  # the 传阅 readers and their 批示, plus the nodes named by `words`


@dataclass(frozen=True)
class Cell:
    label: str
    source: str
    words: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    default: str = ""
    when: str | None = None  # shown only when the sheet's variant field holds this word (请示 / 报告)


@dataclass(frozen=True)
class Sheet:
    title: str
    rows: tuple[tuple[Cell, ...], ...]  # a row of one cell spans the sheet; of two, label | value | label | value
    variant: Cell | None = None  # the field that picks the cells with `when`
    redhead: bool = False  # a 发文: it has a 红头 first page


def _field(label: str, *words: str, names: tuple[str, ...] = (), default: str = "", when=None) -> Cell:
    return Cell(label, FIELD, words or (label,), names, default, when)


TITLE = _field("标题", "标题", "文件标题", "公文标题", "文题", names=("title", "doc_title", "subject"))
SECRET = Cell("密级", SECRECY, ("密级",), ("secrecy", "secret_level"), default="非密")
MAIN_TO = _field("主送", "主送", "主送机关", "主送单位", names=("main_to", "send_to", "recipients"))
URGENT = Cell("紧急程度", URGENCY, ("紧急程度", "缓急"), ("urgency", "emergency"))

OUTGOING = Sheet(
    "发文稿纸",
    (
        (Cell("文号", DOC_NO), URGENT),
        (SECRET, _field("印发份数", "印发份数", "份数", names=("copies", "print_copies"))),
        (Cell("签发", NODES, ("签发",)),),
        (Cell("会签", NODES, ("会签",)),),
        (Cell("核稿", NODES, ("核稿",)),),
        (Cell("复核", NODES, ("复核",)),),
        (TITLE,),
        (MAIN_TO,),
        (_field("抄送", "抄送", "抄送机关", "抄送单位", names=("copy_to", "cc_to")),),
        (Cell("拟稿单位", DEPARTMENT), Cell("拟稿人", INITIATOR)),
        (Cell("拟稿日期", CREATED), Cell("印发日期", NODES_DATE, ("印发", "分发", "用印", "套红"))),
    ),
    redhead=True,
)

INCOMING = Sheet(
    "收文处理单",
    (
        (
            _field("来文机关", "来文机关", "来文单位", names=("from_org", "source_org", "sender")),
            _field("来文字号", "来文字号", "来文文号", names=("source_doc_no", "from_doc_no")),
        ),
        (
            _field("收文日期", "收文日期", names=("received_on", "received_date", "receive_date")),
            _field("份数", "份数", names=("copies",)),
        ),
        (Cell("收文编号", DOC_NO), _field("成文日期", "成文日期", names=("written_on", "doc_date"))),
        (SECRET, URGENT),
        (TITLE,),
        (Cell("拟办意见", NODES, ("拟办",)),),
        (Cell("批办意见", NODES, ("批办", "批示")),),
        (Cell("承办", NODES, ("承办", "主办", "协办")),),
        (Cell("传阅", CIRCULATION, ("传阅", "阅知", "阅办")),),
    ),
)

KIND = _field("文种", "文种", "公文种类", "类型", names=("doc_kind", "kind", "doc_type"))
REQUEST_REPORT = Sheet(
    "请示报告处理单",
    (
        (KIND, URGENT),
        (TITLE,),
        (Cell("呈报单位", DEPARTMENT), Cell("呈报人", INITIATOR)),
        (Cell("呈报日期", CREATED), Cell("文号", DOC_NO)),
        (Cell("部门意见", NODES, ("核稿", "审核", "部门")),),
        (Cell("批复", NODES, ("批复", "批示", "签批", "审批"), when="请示"),),
        (Cell("阅知", CIRCULATION, ("阅知", "阅示", "审阅", "批示", "传阅"), when="报告"),),
    ),
    variant=KIND,
)

SHEETS = {sheet.title: sheet for sheet in (OUTGOING, INCOMING, REQUEST_REPORT)}
SHEETS.update({"发文": OUTGOING, "收文": INCOMING, "请示报告": REQUEST_REPORT})
SHEET_OF_PROCESS = {"outgoing_document": OUTGOING, "incoming_document": INCOMING, "request_report": REQUEST_REPORT}


def sheet_for(process_key: str, process_properties: dict[str, str]) -> Sheet | None:
    """The process's 处理单 layout: named by its `sheet` property, else by its key; None for the generic 审批单."""
    named = (process_properties.get("sheet") or "").strip()
    return SHEETS.get(named) or SHEET_OF_PROCESS.get(process_key)


def rows_for(sheet: Sheet, variant_value: str | None) -> list[tuple[Cell, ...]]:
    """The sheet's rows for this document: cells of the other variant left out (all of them when the variant
    field is empty), rows left empty dropped."""
    rows = []
    for row in sheet.rows:
        kept = tuple(c for c in row if c.when is None or not variant_value or c.when in variant_value)
        if kept:
            rows.append(kept)
    return rows


def node_matches(cell: Cell, node_name: str | None) -> bool:
    """Whether a node's name carries one of the cell's words (部门核稿 and 办公室核稿 are both 核稿)."""
    return cell.source in (NODES, NODES_DATE, CIRCULATION) and any(w in (node_name or "") for w in cell.words)


def find_field(cell: Cell, properties: dict[str, dict], marker: str | None = None) -> str | None:
    """The form field a cell shows: the one marked `marker` (x-secrecy, x-urgency), else the one titled
    exactly one of the words (a note in brackets aside: 份数（份）), else one named one of the names, else one
    whose title contains a word."""
    if marker:
        for name, prop in properties.items():
            if prop.get(marker) is True:
                return name
    titles = {name: bare_title(prop.get("title") or "") for name, prop in properties.items()}
    for word in cell.words:
        for name, title in titles.items():
            if title == word:
                return name
    for name in cell.names:
        if name in properties:
            return name
    for word in cell.words:
        for name, title in titles.items():
            if word in title:
                return name
    return None


def bare_title(title: str) -> str:
    """A field title without a note in brackets: 合同金额（元） → 合同金额."""
    return re.sub(r"[（(][^）)]*[）)]$", "", title).strip()
