"""Safe evaluation of gateway conditions, assignments and simple scripts.

Python's `eval`/`exec` are never reached. An expression is parsed with `ast`, every node is checked
against a whitelist (no attribute access, no comprehensions, no lambdas, calls only to a few pure
functions), and the tree is evaluated by simpleeval. SpiffWorkflow reaches it through
`SafeEnvironment`, which replaces the library's default eval/exec environment (SPIFFWORKFLOW-NOTES).
"""

from __future__ import annotations

import ast
import re
import threading
import time
from datetime import date, datetime
from decimal import Decimal

from simpleeval import DEFAULT_OPERATORS, EvalWithCompoundTypes, NameNotDefined, safe_mult
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.process import feel, limits
from engine.process.juel import is_juel, juel_refusal, normalize
from engine.process.multi_instance import multi_instance_variables


class ExpressionError(Exception):
    """The expression is not one the safe evaluator accepts, or failed while evaluating."""


def _sized(value):
    """The value, when it is small enough to copy, print or compare (limits.value_size)."""
    if isinstance(value, (list, tuple, dict, set, frozenset, str)):
        try:
            limits.value_size(value)
        except ValueError as exc:
            raise ExpressionError(str(exc)) from None
    return value


def _str(value="") -> str:
    return str(_sized(value))


def _min(*values):
    return min(*(_sized(v) for v in values))


def _max(*values):
    return max(*(_sized(v) for v in values))


def _date(value):
    if isinstance(value, (date, datetime)):
        return value if isinstance(value, date) else value.date()
    return date.fromisoformat(_str(value)[:10])


def _days_between(start, end):
    return (_date(end) - _date(start)).days


# Guards against expressions that are whitelisted but would take minutes or gigabytes to evaluate.
# simpleeval limits one string or list to 100 000 items, but not a list of lists, a `%` format width,
# a sum of lists, round()'s negative precision (round(1, -10**9) computes 10**(10**9)) or an integer
# squared again and again. The numbers are in engine.process.limits.
MAX_ROUND_DIGITS = limits.ROUND_DIGITS
MAX_INT_BITS = limits.INT_BITS
MAX_EXPRESSION_LENGTH = limits.EXPRESSION_CHARS


def _is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _round(value, ndigits=None):
    if ndigits is not None and (not isinstance(ndigits, int) or abs(ndigits) > MAX_ROUND_DIGITS):
        raise ExpressionError(f"round() 的位数必须是 -{MAX_ROUND_DIGITS} 到 {MAX_ROUND_DIGITS} 之间的整数")
    return round(value) if ndigits is None else round(value, ndigits)


def _sum(values, start=0):
    values = list(values)
    total = start
    for value in [start, *values]:
        if not _is_number(value):
            raise ExpressionError("sum() 只能对数字求和")
    for value in values:
        total += value
    return total


def _mult(a, b):
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        raise ExpressionError("不支持用 * 重复列表")
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
        raise ExpressionError("乘积过大")  # `a = a * a` repeated in a script doubles the digits each line
    return safe_mult(a, b)


def _mod(a, b):
    if isinstance(a, (str, bytes)):
        raise ExpressionError("不支持用 % 格式化字符串")
    return a % b


FUNCTIONS = {
    "len": len,
    "int": int,
    "float": float,
    "str": _str,
    "bool": bool,
    "abs": abs,
    "min": _min,
    "max": _max,
    "round": _round,
    "sum": _sum,
    "any": any,
    "all": all,
    "date": _date,
    "days_between": _days_between,
}

CONSTANTS = {"True": True, "False": False, "None": None, "true": True, "false": False, "null": None}

_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.IfExp,
    ast.Name,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Dict,
    ast.Subscript,
    ast.Slice,
    ast.Load,
    ast.Call,
    ast.And,
    ast.Or,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
)


def _check_tree(tree: ast.AST, source: str, original: str | None = None) -> None:
    if original is not None and is_juel(original):
        for node in ast.walk(tree):
            refusal = juel_refusal(node, original)
            if refusal:
                raise ExpressionError(refusal)
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            kind = type(node).__name__
            if isinstance(node, ast.Attribute):
                raise ExpressionError(f"不允许访问属性 '.{node.attr}'（表达式：{source}）")
            raise ExpressionError(f"表达式中不允许使用 {kind}（表达式：{source}）")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExpressionError(f"不允许使用以下划线开头的名称 '{node.id}'（表达式：{source}）")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                raise ExpressionError(f"不允许调用函数 '{name}'（可用：{', '.join(sorted(FUNCTIONS))}）")
            if node.keywords:
                raise ExpressionError(f"函数调用不支持关键字参数（表达式：{source}）")


