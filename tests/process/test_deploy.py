"""Deploying BPMN and form files: versioning, and every refusal names file, line and element while
storing nothing. Uploaded BPMN is untrusted input (XXE, entity bombs, code in conditions)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from support import DATA

from engine.errors import DeployFailed
from engine.process import definitions, library
from engine.store.tables import definition, event_log

PASSWD = Path("/etc/passwd")


def data_file(name: str) -> bytes:
    return (DATA / name).read_bytes()


def line_of(content: bytes, marker: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing `marker` (so tests do not hard-code line numbers)."""
    hits = [n for n, line in enumerate(content.decode("utf-8").splitlines(), start=1) if marker in line]
    return hits[occurrence - 1]


def simple_bundle() -> dict[str, bytes]:
    return {"simple.bpmn": data_file("simple.bpmn"), "simple_form.json": data_file("simple_form.json")}


def deploy(core, files: dict[str, bytes]) -> list[dict]:
    with core.db.write() as conn:
        return definitions.deploy(conn, files, None)


def refused(core, files: dict[str, bytes]) -> list[dict]:
    """Deploy through the engine; it must fail. Return the problems as dicts."""
    with pytest.raises(DeployFailed) as caught:
        deploy(core, files)
    problems = [p.as_dict() for p in caught.value.problems]
    assert problems and caught.value.status == 422
    return problems


def upload(api, files: dict[str, bytes], user: str = "admin"):
    return api(user).post(
        "/api/v1/deployments",
        data={"files": [(io.BytesIO(content), name) for name, content in files.items()]},
        content_type="multipart/form-data",
    )


def versions(core, key: str) -> list[int]:
    with core.db.read() as conn:
        rows = conn.execute(select(definition.c.version).where(definition.c.process_key == key))
        return sorted(row.version for row in rows)


# --- versions -------------------------------------------------------------------------------------


def test_redeploying_identical_files_changes_nothing(core, row_counts):
    before = row_counts()
    assert deploy(core, library.library_files()) == [
        {"process": "account_request", "name": "OA系统账号申请", "version": 1, "created": False},
        {"process": "contract_countersign", "name": "合同会签", "version": 1, "created": False},
        {"process": "expense_claim", "name": "费用报销", "version": 1, "created": False},
        {"process": "incoming_document", "name": "收文", "version": 1, "created": False},
        {"process": "leave", "name": "请假申请", "version": 1, "created": False},
        {"process": "outgoing_document", "name": "发文", "version": 1, "created": False},
        {"process": "request_report", "name": "请示报告", "version": 1, "created": False},
    ]
    assert row_counts() == before


def test_redeploying_identical_files_through_the_api(api, row_counts):
    before = row_counts()
    response = upload(api, library.library_files())
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {
        "processes": [
            {"process": "account_request", "name": "OA系统账号申请", "version": 1, "created": False},
            {"process": "contract_countersign", "name": "合同会签", "version": 1, "created": False},
            {"process": "expense_claim", "name": "费用报销", "version": 1, "created": False},
            {"process": "incoming_document", "name": "收文", "version": 1, "created": False},
            {"process": "leave", "name": "请假申请", "version": 1, "created": False},
            {"process": "outgoing_document", "name": "发文", "version": 1, "created": False},
            {"process": "request_report", "name": "请示报告", "version": 1, "created": False},
        ]
    }
    assert row_counts() == before


def test_new_process_then_identical_redeploy(core, row_counts):
    first = deploy(core, simple_bundle())
    assert [(r["process"], r["version"], r["created"]) for r in first] == [("simple", 1, True)]
    counts = row_counts()
    assert [(r["process"], r["version"], r["created"]) for r in deploy(core, simple_bundle())] == [("simple", 1, False)]
    assert row_counts() == counts
    assert versions(core, "simple") == [1]


def test_changed_bpmn_is_version_two_and_running_instances_keep_version_one(api, leave, core):
    running = leave.start(days=5)["id"]

    # Version 2 sends everything up to 30 days to the department leader only.
    changed = library.library_files()["leave.bpmn"].replace(b"days &gt; 3", b"days &gt; 30")
    response = upload(api, {"leave.bpmn": changed})  # the forms come from version 1
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["processes"][0]["version"] == 2
    assert response.get_json()["processes"][0]["created"] is True
    assert versions(core, "leave") == [1, 2]
    assert api("zhangsan").get("/api/v1/processes/leave").get_json()["version"] == 2

    newer = leave.start(days=5)
    assert newer["version"] == 2
    assert leave.detail(running)["version"] == 1

    # The running instance still follows version 1: 5 days need the 分管领导.
    leave.decide("sunli", running)
    assert [w["assignee"] for w in leave.open_items(running)] == ["huangwei"]
    assert leave.detail(running)["version"] == 1
    # The new one follows version 2.
    assert leave.decide("sunli", newer["id"])["status"] == "approved"

    # Deploying version 2 again is a no-op.
    again = upload(api, {"leave.bpmn": changed}).get_json()["processes"][0]
    assert (again["version"], again["created"]) == (2, False)


