"""engine.diagram: server-side SVG of a BPMN diagram from its DI (流程图)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lxml import etree

from engine.process.bpmn import ProblemError, parse_xml
from engine.process.diagram import render_svg

REPO = Path(__file__).resolve().parents[2]
LEAVE = (REPO / "bpmn" / "leave.bpmn").read_bytes()
SVG = "{http://www.w3.org/2000/svg}"
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"


def _corpus() -> Path | None:
    beside_repo = Path(__file__).resolve().parents[3] / "shared" / "bpmn-corpus"
    for candidate in (beside_repo, Path("/work/shared/bpmn-corpus")):
        if candidate.is_dir():
            return candidate
    return None


CORPUS = _corpus()
CORPUS_FILES = sorted(
    p for p in (CORPUS.rglob("*") if CORPUS else []) if p.is_file() and p.name.endswith((".bpmn", ".xml"))
)


def _svg(text: str | None) -> etree._Element:
    assert text is not None
    root = etree.fromstring(text.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    return root


def _group(root: etree._Element, element_id: str) -> etree._Element:
    found = root.xpath("//svg:g[@data-id=$id]", namespaces={"svg": SVG[1:-1]}, id=element_id)
    assert found, f"no group for {element_id}"
    return found[0]


def _classes(el: etree._Element) -> set[str]:
    return set((el.get("class") or "").split())


def _shape_groups(root: etree._Element) -> list[etree._Element]:
    return [g for g in root.iter(f"{SVG}g") if "shape" in _classes(g)]


def _texts(el: etree._Element) -> str:
    return "".join(el.itertext())


def _doc(process: str, shapes: str, edges: str = "", collaboration: str = "", plane_ref: str = "P1") -> bytes:
    """A small BPMN file; shapes/edges go in the one plane."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="D1" targetNamespace="x">
  {collaboration}
  <bpmn:process id="P1" isExecutable="true">{process}</bpmn:process>
  <bpmndi:BPMNDiagram id="Dia1"><bpmndi:BPMNPlane id="Plane1" bpmnElement="{plane_ref}">
    {shapes}{edges}
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>""".encode()


def _shape(ref: str, x: float, y: float, w: float = 100, h: float = 80, extra: str = "") -> str:
    return (
        f'<bpmndi:BPMNShape id="{ref}_di" bpmnElement="{ref}" {extra}>'
        f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/></bpmndi:BPMNShape>'
    )


def _edge(ref: str, *points: tuple[float, float]) -> str:
    waypoints = "".join(f'<di:waypoint x="{x}" y="{y}"/>' for x, y in points)
    return f'<bpmndi:BPMNEdge id="{ref}_di" bpmnElement="{ref}">{waypoints}</bpmndi:BPMNEdge>'


# ---------------------------------------------------------------- our own process


def test_leave_renders_names_states_and_caption():
    text = render_svg(
        LEAVE,
        "leave",
        done={"StartEvent_apply", "Task_dept_leader", "Gateway_over3"},
        current={"Task_vp"},
        labels={"Task_vp": "孙丽"},
    )
    root = _svg(text)
    assert root.get("role") == "img" and root.get("aria-label") == "流程图" and root.get("width") == "100%"
    style = root.find(f"{SVG}style").text
    assert '"PingFang SC"' in style and '"Microsoft YaHei"' in style and '"Noto Sans CJK SC"' in style
    visible = "".join(_texts(t) for t in root.iter(f"{SVG}text"))
    for name in ("部门负责人审批", "分管领导审批", "总经理审批", "知会人事部", "提交申请", "已通过", "超过 3 天？"):
        assert name in visible
    assert "done" in _classes(_group(root, "Task_dept_leader"))
    assert "done" in _classes(_group(root, "StartEvent_apply"))
    assert "current" in _classes(_group(root, "Task_vp"))
    assert not _classes(_group(root, "Task_gm")) & {"done", "current"}
    # An edge is coloured only when both of its ends are done.
    assert "done" in _classes(_group(root, "Flow_to_gw3"))
    assert "done" not in _classes(_group(root, "Flow_gt3"))
    captions = [g for g in root.iter(f"{SVG}g") if "caption" in _classes(g)]
    assert len(captions) == 1 and _texts(captions[0]) == "孙丽" and "current" in _classes(captions[0])


def test_leave_task_names_are_drawn_whole_inside_their_boxes():
    root = _svg(render_svg(LEAVE, "leave"))
    for task_id, name in (
        ("Task_dept_leader", "部门负责人审批"),
        ("Task_vp", "分管领导审批"),
        ("Task_gm", "总经理审批"),
    ):
        text = _group(root, task_id).find(f"{SVG}text")
        assert "".join(text.itertext()) == name


def test_first_plane_is_used_without_a_process_key_and_str_input_works():
    assert render_svg(LEAVE) == render_svg(LEAVE.decode("utf-8"), "leave")


def test_viewbox_covers_every_shape_with_a_margin():
    root = _svg(render_svg(LEAVE, "leave"))
    x, y, w, h = map(float, root.get("viewBox").split())
    # leave.bpmn spans x 82..1148 and y 80..290 (plus the labels under the events).
    assert x <= 82 - 20 and y <= 80 - 20 and x + w >= 1148 + 20 and y + h >= 290 + 20


def test_leave_renders_quickly():
    render_svg(LEAVE, "leave")
    start = time.perf_counter()
    for _ in range(20):
        render_svg(LEAVE, "leave", done={"StartEvent_apply"}, current={"Task_dept_leader"})
    assert (time.perf_counter() - start) / 20 < 0.05


def test_fifty_element_diagram_renders_in_a_few_milliseconds():
    tasks = "".join(f'<bpmn:userTask id="T{i}" name="审批步骤{i}"/>' for i in range(25))
    flows = "".join(f'<bpmn:sequenceFlow id="F{i}" sourceRef="T{i}" targetRef="T{i + 1}"/>' for i in range(24))
    shapes = "".join(_shape(f"T{i}", 150 * i, 0) for i in range(25))
    edges = "".join(_edge(f"F{i}", (150 * i + 100, 40), (150 * i + 150, 40)) for i in range(24))
    doc = _doc(tasks + flows, shapes, edges)
    render_svg(doc)
    start = time.perf_counter()
    for _ in range(10):
        assert render_svg(doc, "P1", done={f"T{i}" for i in range(10)}) is not None
    assert (time.perf_counter() - start) / 10 < 0.03


# ---------------------------------------------------------------- no diagram, bad input


def test_file_without_di_returns_none():
    doc = b"""<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
      <process id="p"><startEvent id="s"/></process></definitions>"""
    assert render_svg(doc) is None
    assert render_svg(doc, "p") is None


def test_malformed_or_hostile_xml_returns_none():
    assert render_svg(b"<definitions><process") is None
    assert render_svg(b"") is None
    xxe = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>
      <definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&e;</definitions>"""
    assert render_svg(xxe) is None
    assert render_svg(b"<a>" + b" " * (3 * 1024 * 1024) + b"</a>") is None


