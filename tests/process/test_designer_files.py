"""Modeler files as they come (issue "Designers, round 2"): each cause with a minimal file of its own in
tests/data/dz_*.bpmn — FEEL and Zeebe, link events, descriptive pools, foreign extension ids, located
messages in the user's language, and variables no step provides wherever an expression can stand."""

from __future__ import annotations

import pytest
from support import DATA

from engine.process import bundle, dialect
from engine.process.bpmn import parse_xml
from engine.process.expressions import ExpressionError, compile_expression, evaluate
from engine.process.model import read_models
from engine.process.validation.english import in_english


def read(*names: str) -> bundle.Bundle:
    return bundle.read_bundle({name: (DATA / name).read_bytes() for name in names})


def line_of(name: str, marker: str) -> int:
    text = (DATA / name).read_text(encoding="utf-8").splitlines()
    return next(n for n, row in enumerate(text, start=1) if marker in row)


def located(problems) -> list[tuple]:
    return [(p.file, p.line, p.element) for p in problems]


# --- 7. Camunda 8 (Zeebe) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("feel", "data", "expected"),
    [
        ("= approved", {"approved": True}, True),
        ("= approved", {"approved": False}, False),
        ('= amount > 1000 and kind = "年假" and not(urgent)', {"amount": 2000, "kind": "年假", "urgent": False}, True),
        ('= amount > 1000 and kind = "年假"', {"amount": 2000, "kind": "事假"}, False),
        ("= amount <= 10 or amount >= 100", {"amount": 50}, False),
        ('= kind != "a = b"', {"kind": "a = b"}, False),  # an `=` inside a string literal stays text
        ("= count = 3.5", {"count": 3.5}, True),
        ("= manager = null", {"manager": None}, True),
    ],
)
def test_simple_feel_conditions_evaluate_like_their_meaning(feel, data, expected):
    assert evaluate(feel, data) is expected


def test_feel_that_is_not_simple_is_refused_not_run():
    with pytest.raises(ExpressionError, match="不支持的 FEEL 表达式"):
        compile_expression("= some x in items satisfies x.size > 3")


def test_a_zeebe_file_with_feel_conditions_validates_clean():
    checked = read("dz_feel_conditions.bpmn", "dz_feel_form.json")
    assert checked.problems == [] and checked.warnings == []
    (model,) = checked.models
    assert model.start_form == "dz_feel_form"
    assert model.nodes["big"].assignee == ["field:manager", "role:finance", "role:hr"]
    assert model.nodes["small"].assignee == ["user:admin"]


def test_zeebe_multi_instance_reads_as_a_collection_with_its_element():
    name = "dz_zeebe_multi_instance.bpmn"
    tree = parse_xml((DATA / name).read_bytes(), name)
    loop = next(tree.getroot().iter(f"{{{dialect.BPMN_NS}}}multiInstanceLoopCharacteristics"))
    assert dialect.loop_collection(loop) == ("reviewers", "reviewer")
    view = dialect.spiff_view(tree).getroot()
    ref = next(view.iter(f"{{{dialect.BPMN_NS}}}loopDataInputRef"))
    item = next(view.iter(f"{{{dialect.BPMN_NS}}}inputDataItem"))
    assert (ref.text, item.get("name")) == ("reviewers", "reviewer")
    checked = read(name)
    assert checked.problems == []
    assert [w.element for w in checked.warnings if "outputCollection" in w.message] == ["review"]  # said, not lost
    (model,) = read_models(tree, name)[0]
    assert (
        "review",
        line_of(name, "<multiInstanceLoopCharacteristics"),
        "collection",
        "reviewers",
    ) in model.expressions
    assert model.nodes["review"].assignee == ["field:reviewer"]
    # The collection the instances are made from must be known before the step: it goes on the start form.
    assert checked.forms[checked.models[0].start_form]["properties"]["reviewers"]["type"] == "array"


# --- 8. link events --------------------------------------------------------------------------------------


def test_link_events_pair_into_a_sequence_flow_for_the_engine_only():
    name = "dz_link_events.bpmn"
    checked = read(name)
    assert checked.problems == []
    assert b"linkEventDefinition" in checked.texts[name].encode()  # stored (and drawn) as modelled
    view = dialect.spiff_view(checked.trees[name]).getroot()
    flows = {(f.get("sourceRef"), f.get("targetRef")) for f in view.iter(f"{{{dialect.BPMN_NS}}}sequenceFlow")}
    assert ("jump", "land") in flows
    assert next(view.iter(f"{{{dialect.BPMN_NS}}}linkEventDefinition"), None) is None