def compile_expression(expression: str) -> ast.Expression:
    """Parse and whitelist-check an expression; raise ExpressionError with a readable reason."""
    if expression is None or not str(expression).strip():
        raise ExpressionError("表达式为空")
    source = source_text(str(expression))
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"表达式过长（超过 {MAX_EXPRESSION_LENGTH} 个字符）")
    try:
        tree = ast.parse(source, mode="eval")
    except (RecursionError, MemoryError, ValueError):  # deep nesting, NUL bytes
        raise ExpressionError(f"表达式嵌套过深或含有非法字符（嵌套不超过 {limits.EXPRESSION_DEPTH} 层）") from None
    except SyntaxError as exc:
        if feel.is_feel(str(expression)):
            raise ExpressionError(f"不支持的 FEEL 表达式（{str(expression).strip()}）：{feel.SUPPORTED}") from None
        if is_juel(str(expression)) and "?" in source:
            raise ExpressionError(
                f"不支持 JUEL 三元表达式 a ? b : c（表达式：{str(expression).strip()}），请改用排他网关的多个分支"
            ) from None
        raise ExpressionError(f"表达式语法错误：{source}（{exc.msg}）") from None
    _check_depth(tree)
    _check_tree(tree, source, str(expression))
    return tree


def source_text(expression: str) -> str:
    """The expression as the evaluator reads it: JUEL (`${…}`) and FEEL (`= …`) translated, others unchanged."""
    return feel.normalize(expression) if feel.is_feel(expression) else normalize(expression)


