"""Deploy-time validation beyond SpiffWorkflow's own checks, and the Camunda/Flowable dialect.

Each case is a small BPMN file written here, so the line an error names can be checked exactly."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from support import DATA

from engine.process import bpmn, definitions, dialect, library
from engine.process.expressions import ExpressionError, compile_expression, evaluate
from engine.process.model import read_models
from webapp.cli import main

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
             xmlns:flowable="http://flowable.org/bpmn"
             xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
             id="defs" targetNamespace="https://oaflow.example/tests">
"""


def bpmn_file(body: str, key: str = "p") -> bytes:
    return (HEAD + f'  <process id="{key}" isExecutable="true">\n' + body + "  </process>\n</definitions>\n").encode()


def line(content: bytes, marker: str) -> int:
    return next(n for n, text in enumerate(content.decode().splitlines(), start=1) if marker in text)


def check(content: bytes, name: str = "t.bpmn", org=None) -> definitions.Bundle:
    return definitions.read_bundle({name: content}, org=org)


def where(problems) -> list[tuple]:
    return [(p.line, p.element) for p in problems]


SIMPLE = """    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="t" />
    <userTask id="t" name="审批" />
    <sequenceFlow id="f2" sourceRef="t" targetRef="e" />
    <endEvent id="e" />
"""


def test_a_plain_camunda_file_is_clean():
    bundle = check(bpmn_file(SIMPLE))
    assert bundle.problems == [] and bundle.warnings == []


def test_dangling_source_and_target_are_named():
    content = bpmn_file(SIMPLE.replace('targetRef="e"', 'targetRef="nowhere"'))
    problems = check(content).problems
    assert (line(content, 'id="f2"'), "f2") in where(problems)
    assert any("targetRef='nowhere'" in p.message for p in problems)


def test_default_must_be_an_outgoing_flow():
    body = SIMPLE.replace('<userTask id="t" name="审批" />', '<exclusiveGateway id="t" default="f1" />')
    content = bpmn_file(body)
    problems = check(content).problems
    assert [(p.line, p.element) for p in problems if "default" in p.message] == [(line(content, 'id="t"'), "t")]


def test_exclusive_branch_without_condition_or_default_is_refused():
    body = """    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="gw" />
    <exclusiveGateway id="gw" />
    <sequenceFlow id="yes" sourceRef="gw" targetRef="e"><conditionExpression>${ok}</conditionExpression></sequenceFlow>
    <sequenceFlow id="no" sourceRef="gw" targetRef="e" />
    <endEvent id="e" />
"""
    content = bpmn_file(body)
    problems = check(content).problems
    assert where(problems) == [(line(content, 'id="no"'), "no")]
    assert "既没有条件也不是默认分支" in problems[0].message


def test_unreachable_node_and_start_going_nowhere_are_refused():
    body = """    <startEvent id="s" />
    <userTask id="lonely" name="没人连" />
    <endEvent id="e" />
"""
    content = bpmn_file(body)
    problems = check(content).problems
    assert where(problems) == [(line(content, f'id="{i}"'), i) for i in ("s", "lonely", "e")]
    assert "开始事件没有流出的顺序流" in problems[0].message and "永远不会执行" in problems[1].message


def test_process_without_start_event_says_so_once():
    content = bpmn_file('    <userTask id="t" />\n')
    problems = check(content).problems
    assert [(p.element, p.message) for p in problems] == [("p", "流程没有开始事件（startEvent）")]


def test_invalid_ids_are_refused():
    body = SIMPLE.replace('id="t"', 'id="&lt;img&gt;"').replace('targetRef="t"', 'targetRef="&lt;img&gt;"')
    content = bpmn_file(body)
    problems = check(content).problems
    assert any(p.element == "<img>" and "不是合法的 XML 名称" in p.message for p in problems)


def test_every_file_is_reported_in_one_run():
    broken = b"<definitions><oops></definitions>"
    bad_gateway = bpmn_file(SIMPLE.replace("${", "").replace('targetRef="e"', 'targetRef="x"'))
    problems = definitions.validate_files({"a.bpmn": broken, "b.bpmn": bad_gateway, "c.json": b"{"})
    assert {p.file for p in problems} == {"a.bpmn", "b.bpmn", "c.json"}