def test_unmatched_link_names_are_located_errors():
    name = "dz_link_unmatched.bpmn"
    problems = read(name).problems
    assert located(problems) == [
        (name, line_of(name, 'id="jump"'), "jump"),
        (name, line_of(name, 'id="land"'), "land"),
    ]
    assert "'审核'" in problems[0].message and "'复核'" in problems[1].message


# --- 5. descriptive pools, foreign ids, scripts, forms --------------------------------------------------


def test_a_descriptive_pool_only_warns():
    name = "dz_descriptive_pool.bpmn"
    checked = read(name)
    assert checked.problems == []
    assert [(w.element, "描述性流程" in w.message) for w in checked.warnings] == [("dz_pool_customer", True)]


def test_no_executable_process_is_said_first():
    name = "dz_no_executable.bpmn"
    checked = read(name)
    assert [p.message.split("：")[0] for p in checked.problems] == ["没有可执行的流程"]
    assert located(checked.problems) == [(name, line_of(name, 'id="dz_sketch"'), "dz_sketch")]
    assert checked.warnings  # what else is wrong with the sketch is still said, as warnings


def test_ids_of_other_namespaces_follow_their_own_rules():
    assert read("dz_foreign_ids.bpmn").problems == []


def test_a_pre_script_error_is_reported_once_at_its_element():
    name = "dz_prescript_nested.bpmn"
    problems = read(name).problems
    assert located(problems) == [(name, line_of(name, "<spiffworkflow:preScript>"), "task")]


def test_an_enum_field_without_values_is_refused():
    name = "dz_empty_enum.bpmn"
    problems = read(name).problems
    assert located(problems) == [(name, line_of(name, 'id="kind"'), "start")]
    assert "enum" in problems[0].message and "没有任何选项" in problems[0].message


# --- 6. messages in the user's language ------------------------------------------------------------------


def test_a_tag_mismatch_is_located_and_in_chinese_with_english_on_request():
    name = "dz_tag_mismatch.bpmn"
    (problem,) = read(name).problems
    assert (problem.line, problem.element) == (line_of(name, "</userTask>"), None)
    assert problem.message == (
        f"XML 格式错误：第 {line_of(name, '<startEvent')} 行的开始标签 <startEvent> 与结束标签 </userTask> 不匹配："
        "每个元素都要用它自己的结束标签关闭"
    )
    assert "Opening and ending" not in problem.message
    assert in_english(problem.message).startswith("XML is not well formed: the start tag <startEvent> on line")


def test_a_timer_without_time_is_located_and_in_chinese():
    name = "dz_timer_no_time.bpmn"
    (problem,) = read(name).problems
    assert (problem.line, problem.element) == (line_of(name, 'id="td"'), "wait")
    assert problem.message.startswith("计时器事件没有设置时间") and "Specification" not in problem.message
    assert in_english(problem.message).startswith("the timer event has no time")


# --- 3. variables no step provides, wherever an expression stands ---------------------------------------


@pytest.mark.parametrize(
    ("name", "variable", "element", "form_of", "field"),
    [
        ("dz_undefined_timer.bpmn", "reviewLimit", "late", "fill", {"type": "string"}),  # before the task it guards
        ("dz_undefined_loop.bpmn", "signers", "sign", "fill", {"type": "integer"}),  # before the instances start
        ("dz_undefined_loop.bpmn", "again", "redo", "redo", {"type": "boolean"}),  # tested after the step
        ("dz_undefined_script.bpmn", "price", "compute", "fill", {"type": "string"}),
        ("dz_undefined_correlation.bpmn", "order_no", "send", "fill", {"type": "string"}),
    ],
)
def test_a_variable_nothing_provides_is_named_and_asked_for_one_step_before(name, variable, element, form_of, field):
    checked = read(name)
    assert checked.problems == []
    (warning,) = [w for w in checked.warnings if f"'{variable}'" in w.message]
    assert warning.element == element and warning.line
    (model,) = checked.models
    form = checked.forms[model.nodes[form_of].form]
    assert form["properties"][variable].items() >= field.items()
    assert variable in form["required"]


def test_camunda_multi_instance_variables_are_provided_not_missing():
    checked = read("dz_undefined_loop.bpmn")
    named = " ".join(w.message for w in checked.warnings)
    assert "nrOfCompletedInstances" not in named and "nrOfInstances" not in named


def test_a_decision_read_before_anyone_decided_is_asked_for_on_the_start_form():
    name = "dz_decision_before_any_step.bpmn"
    checked = read(name)
    assert checked.problems == []
    (warning,) = [w for w in checked.warnings if "'approved'" in w.message]
    assert (warning.line, warning.element) == (line_of(name, "${approved}"), "f_yes")  # not f_again: 审批 decided
    (model,) = checked.models
    assert checked.forms[model.start_form]["properties"]["approved"]["type"] == "boolean"
