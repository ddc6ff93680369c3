"""Every file of the BPMN interoperability corpus behaves as its folder says (../shared/bpmn-corpus/README.md).

The files are discovered, not listed: a file dropped into a folder is covered without a code change.
accept/, accept-dialect/ and valid-tricky/ deploy and run to their end through engine commands; reject/
is refused with a clear message (file, and line and element where there is one) and nothing is stored.
"""

from __future__ import annotations

import io

import pytest
from corpus import bundle_for, corpus_files, corpus_root, executable_keys, start_and_drive
from sqlalchemy import select

from engine.errors import DeployFailed
from engine.process import definitions, diagram
from engine.store.tables import definition, work_item

FILES = corpus_files()
RUNNABLE = [(folder, path) for folder, path in FILES if folder != "reject"]
REJECTED = [path for folder, path in FILES if folder == "reject"]
ALTERNATIVE_PATHS = {"exclusiveGateway", "inclusiveGateway", "eventBasedGateway", "boundaryEvent"}

pytestmark = pytest.mark.skipif(
    corpus_root() is None, reason="BPMN corpus not found (expected ../shared/bpmn-corpus or /work/shared/bpmn-corpus)"
)


def _ids(items):
    return [f"{folder}/{path.name}" for folder, path in items]


def test_the_corpus_has_every_folder():
    assert {folder for folder, _ in FILES} == {"accept", "accept-dialect", "valid-tricky", "reject"}


def _deploy(core, path) -> list[dict]:
    with core.db.write() as conn:
        return definitions.deploy(conn, bundle_for(path), None)


def _completed_user_tasks(core, instance_id: int) -> set[str]:
    with core.db.read() as conn:
        rows = conn.execute(
            select(work_item.c.node_id).where(
                work_item.c.instance_id == instance_id, work_item.c.kind == "approve", work_item.c.status == "done"
            )
        )
        return {row.node_id for row in rows}


@pytest.mark.parametrize(("folder", "path"), RUNNABLE, ids=_ids(RUNNABLE))
def test_runnable_file_deploys_and_runs_to_the_end(core, folder, path):
    assert definitions.validate_files(bundle_for(path)) == []
    results = _deploy(core, path)
    keys = executable_keys(path)
    assert keys and {r["process"] for r in results} >= set(keys)
    for key in keys:
        outcomes = []
        for policy in range(3):  # a flow with a loop may need other choices to reach its end
            instance_id, status, steps = start_and_drive(core, key, policy)
            outcomes.append((status, steps))
            if status == "approved":
                break
        assert status == "approved", f"{key} did not reach its end: {outcomes}"
        with core.db.read() as conn:
            model = core.specs.from_row(definitions.latest(conn, key)).model
        user_tasks = {n.id for n in model.nodes.values() if n.type == "userTask"}
        if not {n.type for n in model.nodes.values()} & ALTERNATIVE_PATHS:
            # Every path is taken: no user task may have been skipped (the id-less-flow trap).
            assert _completed_user_tasks(core, instance_id) == user_tasks, steps


@pytest.mark.parametrize("path", REJECTED, ids=[p.name for p in REJECTED])
def test_rejected_file_is_refused_clearly_and_nothing_is_stored(core, row_counts, path):
    before = row_counts()
    with pytest.raises(DeployFailed) as caught:
        _deploy(core, path)
    problems = caught.value.problems
    assert problems
    for problem in problems:
        assert problem.file in bundle_for(path)
        assert problem.message and problem.severity == "error"
        assert str(problem).startswith(f"{problem.file}:")
        if problem.element:
            assert problem.line, problem  # an element is always located
    assert [str(p) for p in definitions.validate_files(bundle_for(path))] == [str(p) for p in problems]
    assert row_counts() == before


@pytest.mark.parametrize("path", REJECTED, ids=[p.name for p in REJECTED])
def test_rejected_file_through_the_api(api, row_counts, path):

    before = row_counts()
    files = bundle_for(path)
    response = api("admin").post(
        "/api/v1/deployments",
        data={"files": [(io.BytesIO(content), name) for name, content in files.items()]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors and all(set(e) == {"file", "line", "element", "message"} for e in errors)
    assert row_counts() == before


WITH_DI = [(folder, path) for folder, path in RUNNABLE if b"BPMNPlane" in path.read_bytes()]


@pytest.mark.parametrize(("folder", "path"), WITH_DI, ids=_ids(WITH_DI))
def test_diagram_renders_for_every_deployable_file_with_di(core, folder, path):
    _deploy(core, path)
    with core.db.read() as conn:
        for key in executable_keys(path):
            row = conn.execute(
                select(definition).where(definition.c.process_key == key).order_by(definition.c.version.desc())
            ).first()
            svg = diagram.render_svg(row.bpmn_xml, key)
            assert svg is not None and svg.startswith("<svg"), key


WITHOUT_DI = [(folder, path) for folder, path in RUNNABLE if b"BPMNPlane" not in path.read_bytes()]


@pytest.mark.parametrize(("folder", "path"), WITHOUT_DI[:3], ids=_ids(WITHOUT_DI[:3]))
def test_files_without_di_say_so(folder, path):
    for key in executable_keys(path):
        assert diagram.render_svg(path.read_bytes(), key) is None


@pytest.mark.parametrize("path", REJECTED, ids=[p.name for p in REJECTED])
def test_diagram_of_a_rejected_file_never_raises(path):
    diagram.render_svg(path.read_bytes())
