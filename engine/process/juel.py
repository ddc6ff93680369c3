"""JUEL as Camunda and Flowable designers write it (`${a == 'x' && b > 3}`, `#{!approved}`), turned into the
Python-like syntax the safe evaluator reads, and the plain refusal of what JUEL can do and we do not (calling
Java beans and methods)."""

from __future__ import annotations

import ast
import re

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


def juel_refusal(node: ast.AST, original: str) -> str | None:
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