def test_changed_form_is_a_new_version(api, leave, core):
    running = leave.start()["id"]
    files = library.library_files()
    form = files["leave_apply.json"].replace('"调休"'.encode(), '"调休", "探亲假"'.encode())
    result = deploy(core, {"leave.bpmn": files["leave.bpmn"], "leave_apply.json": form})
    assert [(r["version"], r["created"]) for r in result] == [(2, True)]
    assert leave.start(leave_type="探亲假")["version"] == 2
    assert leave.detail(running)["version"] == 1


def test_deploy_is_recorded_in_the_audit_log(api, core):

    assert upload(api, simple_bundle()).status_code == 201
    with core.db.read() as conn:
        messages = [row.message for row in conn.execute(select(event_log).where(event_log.c.type == "deployed"))]
    assert "部署流程 简单审批（simple）第 1 版" in messages


def test_deployed_process_runs(api, core):
    assert upload(api, simple_bundle()).status_code == 201
    started = api("zhangsan").post(
        "/api/v1/instances", json={"process": "simple", "data": {"subject": "采购打印机", "amount": 5000}}
    )
    assert started.status_code == 201, started.get_json()
    assert [w["assignee"] for w in started.get_json()["work_items"]] == ["sunli"]


# --- refusals -------------------------------------------------------------------------------------


def test_xxe_external_entity_is_refused_and_never_resolved(api, core, row_counts):
    content = data_file("xxe.bpmn")
    secret = PASSWD.read_text().splitlines()[0]
    before = row_counts()

    problems = refused(core, {"xxe.bpmn": content})
    assert [(p["file"], p["line"], p["element"]) for p in problems] == [("xxe.bpmn", 1, None)]
    assert "DOCTYPE" in problems[0]["message"]

    response = upload(api, {"xxe.bpmn": content})
    assert response.status_code == 422
    assert response.get_json()["errors"] == problems
    assert secret not in response.get_data(as_text=True)
    assert "root:" not in response.get_data(as_text=True)
    assert definitions.validate_files({"xxe.bpmn": content})[0].as_dict() == problems[0]
    assert row_counts() == before


@pytest.mark.parametrize(
    "variant",
    [
        # the entity in an attribute value
        lambda c: c.replace(b'name="\xe5\xa4\x96\xe9\x83\xa8\xe5\xae\x9e\xe4\xbd\x93"', b'name="&xxe;"'),
        # a parameter entity: would be fetched while reading the DTD itself
        lambda c: c.replace(
            b'<!ENTITY xxe SYSTEM "file:///etc/passwd">', b'<!ENTITY % ext SYSTEM "file:///etc/passwd"> %ext;'
        ),
        # a DOCTYPE that names some other root element
        lambda c: c.replace(b"<!DOCTYPE bpmn:definitions [", b"<!DOCTYPE x ["),
    ],
    ids=["attribute", "parameter-entity", "other-doctype"],
)
def test_xxe_variants_are_refused(api, core, row_counts, variant):
    content = variant(data_file("xxe.bpmn"))
    assert content != data_file("xxe.bpmn")
    before = row_counts()
    problems = refused(core, {"xxe.bpmn": content})
    assert all(p["file"] == "xxe.bpmn" and p["line"] for p in problems)
    response = upload(api, {"xxe.bpmn": content})
    assert response.status_code == 422
    assert PASSWD.read_text().splitlines()[0] not in response.get_data(as_text=True)
    assert row_counts() == before


def test_billion_laughs_is_refused_quickly(api, core, row_counts):
    content = data_file("billion_laughs.bpmn")
    before = row_counts()
    started = time.monotonic()
    problems = refused(core, {"lol.bpmn": content})
    response = upload(api, {"lol.bpmn": content})
    assert time.monotonic() - started < 5
    assert response.status_code == 422
    assert len(response.get_data()) < 10_000
    assert [p["file"] for p in problems] == ["lol.bpmn"]
    # libxml2 stops the expansion where the entity is used; a parser that leaves it unexpanded stops at
    # the DOCTYPE instead. Either way the file is refused with a line.
    assert problems[0]["line"] in {line_of(content, "&lol9;"), 1}
    assert row_counts() == before


