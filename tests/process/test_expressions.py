"""The safe evaluator behind gateway conditions and script tasks: what it accepts, what it refuses,
that nothing it refuses takes long, and that Python's eval/exec are never reached."""

from __future__ import annotations

import builtins
import io
import time

import pytest
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from support import DATA

from engine.org import users
from engine.process import definitions, library
from engine.process.expressions import (
    ExpressionError,
    SafeEnvironment,
    compile_expression,
    compile_script,
    evaluate,
    normalize,
    run_script,
)
from engine.work import initiate
from engine.work.views import detail as details

# --- accepted ---------------------------------------------------------------------------------------

SAFE = [
    ("days > 3", {"days": 5}, True),
    ("days > 3", {"days": 3}, False),
    ("days >= 3.5 and days <= 10", {"days": 3.5}, True),
    ("days > 10 or urgent", {"days": 2, "urgent": True}, True),
    ("not approved", {"approved": False}, True),
    ("leave_type in ['年假', '调休']", {"leave_type": "调休"}, True),
    ("leave_type not in ('病假',)", {"leave_type": "年假"}, True),
    ("'年' in leave_type", {"leave_type": "年假"}, True),
    ("(days + 1) * 2 - 4 / 2", {"days": 3}, 6.0),
    ("days // 2 + days % 2", {"days": 5}, 3),
    ("-days", {"days": 2}, -2),
    ("'大' if amount > 1000 else '小'", {"amount": 5000}, "大"),
    ("handover is None", {"handover": None}, True),
    ("len(reason) > 3", {"reason": "回老家探亲"}, True),
    ("max(days, 1) + min(2, 3) + abs(-1)", {"days": 4}, 7),
    ("round(days * 1.25, 1)", {"days": 3}, 3.8),
    ("sum([1, 2.5, days])", {"days": 3}, 6.5),
    ("any([a, b]) and not all([a, b])", {"a": True, "b": False}, True),
    ("int('3') + float('0.5')", {}, 3.5),
    ("str(days) + '天'", {"days": 2}, "2天"),
    ("days_between(start_date, end_date) + 1", {"start_date": "2026-11-23", "end_date": "2026-11-27"}, 5),
    ("date(end_date) > date(start_date)", {"start_date": "2026-11-23", "end_date": "2026-11-24"}, True),
    ("data['days']", {"data": {"days": 2}}, 2),
    ("'ab' * 3", {}, "ababab"),
    ("true and not false and null is None", {}, True),
    # JUEL as Camunda / Flowable designers write it
    ("${a == 'x' && b > 3}", {"a": "x", "b": 4}, True),
    ("${a == 'x' && b > 3}", {"a": "x", "b": 3}, False),
    ("${a == 'y' || b > 3}", {"a": "x", "b": 4}, True),
    ("#{!approved}", {"approved": False}, True),
    ("#{!approved}", {"approved": True}, False),
    ("${a != b}", {"a": 1, "b": 2}, True),
    ("${empty list}", {"list": []}, True),
    ("${empty list}", {"list": ["x"]}, False),
    ("${!empty list}", {"list": ["x"]}, True),
    ("${days gt 3 and days le 10}", {"days": 5}, True),
    ("${leave_type eq '年假'}", {"leave_type": "年假"}, True),
    ("${handover == null}", {"handover": None}, True),
    ("${note == 'a && !b'}", {"note": "a && !b"}, True),  # string literals are left alone
]


@pytest.mark.parametrize(("expression", "names", "expected"), SAFE, ids=[s[0] for s in SAFE])
def test_safe_expressions_evaluate(expression, names, expected):
    assert evaluate(expression, names) == expected


def test_juel_is_rewritten_to_python_syntax():
    assert normalize("${a == 'x' && b > 3}") == "a == 'x'  and  b > 3"
    assert normalize("days > 3") == "days > 3"


def test_scripts_assign_names_line_by_line():
    context = {"amount": 5000}
    run_script("big = amount > 1000\n\n# 注释\nlabel = '大额' if big else '小额'", context)
    assert context == {"amount": 5000, "big": True, "label": "大额"}
    assert compile_script("a = 1\nb = a + 1") == [("a", "1"), ("b", "a + 1")]


def test_safe_environment_is_what_spiffworkflow_calls():
    env = SafeEnvironment()
    assert env.evaluate("days > 3", {"days": 4}) is True
    context = {"days": 4}
    assert env.execute("long = days > 3", context) is True
    assert context["long"] is True
    with pytest.raises(ExpressionError):
        env.evaluate("__import__('os')", {})


