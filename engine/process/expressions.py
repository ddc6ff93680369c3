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
from datetime import date, datetime
from decimal import Decimal

from simpleeval import DEFAULT_OPERATORS, EvalWithCompoundTypes, safe_mult
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

MAX_EXPRESSION_LENGTH = 2000


class ExpressionError(Exception):
    """The expression is not one the safe evaluator accepts, or failed while evaluating."""


def _date(value):
    if isinstance(value, (date, datetime)):
        return value if isinstance(value, date) else value.date()
    return date.fromisoformat(str(value)[:10])


def _days_between(start, end):
    return (_date(end) - _date(start)).days


# Guards against expressions that are whitelisted but would take minutes or gigabytes to evaluate.
# simpleeval limits one string or list to 100 000 items, but not a list of lists, a `%` format width,
# a sum of lists, round()'s negative precision (round(1, -10**9) computes 10**(10**9)) or an integer
# squared again and again.
MAX_ROUND_DIGITS = 20
MAX_INT_BITS = 4096


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
    "str": str,
    "bool": bool,
    "abs": abs,
    "min": min,
    "max": max,
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


# JUEL as Camunda/Flowable designers write it: ${a == 'x' && b > 3}, #{!approved}, ${empty list}.
_JUEL_WRAPPED = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.S)
_JUEL_TOKENS = [
    (re.compile(r"&&"), " and "),
    (re.compile(r"\|\|"), " or "),
    (re.compile(r"!(?!=)"), " not "),
    (re.compile(r"\bempty\s+([A-Za-z_][\w]*)"), r"(not \1)"),
    (re.compile(r"\bnull\b"), "None"),
    (re.compile(r"\beq\b"), "=="),
    (re.compile(r"\bne\b"), "!="),
    (re.compile(r"\bgt\b"), ">"),
    (re.compile(r"\blt\b"), "<"),
    (re.compile(r"\bge\b"), ">="),
    (re.compile(r"\ble\b"), "<="),
    (re.compile(r"\band\b"), "and"),
    (re.compile(r"\bdiv\b"), "/"),
    (re.compile(r"\bmod\b"), "%"),
]


def normalize(expression: str) -> str:
    """Turn a JUEL-wrapped expression into the Python-like syntax we evaluate; leave others alone."""
    text = expression.strip()
    match = _JUEL_WRAPPED.match(text)
    if not match:
        return text
    inner = match.group(1)
    # Keep string literals out of the token rewriting.
    parts = re.split(r"('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")", inner)
    for i in range(0, len(parts), 2):
        for pattern, repl in _JUEL_TOKENS:
            parts[i] = pattern.sub(repl, parts[i])
    return "".join(parts).strip()


def is_juel(expression: str) -> bool:
    return bool(_JUEL_WRAPPED.match(expression or ""))


def _juel_refusal(node: ast.AST, original: str) -> str | None:
    """Camunda/Flowable expressions often call Java beans; say so plainly instead of naming an AST node."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return (
            f"不支持 JUEL 方法调用 '{ast.unparse(node.func)}()'（表达式：{original.strip()}）："
            "oaflow 不调用 Java Bean 或方法，请改为只使用流程变量的条件，例如 ${days > 3}"
        )
    if isinstance(node, ast.Attribute):
        return (
            f"不支持 JUEL Bean 引用 '{ast.unparse(node)}'（表达式：{original.strip()}）："
            "oaflow 只求值流程变量，请改为变量名，例如 ${approved}"
        )
    return None


def _check_tree(tree: ast.AST, source: str, original: str | None = None) -> None:
    if original is not None and is_juel(original):
        for node in ast.walk(tree):
            refusal = _juel_refusal(node, original)
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
    source = normalize(str(expression))
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"表达式过长（超过 {MAX_EXPRESSION_LENGTH} 个字符）")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        if is_juel(str(expression)) and "?" in source:
            raise ExpressionError(
                f"不支持 JUEL 三元表达式 a ? b : c（表达式：{str(expression).strip()}），请改用排他网关的多个分支"
            ) from None
        raise ExpressionError(f"表达式语法错误：{source}（{exc.msg}）") from None
    _check_tree(tree, source, str(expression))
    return tree


def variable_names(tree: ast.AST) -> list[str]:
    """Names an expression reads, in order of appearance, without functions and constants."""
    names: list[str] = []
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in called and node.id not in CONSTANTS:
            if node.id not in names:
                names.append(node.id)
    return names


OPERATORS = {**DEFAULT_OPERATORS, ast.Mult: _mult, ast.Mod: _mod}


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
    except Exception as exc:  # simpleeval's NameNotDefined, TypeError, ZeroDivisionError ...
        raise ExpressionError(f"表达式求值失败：{normalize(expression)}（{exc}）") from None
    finally:
        evaluator.names = {}
        _IDLE.evaluators.append(evaluator)


_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff]*)\s*=(?!=)\s*(.+?)\s*$")


def compile_script(script: str) -> list[tuple[str, str]]:
    """A script fits the evaluator when every non-blank line is `name = expression`."""
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
    for name, expr in compile_script(script):
        context[name] = evaluate(expr, context)


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's script environment, with eval/exec replaced by the whitelisted evaluator."""

    def evaluate(self, expression, context, external_context=None):
        return evaluate(expression, {**(external_context or {}), **context})

    def execute(self, script, context, external_context=None):
        run_script(script, context)
        return True

    def call_service(self, context, **kwargs):
        raise ExpressionError("服务任务尚不支持自动执行")


def script_engine() -> PythonScriptEngine:
    return PythonScriptEngine(environment=SafeEnvironment())
