"""Fuzz the deployment API with mutated BPMN: the shipped library, the test data and (read in place, when it is
there) the interoperability corpus, each with attributes and texts replaced by hostile values, elements
dropped or duplicated, bytes cut or garbled. Validation and deployment answer 2xx or a 4xx JSON report —
never a 5xx, never a hang."""

from __future__ import annotations

import copy
import io
import sys
from pathlib import Path

import pytest
from fuzzing import EXAMPLES, FUZZ, SPECIAL_TEXT, check_answer, time_limit
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from support import DATA

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "process"))
from corpus import corpus_root  # noqa: E402  (the corpus' location, shared with tests/process)

ROOT = Path(__file__).resolve().parents[2]
FORMS = {path.name: path.read_bytes() for path in sorted((ROOT / "forms").glob("*.json"))}
TEXTS = [
    *SPECIAL_TEXT[:20],
    "R/PT0S",
    "R-1/PT1S",
    "PT-5M",
    "P99999999Y",
    "R99999999999/PT1S",
    "2026-13-45T25:61:00",
    "${" * 50,
    "1 if 1 else 0",
    "[1]*10**9",
    "x" * 5000,
]
TEXTS = [t for t in TEXTS if t.isprintable() or not t]  # what an XML document can hold (no NUL, no surrogate)
MAX_SOURCE_BYTES = 60_000  # small files only: the point is the mutations, not the size


def sources() -> dict[str, bytes]:
    files = [*sorted((ROOT / "bpmn").glob("*.bpmn")), *sorted(DATA.glob("*.bpmn"))]
    corpus = corpus_root()
    if corpus is not None:
        files += sorted(p for p in corpus.rglob("*") if p.suffix in {".bpmn", ".xml"} and p.is_file())
    return {f"{p.parent.name}/{p.name}": p.read_bytes() for p in files if p.stat().st_size <= MAX_SOURCE_BYTES}


SOURCES = sources()


def _mutate_tree(data: bytes, draw) -> bytes:
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return data
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    for _ in range(draw(st.integers(1, 4))):
        element = elements[draw(st.integers(0, len(elements) - 1))]
        action = draw(st.sampled_from(["attribute", "text", "drop", "copy", "children"]))
        if action == "attribute" and element.attrib:
            name = draw(st.sampled_from(sorted(element.attrib)))
            element.set(name, draw(st.sampled_from(TEXTS)))
        elif action == "text":
            element.text = draw(st.sampled_from(TEXTS))
        elif action == "drop" and element.getparent() is not None:
            element.getparent().remove(element)
            elements = [e for e in root.iter() if isinstance(e.tag, str)]
        elif action == "copy" and element.getparent() is not None:
            element.getparent().append(copy.deepcopy(element))
        elif action == "children":
            for child in list(element)[: draw(st.integers(0, 3))]:
                element.remove(child)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@st.composite
def mutated_bpmn(draw, data: bytes) -> bytes:
    data = _mutate_tree(data, draw) if draw(st.integers(0, 4)) else data
    how = draw(st.integers(0, 5))
    if how == 0:  # cut short
        return data[: draw(st.integers(0, len(data)))]
    if how == 1:  # garbled bytes
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    return data


@pytest.mark.skipif(not SOURCES, reason="no BPMN sources")
def test_fuzz_bpmn_sources_include_the_library():
    assert {"bpmn/leave.bpmn", "bpmn/contract_countersign.bpmn"} <= set(SOURCES)


def test_fuzz_bpmn_validate_and_deploy(api):
    admin = api("admin")
    names = sorted(SOURCES)

    @settings(FUZZ, max_examples=EXAMPLES * 6)
    @given(name=st.sampled_from(names), data=st.data(), deploy=st.integers(0, 3))
    def one(name, data, deploy):
        bpmn = data.draw(mutated_bpmn(SOURCES[name]))
        files = [(io.BytesIO(bpmn), Path(name).name)] + [(io.BytesIO(b), n) for n, b in FORMS.items()]
        path = "/api/v1/deployments" if deploy == 0 else "/api/v1/deployments/validate"
        with time_limit():
            response = admin.client.post(
                path, data={"files": files}, content_type="multipart/form-data", headers=admin.headers
            )
        check_answer(response, (path, name, bpmn[:200]))

    one()
