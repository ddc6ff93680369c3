"""Known Python sandbox escapes and denial-of-service expressions, as an attacker would try them in an
expression field (tests/process/test_sandbox_catalogue.py, tests/work/test_budgets.py). Each is
(name, expression); a script place runs it as `x = <expression>`; SCRIPTS are whole scripts."""

from __future__ import annotations

ELEMENTS_1000 = "[" + ",".join(["1"] * 990) + "]"
REFERENCES = "[" + ",".join(["a"] * 990) + "]"

PAYLOADS = [
    ("dunder subclasses", "().__class__.__bases__[0].__subclasses__()"),
    ("dunder globals", "len.__self__"),
    ("dunder via subscript", "x['__class__']"),
    ("getattr", "getattr(1, '__class__')"),
    ("format attribute", "'{0.__class__}'.format(1)"),
    ("format via str.format", "str.format('{0.__init__.__globals__}', len)"),
    ("percent format", "'%s%s' % (1, 2)"),
    ("f-string", "f'{().__class__}'"),
    ("f-string width bomb", "f'{1:99999999}'"),
    ("lambda", "(lambda: 1)()"),
    ("lambda recursion", "(lambda f: f(f))(lambda f: f(f))"),
    ("list comprehension", "[x for x in range(10**9)]"),
    ("generator exhaustion", "sum(x for x in range(10**12))"),
    ("dict comprehension", "{k: 1 for k in range(10**8)}"),
    ("import", "__import__('os').system('id')"),
    ("import statement", "import os"),
    ("open", "open('/etc/passwd').read()"),
    ("exec", "exec('import os')"),
    ("eval", "eval('1+1')"),
    ("compile", "compile('1', 'x', 'eval')"),
    ("globals", "globals()"),
    ("locals", "locals()"),
    ("vars", "vars()"),
    ("builtins name", "__builtins__"),
    ("huge power", "10**10**10"),
    ("pow function", "pow(10, 10**9)"),
    ("huge shift", "1 << 10**9"),
    ("repeated squaring", "9999999999**99999"),
    ("huge multiply chain", "99999999999999999999*99999999999999999999" + "*99999999999999999999" * 90),
    ("string repeat", "'x' * 10**9"),
    ("list repeat", "[1] * 10**9"),
    ("list bomb literal", "[" + ",".join([ELEMENTS_1000] * 2) + "]"),
    ("round precision", "round(1, -10**9)"),
    ("int digits", "int('9' * 100000)"),
    ("deep parentheses", "(" * 300 + "1" + ")" * 300),
    ("deep brackets", "[" * 300 + "]" * 300),
    ("deep unary", "-" * 1500 + "1"),
    ("deep not", "not " * 450 + "x"),
    ("deep addition", "+".join(["1"] * 999)),
    ("walrus", "(y := 1)"),
    ("attribute chain", "a.b.c.d"),
    ("starred call", "max(*[1, 2])"),
    ("keyword call", "int(x='1')"),
    ("nul byte", "1\x00+1"),
    ("type()", "type(1)"),
    ("object subclass via mro", "str.mro()[1].__subclasses__()"),
    ("breakpoint", "breakpoint()"),
    ("input", "input()"),
    ("yield", "(yield 1)"),
    ("await", "await x"),
]

# Whole scripts (the script place only).
LIST_BOMB = "a = " + ELEMENTS_1000 + "\nb = " + REFERENCES + "\nc = " + REFERENCES.replace("a", "b")
STRING_BOMB = "s = 'x' * 100000\nt = [" + ",".join(["s"] * 50) + "]"
LONG_SCRIPT = "\n".join(f"v{i} = {i} + 1" for i in range(20000))
SLOW_SCRIPT = "\n".join(
    ["a = " + ELEMENTS_1000, "b = a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a"]
    + ["c = b == b + []" for _ in range(150)]
)
SCRIPTS = [
    ("list-reference bomb (10^8 elements)", LIST_BOMB + "\nd = " + REFERENCES.replace("a", "c")),
    ("huge strings", STRING_BOMB),
    ("20,000-line script", LONG_SCRIPT),
    ("long compare loop", SLOW_SCRIPT),
]