# file, problems as (line marker or number, element, words the message must contain)
REFUSALS = {
    "malformed.bpmn": [("</bpmn:process>", None, "XML 格式错误")],
    "missing_form.bpmn": [('id="Task_fill"', "Task_fill", "no_such_form")],
    "unsafe_condition.bpmn": [
        ("__import__", "Flow_import", "条件表达式不安全"),
        ("__subclasses__", "Flow_subclasses", "条件表达式不安全"),
    ],
    "script_task.bpmn": [('id="Task_script"', "Task_script", "import os")],
    "unknown_assignee.bpmn": [('id="Task_boss"', "Task_boss", "boss:1")],
    "duplicate_ids.bpmn": [(('id="Task_a"', 2), "Task_a", "id 重复")],
    "not_bpmn.bpmn": [("<html", "html", "不是 BPMN 2.0 文档")],
}


def expected_problems(name: str) -> list[tuple]:
    content = data_file(name)
    result = []
    for marker, element, words in REFUSALS[name]:
        marker, occurrence = marker if isinstance(marker, tuple) else (marker, 1)
        result.append((name, line_of(content, marker, occurrence), element, words))
    return result


def as_tuples(problems: list[dict]) -> list[tuple]:
    return [(p["file"], p["line"], p["element"]) for p in problems]


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refused_through_the_engine_with_file_line_and_element(core, row_counts, name):
    before = row_counts()
    problems = refused(core, {name: data_file(name), **simple_bundle()})
    expected = expected_problems(name)
    assert as_tuples(problems) == [e[:3] for e in expected]
    for problem, (*_, words) in zip(problems, expected, strict=True):
        assert words in problem["message"]
    # Nothing of the upload is stored, not even the good process that came with it.
    assert row_counts() == before
    assert versions(core, "simple") == []


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refused_through_the_api_with_file_line_and_element(api, row_counts, name):
    before = row_counts()
    response = upload(api, {name: data_file(name)})
    assert response.status_code == 422
    body = response.get_json()
    assert name in body["error"]
    assert [(e["file"], e["line"], e["element"]) for e in body["errors"]] == [e[:3] for e in expected_problems(name)]
    assert all(set(e) == {"file", "line", "element", "message"} for e in body["errors"])
    assert row_counts() == before


def test_flow_without_id_gets_a_stable_generated_id_and_runs(core):
    """SpiffWorkflow would drop the id-less flow and "complete" without running anything: oaflow names it."""
    content = data_file("flow_without_id.bpmn")
    bundle = definitions.read_bundle({"flow_without_id.bpmn": content})
    assert bundle.problems == []
    assert [(w.line, w.element, w.severity) for w in bundle.warnings] == [
        (line_of(content, "<bpmn:sequenceFlow "), "Flow_StartEvent_1_EndEvent_1", "warning")
    ]
    assert "顺序流（StartEvent_1 → EndEvent_1）缺少 id" in bundle.warnings[0].message
    assert 'id="Flow_StartEvent_1_EndEvent_1"' in bundle.texts["flow_without_id.bpmn"]
    assert [r["version"] for r in deploy(core, {"flow_without_id.bpmn": content})] == [1]
    assert deploy(core, {"flow_without_id.bpmn": content})[0]["created"] is False  # the generated id is stable


def test_reserved_ids_are_renamed_with_every_reference(core):
    content = data_file("reserved_ids.bpmn")
    bundle = definitions.read_bundle({"reserved_ids.bpmn": content})
    assert bundle.problems == []
    assert [(w.line, w.element) for w in bundle.warnings] == [
        (line_of(content, 'id="Start"'), "Start_1"),
        (line_of(content, 'id="End"'), "End_1"),
    ]
    stored = bundle.texts["reserved_ids.bpmn"]
    assert 'sourceRef="Start_1" targetRef="End_1"' in stored and 'id="Start"' not in stored
    assert set(bundle.models[0].nodes) == {"Start_1", "End_1"}