# --- refused ----------------------------------------------------------------------------------------

UNSAFE = [
    "__import__('os')",
    "__import__('os').system('touch /tmp/oaflow-pwned')",
    "().__class__.__base__.__subclasses__()",
    # attribute access of any kind
    "a.b",
    "'x'.upper()",
    "(1).real",
    "days.__class__",
    "reason.format(1)",
    "'{0.__class__}'.format(1)",
    "str.join",
    "date('2026-01-01').year",
    # names starting with an underscore
    "__builtins__",
    "__name__",
    "_secret",
    "__builtins__['eval']('1')",
    # lambdas, comprehensions, generators, walrus, f-strings, starred
    "lambda: 1",
    "(lambda x: x)(1)",
    "[x for x in items]",
    "{x for x in items}",
    "{x: 1 for x in items}",
    "any(x for x in items)",
    "(y := 1)",
    "f'{days}'",
    "[*items]",
    # calls to anything but the whitelisted functions
    "open('/etc/passwd')",
    "eval('1')",
    "exec('x = 1')",
    "compile('1', 'x', 'eval')",
    "getattr(days, 'real')",
    "globals()",
    "vars()",
    "type(1)",
    "print(1)",
    "breakpoint()",
    "len(items)(1)",
    "items[0]()",
    "min(items, key=len)",
    # operators outside the whitelist
    "9**9**9",
    "2 ** 3",
    "1 << 100000",
    "~days",
    "days & 1",
    # not expressions at all
    "import os",
    "x = 1",
    "",
    "   ",
    "days >",
    "a" * 2001,
]


@pytest.mark.parametrize("expression", UNSAFE)
def test_unsafe_expressions_are_refused(expression):
    names = {"a": {"b": 1}, "days": 2, "reason": "x", "items": ["a", "b"]}
    started = time.monotonic()
    with pytest.raises(ExpressionError):
        compile_expression(expression)
    with pytest.raises(ExpressionError):
        evaluate(expression, names)
    assert time.monotonic() - started < 1


# Whitelisted syntax that would still take minutes or gigabytes: refused at once.
EXPENSIVE = [
    "'%999999999d' % 1",
    "'%.999999999f' % days",
    "str([[0] * 99999] * 99999)",
    "[0] * 100000000",
    "'a' * 100000000",
    "reason * 100000000",
    "sum([[1] * 99999] * 99999, [])",
    "sum([items, items], [])",
    "round(1, -999999999)",
    "round(days, 10000000000)",
    "'a' * 60000 + 'b' * 60000",
]


@pytest.mark.parametrize("expression", EXPENSIVE)
def test_expensive_expressions_fail_fast(expression):
    started = time.monotonic()
    with pytest.raises(ExpressionError):
        evaluate(expression, {"days": 2, "reason": "x", "items": list(range(1000))})
    assert time.monotonic() - started < 1


def test_script_squaring_a_number_line_after_line_fails_fast():
    script = "a = 99999999999\n" + "a = a * a\n" * 40
    started = time.monotonic()
    with pytest.raises(ExpressionError):
        run_script(script, {})
    assert time.monotonic() - started < 1
    assert evaluate("amount * 100 * 1000000", {"amount": 12345}) == 1234500000000


@pytest.mark.parametrize(
    ("expression", "names"),
    [("unknown > 1", {}), ("1 / 0", {}), ("days > '3'", {"days": 2}), ("date('not a date')", {})],
)
def test_evaluation_errors_are_expression_errors(expression, names):
    with pytest.raises(ExpressionError) as caught:
        evaluate(expression, names)
    assert "表达式求值失败" in str(caught.value)


@pytest.mark.parametrize(
    "script",
    ["import os", "import os\nos.system('x')", "x = __import__('os')", "_x = 1", "x = a.b", "x == 1", "def f(): pass"],
)
def test_unsafe_scripts_are_refused(script):
    with pytest.raises(ExpressionError):
        compile_script(script)
    with pytest.raises(ExpressionError):
        run_script(script, {"a": 1})