def test_juel_method_calls_and_beans_are_refused_clearly():
    for text, words in [
        ("${orderService.isValid(order)}", "不支持 JUEL 方法调用 'orderService.isValid()'"),
        ("${order.amount > 10}", "不支持 JUEL Bean 引用 'order.amount'"),
        ("${a ? 'x' : 'y'}", "不支持 JUEL 三元表达式"),
    ]:
        with pytest.raises(ExpressionError) as caught:
            compile_expression(text)
        assert words in str(caught.value)


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("${x == 'a' && y > 3}", {"x": "a", "y": 4}, True),
        ("#{!approved}", {"approved": False}, True),
        ("${empty list}", {"list": []}, True),
        ("${a != null}", {"a": 1}, True),
        ("${n div 2 == 2 and n mod 2 == 0}", {"n": 4}, True),
    ],
)
def test_the_juel_subset_designers_write(text, names, expected):

    assert evaluate(text, names) is expected


def test_timers_bare_iso_values_are_understood_and_bad_ones_refused():
    good = ["PT5M", "R3/PT10M", "P7D", "2026-01-05T09:00:00", "${delay}"]
    for value in good:
        assert dialect.timer_literal(value) in {repr(value), repr(value + "+08:00"), "delay"}
    body = """    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="w" />
    <intermediateCatchEvent id="w"><timerEventDefinition><timeDuration>PT5X</timeDuration></timerEventDefinition>
    </intermediateCatchEvent>
    <sequenceFlow id="f2" sourceRef="w" targetRef="e" />
    <endEvent id="e" />
"""
    content = bpmn_file(body)
    problems = check(content).problems
    assert where(problems) == [(line(content, "PT5X"), "w")]
    assert "无法识别" in problems[0].message


def test_unsupported_elements_are_named():
    body = """    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="rule" />
    <businessRuleTask id="rule" camunda:decisionRef="d" />
    <sequenceFlow id="f2" sourceRef="rule" targetRef="cx" />
    <complexGateway id="cx" />
    <sequenceFlow id="f3" sourceRef="cx" targetRef="e" />
    <endEvent id="e" />
"""
    content = bpmn_file(body)
    problems = check(content).problems
    assert [(p.line, p.element) for p in problems if "不支持的元素" in p.message] == [
        (line(content, 'id="rule"'), "rule"),
        (line(content, 'id="cx"'), "cx"),
    ]


def test_java_listeners_are_reported_as_ignored():
    body = SIMPLE.replace(
        '<userTask id="t" name="审批" />',
        '<userTask id="t"><extensionElements><camunda:taskListener class="x.Y" event="create"/>'
        "</extensionElements></userTask>",
    )
    bundle = check(bpmn_file(body))
    assert bundle.problems == []
    assert [w.element for w in bundle.warnings] == ["t"]
    assert "camunda:taskListener" in bundle.warnings[0].message


def test_unknown_roles_and_users_are_warnings_when_the_organisation_is_known():
    body = SIMPLE.replace(
        '<userTask id="t" name="审批" />',
        '<userTask id="t" camunda:candidateGroups="总经理,采购委员会" camunda:candidateUsers="sunli,ghost" />',
    )
    bundle = check(bpmn_file(body), org=({"总经理"}, {"sunli"}))
    assert bundle.problems == []
    messages = [w.message for w in bundle.warnings]
    assert any("角色 '采购委员会' 不存在" in m for m in messages)
    assert any("用户 'ghost' 不存在" in m for m in messages)
    assert not any("总经理" in m or "sunli" in m for m in messages)


def test_unknown_assignee_rule_is_an_error():
    body = SIMPLE.replace(
        '<userTask id="t" name="审批" />',
        '<userTask id="t"><extensionElements><spiffworkflow:properties '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core">'
        '<spiffworkflow:property name="assignee" value="boss:1"/></spiffworkflow:properties>'
        "</extensionElements></userTask>",
    )
    problems = check(bpmn_file(body)).problems
    assert [p.element for p in problems] == ["t"] and "未知的审批人规则" in problems[0].message