def test_unknown_process_key_returns_none():
    assert render_svg(LEAVE, "no_such_process") is None


def test_hostile_names_are_escaped():
    evil = "<script>alert(1)</script>"
    doc = _doc(
        f'<bpmn:userTask id="T1" name="{evil.replace("<", "&lt;")}"/>'
        f'<bpmn:startEvent id="S1" name="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"/>'
        '<bpmn:sequenceFlow id="F1" name="&lt;b&gt;x&lt;/b&gt;" sourceRef="S1" targetRef="T1"/>',
        _shape("T1", 100, 0) + _shape("S1", 0, 22, 36, 36),
        _edge("F1", (36, 40), (100, 40)),
    )
    text = render_svg(doc, labels={"T1": "</text><script>alert(2)</script>"})
    root = _svg(text)
    assert "<script" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;" in text
    assert not list(root.iter(f"{SVG}script"))
    assert evil in _texts(root)  # shown to the reader as text, literally


def test_bad_coordinates_are_skipped_not_fatal():
    doc = _doc(
        '<bpmn:task id="T1" name="ok"/><bpmn:task id="T2" name="nan"/><bpmn:task id="T3" name="no bounds"/>',
        _shape("T1", 0, 0) + _shape("T2", "NaN", 0) + '<bpmndi:BPMNShape id="x" bpmnElement="T3"/>',
        _edge("F9", ("inf", 0), (10, 10)),
    )
    root = _svg(render_svg(doc))
    assert [g.get("data-id") for g in _shape_groups(root)] == ["T1"]
    assert "nan" not in root.get("viewBox").lower() and "inf" not in root.get("viewBox").lower()


def test_empty_plane_returns_none():
    assert render_svg(_doc('<bpmn:task id="T1"/>', "")) is None


def test_text_input_ignores_its_encoding_declaration():
    doc = _doc('<bpmn:task id="T1" name="报销"/>', _shape("T1", 0, 0)).decode("utf-8")
    doc = doc.replace('encoding="UTF-8"', 'encoding="GBK"')
    assert "报销" in render_svg(doc)


def test_huge_names_stay_cheap_and_bounded():
    doc = _doc(f'<bpmn:task id="T1" name="{"a" * 1_000_000}"/>', _shape("T1", 0, 0))
    start = time.perf_counter()
    text = render_svg(doc)
    assert time.perf_counter() - start < 1
    assert len(text) < 20_000