def test_refusal_names_what_is_wrong():
    with pytest.raises(ExpressionError, match="不允许访问属性 '.upper'"):
        compile_expression("reason.upper")
    with pytest.raises(ExpressionError, match="不允许调用函数 ''x'.upper'"):
        compile_expression("'x'.upper()")
    with pytest.raises(ExpressionError, match="不允许调用函数 'open'"):
        compile_expression("open('x')")
    with pytest.raises(ExpressionError, match="下划线"):
        compile_expression("__builtins__")
    with pytest.raises(ExpressionError, match="脚本第 2 行"):
        compile_script("a = 1\nimport os")


# --- conditions and scripts inside a running process ------------------------------------------------


def test_juel_condition_routes_the_leave_process(core, leave):
    files = library.library_files()
    camunda = (
        files["leave.bpmn"]
        .replace(b"<bpmn:conditionExpression>days &gt; 3<", b"<bpmn:conditionExpression>${days &gt; 3}<")
        .replace(b"<bpmn:conditionExpression>days &gt; 10<", b"<bpmn:conditionExpression>#{days gt 10}<")
    )
    assert camunda.count(b"${days") == 1 and camunda.count(b"#{days") == 1
    with core.db.write() as conn:
        assert definitions.deploy(conn, {"leave.bpmn": camunda}, None)[0]["version"] == 2
    for days, approvers in ((3, ["sunli"]), (3.5, ["sunli", "huangwei"]), (11, ["sunli", "huangwei", "zhengqiang"])):
        instance_id = leave.start(days=days)["id"]
        for approver in approvers:
            result = leave.decide(approver, instance_id)
        assert result["status"] == "approved", days
        assert [w["assignee"] for w in leave.detail(instance_id)["work_items"] if w["kind"] == "approve"] == approvers


def deploy_scripted(core):
    files = {name: (DATA / name).read_bytes() for name in ("scripted.bpmn", "simple_form.json")}
    with core.db.write() as conn:
        definitions.deploy(conn, files, None)


@pytest.mark.parametrize(("amount", "approver"), [(5000, "zhengqiang"), (500, "sunli")])
def test_script_task_and_juel_condition_run_in_the_engine(core, amount, approver):
    deploy_scripted(core)
    result = initiate.start(core, "zhangsan", "scripted", {"subject": "采购", "amount": amount})
    with core.db.read() as conn:
        detail = details.instance_detail(core, conn, users.find_user(conn, "admin"), result["id"])
    assert [(w["node"], w["assignee"]) for w in detail["work_items"]] == [
        ("Task_gm" if amount > 1000 else "Task_leader", approver)
    ]


# --- eval / exec are never reached ------------------------------------------------------------------


@pytest.fixture
def no_eval(monkeypatch):
    """Make builtins.eval/exec raise (and remember the call) for the rest of the test."""
    calls: list[str] = []

    def forbidden(name):
        def refuse(*args, **kwargs):
            calls.append(f"{name}({str(args[0])[:80]!r})")
            raise AssertionError(f"builtins.{name} was called: {args[0]!r}")

        return refuse

    monkeypatch.setattr(builtins, "eval", forbidden("eval"))
    monkeypatch.setattr(builtins, "exec", forbidden("exec"))
    # The patch is live: SpiffWorkflow's own default environment would hit it.

    with pytest.raises(AssertionError):
        PythonScriptEngine().environment.evaluate("1 + 1", {})
    calls.clear()
    return calls


def test_full_leave_flow_never_reaches_eval_or_exec(leave, api, core, no_eval):
    # Start and decide everything through the API, including a fresh deployment with a script task.
    instance_id = leave.start(days=12)["id"]
    for approver in ("sunli", "huangwei", "zhengqiang"):
        leave.decide(approver, instance_id)
    assert leave.detail(instance_id)["status"] == "approved"

    rejected = leave.start(days=5)["id"]
    leave.decide("sunli", rejected)
    assert leave.decide("huangwei", rejected, "reject", "不批")["status"] == "rejected"

    sunli = leave.start("sunli", days=5)["id"]
    assert leave.decide("huangwei", sunli)["status"] == "approved"

    files = {name: (DATA / name).read_bytes() for name in ("scripted.bpmn", "simple_form.json")}
    response = api("admin").post(
        "/api/v1/deployments",
        data={"files": [(io.BytesIO(content), name) for name, content in files.items()]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    body = {"process": "scripted", "data": {"subject": "采购", "amount": 5000}}
    started = api("zhangsan").post("/api/v1/instances", json=body)
    assert started.status_code == 201, started.get_json()
    assert [w["assignee"] for w in started.get_json()["work_items"]] == ["zhengqiang"]

    assert no_eval == []
