"""Variables provided on some paths only (issue "Designers, round 2", item 3): a variable a form provides on
one exclusive branch is missing on the other; a located deploy error names it and one path where nothing
provides it, and says which form to add it to. Parallel branches, loops and both-branch forms are fine."""

from __future__ import annotations

import pytest
from support import DATA

from engine.process import bundle
from engine.process.validation.english import in_english


def read(name: str) -> bundle.Bundle:
    return bundle.read_bundle({name: (DATA / name).read_bytes()})


def line_of(name: str, marker: str) -> int:
    text = (DATA / name).read_text(encoding="utf-8").splitlines()
    return next(n for n, row in enumerate(text, start=1) if marker in row)


@pytest.mark.parametrize(
    "name",
    [
        "dz_path_both_branches.bpmn",  # each alternative provides it
        "dz_path_parallel.bpmn",  # the parallel join waits for the branch that provides it
        "dz_path_loop.bpmn",  # provided inside the loop before it is read, on every round
    ],
)
def test_a_variable_provided_on_every_path_deploys_clean(name):
    checked = read(name)
    assert checked.problems == []
    assert checked.warnings == []


def test_a_variable_from_one_exclusive_branch_only_is_refused_with_the_path_that_lacks_it():
    name = "dz_path_one_branch.bpmn"
    (problem,) = read(name).problems
    assert (problem.file, problem.line, problem.element) == (name, line_of(name, "${amount"), "f_big")
    assert problem.message.startswith("表达式引用的变量 'amount' 只在部分路径上提供")
    assert "发起 → split → 乙填写 → join → check" in problem.message and "甲填写" not in problem.message
    assert problem.message.endswith("请在“乙填写”的表单中加入该字段")
    english = in_english(problem.message)
    assert english.startswith("the variable 'amount' that an expression reads is provided on some paths only")
    assert english.endswith("add the field to the form of '乙填写'")


def test_a_condition_read_before_the_step_that_sets_it_is_refused():
    name = "dz_path_condition_before.bpmn"
    (problem,) = read(name).problems
    assert (problem.line, problem.element) == (line_of(name, "${amount"), "f_big")
    assert "'amount'" in problem.message and "发起 → 初审 → check" in problem.message
    assert problem.message.endswith("请在“初审”的表单中加入该字段")


def test_a_boundary_timer_cannot_read_what_its_own_task_provides():
    name = "dz_path_timer.bpmn"
    (problem,) = read(name).problems
    assert (problem.line, problem.element) == (line_of(name, "${limit}"), "late")
    assert "'limit'" in problem.message and problem.message.endswith("请在发起表单中加入该字段")
    assert in_english(problem.message).endswith("add the field to the start form")


def test_a_variable_no_step_provides_keeps_its_warning_and_its_added_field():
    checked = read("dz_undefined_timer.bpmn")  # nothing provides it: the field is added, not refused
    assert checked.problems == []
    assert any("'reviewLimit'" in w.message for w in checked.warnings)