def _check_depth(tree: ast.AST) -> None:
    """Refuse deep nesting at compile time: evaluating it would recurse (and may exhaust the stack)."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.EXPRESSION_DEPTH:
            raise ExpressionError(f"表达式嵌套过深（不超过 {limits.EXPRESSION_DEPTH} 层）")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def variable_names(tree: ast.AST) -> list[str]:
    """Names an expression reads, in order of appearance, without functions and constants."""
    names: list[str] = []
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in called and node.id not in CONSTANTS:
            if node.id not in names:
                names.append(node.id)
    return names


def _comparing(operator):
    """A comparison whose operands are first checked to be small enough to compare."""

    def compare(a, b):
        return operator(_sized(a), _sized(b))

    return compare


_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
OPERATORS = {
    **DEFAULT_OPERATORS,
    ast.Mult: _mult,
    ast.Mod: _mod,
    **{kind: _comparing(DEFAULT_OPERATORS[kind]) for kind in _COMPARISONS},
}


class _Evaluator(EvalWithCompoundTypes):
    """simpleeval with our own whitelist check in front; attribute access is never reached."""


_CACHE: dict[str, ast.Expression] = {}


def _compiled(expression: str) -> ast.Expression:
    tree = _CACHE.get(expression)
    if tree is None:
        tree = compile_expression(expression)
        if len(_CACHE) < 10000:
            _CACHE[expression] = tree
    return tree


# Building an evaluator costs more than most evaluations (it wires up its node table): keep idle ones
# per thread and hand each evaluation its own, so a nested or concurrent evaluation never shares one.
_IDLE = threading.local()


def _evaluator() -> _Evaluator:
    idle = getattr(_IDLE, "evaluators", None)
    if idle is None:
        idle = _IDLE.evaluators = []
    return idle.pop() if idle else _Evaluator(operators=dict(OPERATORS), functions=dict(FUNCTIONS))


def evaluate(expression: str, names: dict):
    tree = _compiled(expression)
    evaluator = _evaluator()
    evaluator.names = {**CONSTANTS, **names}
    try:
        return evaluator.eval(expression, previously_parsed=tree.body)
    except ExpressionError:
        raise
    except NameNotDefined as exc:
        raise ExpressionError(f"表达式求值失败：{source_text(expression)}（变量 {exc.name} 未定义）") from None
    except ZeroDivisionError:
        raise ExpressionError(f"表达式求值失败：{source_text(expression)}（除数为 0）") from None
    except Exception as exc:  # simpleeval's TypeError, KeyError ...
        raise ExpressionError(f"表达式求值失败：{source_text(expression)}（{exc}）") from None
    finally:
        evaluator.names = {}
        _IDLE.evaluators.append(evaluator)


_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff]*)\s*=(?!=)\s*(.+?)\s*$")


def compile_script(script: str) -> list[tuple[str, str]]:
    """A script fits the evaluator when every non-blank line is `name = expression`, and it is short
    enough to run within one command's budget (limits.SCRIPT_LINES, limits.SCRIPT_CHARS)."""
    if len(script or "") > limits.SCRIPT_CHARS:
        raise ExpressionError(f"脚本过长：超过 {limits.SCRIPT_CHARS} 个字符，请拆分或改用服务任务")
    lines = [line for line in (script or "").splitlines() if line.strip() and not line.strip().startswith("#")]
    if len(lines) > limits.SCRIPT_LINES:
        raise ExpressionError(f"脚本过长：{len(lines)} 行，最多 {limits.SCRIPT_LINES} 行，请拆分或改用服务任务")
    steps = []
    for number, line in enumerate((script or "").splitlines(), start=1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        if not match:
            raise ExpressionError(f"脚本第 {number} 行不是 “变量 = 表达式” 形式：{line.strip()}")
        name, expr = match.groups()
        if name.startswith("_"):
            raise ExpressionError(f"脚本第 {number} 行：变量名不能以下划线开头")
        try:
            compile_expression(expr)
        except ExpressionError as exc:
            raise ExpressionError(f"脚本第 {number} 行：{exc}") from None
        steps.append((name, expr))
    return steps


def run_script(script: str, context: dict) -> None:
    """Run the script line by line; stop when it runs longer than one command may, or builds a value
    larger than one may store (limits)."""
    started = time.thread_time()
    for number, (name, expr) in enumerate(compile_script(script), start=1):
        value = evaluate(expr, context)
        try:
            limits.value_size(value)
        except ValueError as exc:
            raise ExpressionError(f"脚本第 {number} 行（{name}）：{exc}") from None
        context[name] = value
        if time.thread_time() - started > limits.SCRIPT_SECONDS:
            raise ExpressionError(f"脚本运行超过 {limits.SCRIPT_SECONDS:g} 秒，已停止（第 {number} 行）")


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's script environment, with eval/exec replaced by the whitelisted evaluator."""

    def evaluate(self, expression, context, external_context=None):
        return evaluate(expression, {**(external_context or {}), **context})

    def execute(self, script, context, external_context=None):
        run_script(script, context)
        return True

    def call_service(self, context, **kwargs):
        raise ExpressionError("服务任务尚不支持自动执行")


class SafeScriptEngine(PythonScriptEngine):
    """The library's script engine on the safe environment; a computed loopCardinality is held to its
    limit before the library creates that many children."""

    def evaluate(self, task, expression, external_context=None):
        provided = multi_instance_variables(task)
        if provided:
            external_context = {**provided, **(external_context or {})}
        value = super().evaluate(task, expression, external_context)
        try:
            if expression is not None and expression == getattr(task.task_spec, "cardinality", None):
                check_cardinality(value)
            event = getattr(task.task_spec, "event_definition", None)
            if isinstance(event, TimerEventDefinition) and expression == event.expression:
                _check_timer_value(value)
        except ExpressionError as exc:  # named after the element, as the library names its own failures
            raise WorkflowTaskException(str(exc), task=task, exception=exc) from exc
        return value


def _check_timer_value(value) -> None:
    if not isinstance(value, (str, datetime)):
        raise ExpressionError(f"定时值必须是 ISO-8601 文本（如 PT5M），得到 {type(value).__name__}")
    _sized(value)


def check_cardinality(value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ExpressionError(f"多实例数量（loopCardinality）必须是非负整数，得到 {_str(value)[:40]}")
    if value > limits.LOOP_CARDINALITY:
        raise ExpressionError(f"多实例数量（loopCardinality）为 {value}，最多 {limits.LOOP_CARDINALITY}")


def script_engine() -> PythonScriptEngine:
    return SafeScriptEngine(environment=SafeEnvironment())