def test_a_variable_no_step_provides_is_a_warning_and_becomes_a_field_of_the_step_before():
    body = """    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="review" />
    <userTask id="review" name="审核" />
    <sequenceFlow id="f2" sourceRef="review" targetRef="gw" />
    <exclusiveGateway id="gw" default="other" />
    <sequenceFlow id="ok" sourceRef="gw" targetRef="e"><conditionExpression>${verdict == 'pass'}</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="other" sourceRef="gw" targetRef="e" />
    <endEvent id="e" />
"""
    content = bpmn_file(body)
    bundle = check(content)
    assert bundle.problems == []
    assert where(bundle.warnings) == [(line(content, "verdict"), "ok")]
    assert "变量 'verdict'" in bundle.warnings[0].message and "“审核”的表单" in bundle.warnings[0].message
    model = bundle.models[0]
    schema = bundle.forms[model.nodes["review"].form]
    assert schema["properties"]["verdict"] == {"type": "string", "title": "verdict", "enum": ["pass"]}
    assert schema["required"] == ["verdict"]


def test_variables_provided_by_forms_scripts_and_outputs_are_not_warned_about():
    body = """    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="svc" />
    <serviceTask id="svc" camunda:class="x.Y"><extensionElements><camunda:inputOutput>
      <camunda:outputParameter name="score">1</camunda:outputParameter></camunda:inputOutput></extensionElements>
    </serviceTask>
    <sequenceFlow id="f2" sourceRef="svc" targetRef="gw" />
    <exclusiveGateway id="gw" default="other" />
    <sequenceFlow id="hi" sourceRef="gw" targetRef="e">
      <conditionExpression>${score > 3 &amp;&amp; approved}</conditionExpression></sequenceFlow>
    <sequenceFlow id="other" sourceRef="gw" targetRef="e" />
    <endEvent id="e" />
"""
    bundle = check(bpmn_file(body))
    assert bundle.problems == [] and bundle.warnings == []
    assert bundle.models[0].nodes["svc"].external and bundle.models[0].nodes["svc"].service == "x.Y"


def test_camunda_form_data_becomes_a_json_schema_form():
    body = SIMPLE.replace(
        '<userTask id="t" name="审批" />',
        """<userTask id="t"><extensionElements><camunda:formData>
      <camunda:formField id="amount" label="金额" type="long" defaultValue="10">
        <camunda:validation><camunda:constraint name="required" /><camunda:constraint name="min" config="1" />
        </camunda:validation></camunda:formField>
      <camunda:formField id="kind" label="类别" type="enum">
        <camunda:value id="a" name="甲" /><camunda:value id="b" name="乙" /></camunda:formField>
      <camunda:formField id="due" label="日期" type="date" />
    </camunda:formData></extensionElements></userTask>""",
    )
    bundle = check(bpmn_file(body))
    assert bundle.problems == []
    schema = bundle.forms[bundle.models[0].nodes["t"].form]
    assert schema == {
        "type": "object",
        "properties": {
            "amount": {"title": "金额", "type": "integer", "default": 10, "minimum": 1},
            "kind": {"title": "类别", "type": "string", "enum": ["a", "b"], "x-enum-titles": ["甲", "乙"]},
            "due": {"title": "日期", "type": "string", "format": "date"},
        },
        "required": ["amount"],
    }


def test_vendor_assignees_map_to_rules():
    body = SIMPLE.replace(
        '<userTask id="t" name="审批" />',
        '<userTask id="t" flowable:assignee="$INITIATOR" />'
        '<userTask id="t2" flowable:assignee="${starter}" flowable:candidateGroups="${group}" />'
        '<userTask id="t3" camunda:assignee="${boss}" />',
    ).replace('<startEvent id="s" />', '<startEvent id="s" flowable:initiator="starter" />')
    model = read_models(bpmn.parse_xml(bpmn_file(body), "t.bpmn"), "t.bpmn")[0][0]
    assert model.nodes["t"].assignee == ["initiator"]
    assert model.nodes["t2"].assignee == ["initiator", "field:group"]
    assert model.nodes["t3"].assignee == ["field:boss"]


def test_files_from_other_tools_do_not_deduplicate_approvers():
    model = read_models(bpmn.parse_xml(bpmn_file(SIMPLE), "t.bpmn"), "t.bpmn")[0][0]
    assert model.dedupe_approver is False
    leave = library.library_files()["leave.bpmn"]
    assert read_models(bpmn.parse_xml(leave, "leave.bpmn"), "leave.bpmn")[0][0].dedupe_approver is True