def test_current_wins_over_done():
    root = _svg(render_svg(LEAVE, "leave", done={"Task_vp"}, current={"Task_vp"}))
    assert {"current"} == _classes(_group(root, "Task_vp")) & {"done", "current"}


# ---------------------------------------------------------------- geometry and notation


def test_gateway_label_moves_above_when_a_flow_leaves_from_below():
    # In leave.bpmn the "否" flow leaves 超过 3 天？ (y 155..205) from its bottom corner.
    root = _svg(render_svg(LEAVE, "leave"))
    labels = [t for t in root.iter(f"{SVG}text") if _texts(t) == "超过 3 天？"]
    assert len(labels) == 1
    assert float(labels[0].find(f"{SVG}tspan").get("y")) < 155


def test_caption_goes_under_the_node_or_on_its_border_when_crowded():
    doc = _doc(
        '<bpmn:userTask id="A"/><bpmn:userTask id="B"/><bpmn:userTask id="C"/>',
        _shape("A", 0, 0) + _shape("B", 0, 95) + _shape("C", 300, 0),
    )
    root = _svg(render_svg(doc, labels={"A": "孙丽", "C": "王强"}))
    pills = {_texts(g): g.find(f"{SVG}rect") for g in root.iter(f"{SVG}g") if "caption" in _classes(g)}
    assert float(pills["王强"].get("y")) > 80  # free space below C
    assert float(pills["孙丽"].get("y")) < 80 < float(pills["孙丽"].get("y")) + float(pills["孙丽"].get("height"))


def test_containers_are_painted_parent_first_whatever_the_file_order():
    collaboration = '<bpmn:collaboration id="C1"><bpmn:participant id="PA" processRef="P1"/></bpmn:collaboration>'
    process = (
        '<bpmn:laneSet><bpmn:lane id="L1"/></bpmn:laneSet><bpmn:subProcess id="Inner"/><bpmn:subProcess id="Outer"/>'
    )
    shapes = (
        _shape("L1", 30, 0, 570, 300)
        + _shape("Inner", 100, 50, 100, 60, 'isExpanded="true"')
        + _shape("Outer", 80, 30, 300, 200, 'isExpanded="true"')
        + _shape("PA", 0, 0, 600, 300)
    )
    root = _svg(render_svg(_doc(process, shapes, collaboration=collaboration, plane_ref="C1")))
    assert [g.get("data-id") for g in _shape_groups(root)] == ["PA", "L1", "Outer", "Inner"]


def test_negative_coordinates_widen_the_viewbox():
    doc = _doc('<bpmn:task id="T1" name="负坐标"/>', _shape("T1", -300, -200))
    x, y, w, h = map(float, _svg(render_svg(doc)).get("viewBox").split())
    assert x == -320 and y == -220 and w == 140 and h == 120


def test_cjk_names_wrap_per_character_and_latin_names_at_spaces():
    doc = _doc(
        '<bpmn:task id="T1" name="一二三四五六七八九十甲乙"/><bpmn:task id="T2" name="Approve the travel expenses"/>',
        _shape("T1", 0, 0) + _shape("T2", 200, 0),
    )
    root = _svg(render_svg(doc))
    cjk = [t.text for t in _group(root, "T1").iter(f"{SVG}tspan")]
    assert len(cjk) == 2 and "".join(cjk) == "一二三四五六七八九十甲乙"
    latin = [t.text for t in _group(root, "T2").iter(f"{SVG}tspan")]
    assert len(latin) > 1 and " ".join(latin) == "Approve the travel expenses"


def test_overlong_names_are_cut_with_an_ellipsis():
    doc = _doc(f'<bpmn:task id="T1" name="{"长" * 500}"/>', _shape("T1", 0, 0))
    lines = [t.text for t in _group(_svg(render_svg(doc)), "T1").iter(f"{SVG}tspan")]
    assert len(lines) == 4 and lines[-1].endswith("…")