def test_missing_form_is_fine_once_the_form_is_uploaded(core):
    form = b'{"type": "object", "properties": {"note": {"type": "string"}}}'
    result = deploy(core, {"missing_form.bpmn": data_file("missing_form.bpmn"), "no_such_form.json": form})
    assert [(r["process"], r["version"], r["created"]) for r in result] == [("missing_form", 1, True)]


def test_missing_start_form_is_refused(core, row_counts):
    before = row_counts()
    content = data_file("simple.bpmn")
    problems = refused(core, {"simple.bpmn": content})
    assert as_tuples(problems) == [
        ("simple.bpmn", line_of(content, 'id="StartEvent_1"'), "StartEvent_1"),
        ("simple.bpmn", line_of(content, 'id="simple"'), "simple"),
    ]
    assert row_counts() == before


def oversized_bpmn() -> bytes:
    padding = "<!-- " + "x" * (2 * 1024 * 1024) + " -->\n"
    return data_file("simple.bpmn").replace(b"</bpmn:definitions>", padding.encode() + b"</bpmn:definitions>")


def test_file_over_two_megabytes_is_refused(api, core, row_counts):
    content = oversized_bpmn()
    assert len(content) > 2 * 1024 * 1024
    before = row_counts()
    problems = refused(core, {"simple.bpmn": content, "simple_form.json": data_file("simple_form.json")})
    assert [(p["file"], p["element"]) for p in problems] == [("simple.bpmn", None)]
    assert "2 MB" in problems[0]["message"]
    response = upload(api, {"simple.bpmn": content, "simple_form.json": data_file("simple_form.json")})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["file"] == "simple.bpmn"
    assert row_counts() == before


def test_form_over_two_megabytes_is_refused(core, row_counts):
    form = b'{"type": "object", "description": "' + b"x" * (2 * 1024 * 1024) + b'", "properties": {}}'
    before = row_counts()
    problems = refused(core, {"simple.bpmn": data_file("simple.bpmn"), "simple_form.json": form})
    assert problems[0]["file"] == "simple_form.json" and "2 MB" in problems[0]["message"]
    assert row_counts() == before


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({"notes.txt": b"hello"}, "不支持的文件类型"),
        ({"simple_form.json": b'{"type": "object", "properties": '}, "不是有效的 JSON"),
        ({"simple_form.json": b'{"type": "array"}'}, "type 必须是 object"),
    ],
    ids=["wrong-type", "broken-json-form", "bad-schema"],
)
def test_other_bad_files_are_refused(core, row_counts, files, words):
    before = row_counts()
    bundle = {"simple.bpmn": data_file("simple.bpmn"), **files}
    problems = refused(core, bundle)
    assert any(words in p["message"] and p["file"] == next(iter(files)) for p in problems), problems
    assert row_counts() == before


def test_empty_upload_is_refused(api, row_counts):
    before = row_counts()
    response = api("admin").post("/api/v1/deployments", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "没有上传任何文件" in response.get_json()["errors"][0]["message"]
    assert row_counts() == before


# --- validate (what `oaflow validate` prints) --------------------------------------------------------


def test_validate_files_reports_problems_with_lines():
    content = data_file("unsafe_condition.bpmn")
    problems = definitions.validate_files({"unsafe_condition.bpmn": content})
    assert [(p.file, p.line, p.element) for p in problems] == [
        ("unsafe_condition.bpmn", line_of(content, "__import__"), "Flow_import"),
        ("unsafe_condition.bpmn", line_of(content, "__subclasses__"), "Flow_subclasses"),
    ]
    assert str(problems[0]).startswith(f"unsafe_condition.bpmn:{line_of(content, '__import__')}: Flow_import: ")


def test_validate_files_collects_problems_of_every_file():
    names = ("unknown_assignee.bpmn", "missing_form.bpmn", "script_task.bpmn")
    problems = definitions.validate_files({name: data_file(name) for name in names})
    assert sorted((p.file, p.element) for p in problems) == [
        ("missing_form.bpmn", "Task_fill"),
        ("script_task.bpmn", "Task_script"),
        ("unknown_assignee.bpmn", "Task_boss"),
    ]
    assert all(p.line for p in problems)
    structural = ("not_bpmn.bpmn", "duplicate_ids.bpmn", "malformed.bpmn")
    problems = definitions.validate_files({name: data_file(name) for name in structural})
    assert sorted({p.file for p in problems}) == sorted(structural)


def test_validate_files_accepts_the_library_and_the_test_bundle():
    assert definitions.validate_files(library.library_files()) == []
    assert definitions.validate_files(simple_bundle()) == []