# --- the command line -----------------------------------------------------------------------------------


def test_oaflow_validate_prints_errors_and_warnings(tmp_path):

    bad = tmp_path / "bad.bpmn"
    bad.write_bytes(bpmn_file(SIMPLE.replace('targetRef="e"', 'targetRef="x"')))
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 1
    f2_line = line(bad.read_bytes(), 'id="f2"')
    assert f"bad.bpmn:{f2_line}: f2: " in result.output

    warned = tmp_path / "warned.bpmn"
    warned.write_bytes(bpmn_file(SIMPLE).replace(b'id="f1" ', b""))
    result = CliRunner().invoke(main, ["validate", str(warned)])
    assert result.exit_code == 0, result.output
    assert "警告：warned.bpmn:" in result.output and "Flow_s_t" in result.output


def test_validate_endpoint_reports_errors_and_warnings(api, row_counts):
    before = row_counts()
    files = {"bad.bpmn": bpmn_file(SIMPLE.replace('targetRef="e"', 'targetRef="x"'))}
    response = api("admin").post(
        "/api/v1/deployments/validate",
        data={"files": [(io.BytesIO(c), n) for n, c in files.items()]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["element"] == "f2"
    good = {"good.bpmn": bpmn_file(SIMPLE).replace(b'id="f1" ', b"")}
    response = api("admin").post(
        "/api/v1/deployments/validate",
        data={"files": [(io.BytesIO(c), n) for n, c in good.items()]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert response.get_json()["errors"] == [] and response.get_json()["warnings"][0]["element"] == "Flow_s_t"
    assert api("zhangsan").post("/api/v1/deployments/validate", data={}).status_code == 403
    assert row_counts() == before


MI = """    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="sign" />
    <userTask id="sign" name="会签" camunda:assignee="${signer}">
      <multiInstanceLoopCharacteristics camunda:collection="${signers}" camunda:elementVariable="signer" />
    </userTask>
    <sequenceFlow id="f2" sourceRef="sign" targetRef="e" />
    <endEvent id="e" />
"""


def test_camunda_collection_multi_instance_gives_each_signer_a_work_item(api, core):
    content = bpmn_file(MI, key="countersign")
    bundle = check(content)
    assert bundle.problems == []
    assert [w.element for w in bundle.warnings] == ["sign"]  # nothing provides the list: the start form asks
    start_form = bundle.forms[bundle.models[0].start_form]
    assert start_form["properties"]["signers"]["type"] == "array"
    with core.db.write() as conn:
        definitions.deploy(conn, {"countersign.bpmn": content}, None)
    response = api("zhangsan").post(
        "/api/v1/instances", json={"process": "countersign", "data": {"signers": ["sunli", "huangwei"]}}
    )
    assert response.status_code == 201, response.get_json()
    items = [w for w in response.get_json()["work_items"] if w["status"] == "open"]
    assert sorted(w["assignee"] for w in items) == ["huangwei", "sunli"]
    for user in ("sunli", "huangwei"):
        (mine,) = [w for w in items if w["assignee"] == user]
        done = api(user).post(f"/api/v1/work-items/{mine['id']}/complete", json={"decision": "approve"})
        assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "approved"


def test_batch_approval_is_refused_on_a_step_whose_form_asks_for_more():
    source = (DATA / "simple.bpmn").read_text()
    source = source.replace(
        '<spiffworkflow:property name="assignee" value="leader:1" />',
        '<spiffworkflow:property name="assignee" value="leader:1" />'
        '<spiffworkflow:property name="batch" value="true" />'
        '<spiffworkflow:property name="form" value="simple_form" />',
    ).replace(
        '<spiffworkflow:property name="assignee" value="role:总经理" />',
        '<spiffworkflow:property name="assignee" value="role:总经理" />'
        '<spiffworkflow:property name="batch" value="true" />'
        '<spiffworkflow:property name="sign_mode" value="any" />',
    )
    files = {"simple.bpmn": source.encode(), "simple_form.json": (DATA / "simple_form.json").read_bytes()}
    messages = [p.message for p in definitions.validate_files(files)]
    assert "batch=true（批量审批）的节点表单不能有必填字段：事项、金额" in messages
    assert "batch=true（批量审批）只能用于单人审批节点，本节点是 或签" in messages