def test_shapes_are_drawn_by_type():
    process = (
        '<bpmn:startEvent id="S"/><bpmn:endEvent id="E"/>'
        '<bpmn:intermediateCatchEvent id="I"><bpmn:timerEventDefinition/></bpmn:intermediateCatchEvent>'
        '<bpmn:exclusiveGateway id="GX"/><bpmn:parallelGateway id="GP"/><bpmn:inclusiveGateway id="GI"/>'
        '<bpmn:serviceTask id="ST"/><bpmn:subProcess id="SP"><bpmn:task id="IN"/></bpmn:subProcess>'
    )
    shapes = (
        _shape("S", 0, 0, 36, 36)
        + _shape("E", 50, 0, 36, 36)
        + _shape("I", 100, 0, 36, 36)
        + _shape("GX", 0, 100, 50, 50)
        + _shape("GP", 60, 100, 50, 50)
        + _shape("GI", 120, 100, 50, 50)
        + _shape("ST", 0, 200)
        + _shape("SP", 200, 200, 300, 200, 'isExpanded="true"')
        + _shape("IN", 250, 250)
    )
    root = _svg(render_svg(_doc(process, shapes)))

    def count(element_id: str, tag: str) -> int:
        return len(_group(root, element_id).findall(f"{SVG}{tag}"))

    assert count("S", "circle") == 1 and count("E", "circle") == 1
    assert "thick" in _group(root, "E").find(f"{SVG}circle").get("class")
    assert count("I", "circle") >= 3  # double ring and the clock face
    assert count("GX", "line") == 2 and count("GP", "line") == 2 and count("GI", "circle") == 1
    assert count("ST", "rect") == 1 and count("ST", "circle") == 3  # box and the gear
    assert "subprocess" in _classes(_group(root, "SP"))
    assert "activity" in _classes(_group(root, "IN"))
    # The expanded subprocess sits under its content.
    groups = [g.get("data-id") for g in _shape_groups(root)]
    assert groups.index("SP") < groups.index("IN")


def test_flows_have_arrowheads_and_message_flows_are_dashed():
    collaboration = (
        '<bpmn:collaboration id="C1"><bpmn:participant id="PA" name="申请人" processRef="P1"/>'
        '<bpmn:participant id="PB" name="外部系统"/>'
        '<bpmn:messageFlow id="M1" name="通知" sourceRef="T2" targetRef="PB"/></bpmn:collaboration>'
    )
    process = (
        '<bpmn:laneSet><bpmn:lane id="L1" name="人事部"/></bpmn:laneSet>'
        '<bpmn:task id="T1"/><bpmn:task id="T2"/>'
        '<bpmn:sequenceFlow id="F1" name="同意" sourceRef="T1" targetRef="T2"/>'
    )
    shapes = (
        _shape("PA", 0, 0, 600, 200, 'isHorizontal="true"')
        + _shape("L1", 30, 0, 570, 200)
        + _shape("PB", 0, 300, 600, 60)
        + _shape("T1", 100, 60)
        + _shape("T2", 300, 60)
    )
    edges = _edge("F1", (200, 100), (300, 100)) + _edge("M1", (350, 140), (350, 300))
    doc = _doc(process, shapes, edges, collaboration, plane_ref="C1")
    root = _svg(render_svg(doc, "P1"))
    assert render_svg(doc) == render_svg(doc, "P1")  # the collaboration's plane is the process's
    flow = _group(root, "F1")
    assert flow.find(f"{SVG}polygon") is not None and "同意" in _texts(root)
    message = _group(root, "M1")
    assert "dashed" in message.find(f"{SVG}polyline").get("class")
    assert {"pool", "lane"} <= {c for g in _shape_groups(root) for c in _classes(g)}
    assert "申请人" in _texts(_group(root, "PA")) and "人事部" in _texts(_group(root, "L1"))


def test_plane_without_bpmn_element_is_found_by_its_shapes():
    doc = _doc('<bpmn:task id="T1" name="x"/>', _shape("T1", 0, 0), plane_ref="")
    assert render_svg(doc, "P1") is not None


# ---------------------------------------------------------------- the shared corpus


def _expected_shapes(content: bytes) -> list[str] | None:
    """bpmnElement of each BPMNShape (with bounds) in the first plane; None when the file is refused."""
    try:
        root = parse_xml(content, "corpus.bpmn").getroot()
    except ProblemError:
        return None
    plane = next(root.iter(f"{BPMNDI}BPMNPlane"), None)
    if plane is None:
        return []
    shapes = plane.iter(f"{BPMNDI}BPMNShape")
    return [s.get("bpmnElement") or "" for s in shapes if s.find(f"{DC}Bounds") is not None]


@pytest.mark.skipif(CORPUS is None, reason="shared BPMN corpus (../shared/bpmn-corpus) is not present")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_file_renders_a_shape_for_each_di_shape(path: Path):
    content = path.read_bytes()
    expected = _expected_shapes(content)
    text = render_svg(content)
    if not expected:  # refused by the safe parser, or no diagram interchange at all
        assert text is None
        return
    root = _svg(text)
    drawn = [g.get("data-id") for g in _shape_groups(root)]
    assert sorted(drawn) == sorted(expected)
    # State styling must not break anything either.
    assert render_svg(content, done=set(expected[: len(expected) // 2]), current=set(expected[-1:])) is not None


def test_corpus_is_found_or_skipped_cleanly():
    if CORPUS is None:
        pytest.skip("shared BPMN corpus (../shared/bpmn-corpus) is not present")
    assert CORPUS_FILES, f"no BPMN files under {CORPUS}"
