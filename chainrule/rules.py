"""The table of local derivatives: every op of the engine stated once, as data the machines read.

`engine.py` states each op as a hand-written closure, for people. This table states the same rules for
the machines: the jit's generated code, explain's numbers, forward mode, derivatives of derivatives.
A row gives an op's forward value and, for each parent, its local derivative times the gradient that
arrived (`grad`), as the engine's closure adds it. Each is a Python expression over the parents `a`, `b`,
the op's output `out`, a number exponent `n` and the functions of a namespace, so one row can be

  - run with floats (`FLOATS`: the engine's own float functions, so the numbers are the engine's bits),
  - run with Values (a namespace of Value ops: the derivative is then itself a graph),
  - rendered as source text (`template`: the jit writes the same expression with its own variables).

Adding an op means its closure in engine.py and its row here; a test holds the two equal, to the bit.
The expressions are this file's own text, compiled once at import: nothing a user types reaches them.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chainrule import floatmath

VARIABLES = ("a", "b", "n", "out", "grad")


@dataclass(frozen=True)
class Rule:
    """One op: how a person writes it, its forward value, and ∂out/∂parent × grad for each parent."""

    name: str  # the engine's `_op`
    written: str  # as a person writes it, over a, b, n: "a + b", "tanh(a)", "a ** n"
    forward: str  # the value, as the engine computes it
    partials: tuple[str, ...]  # per parent: what the closure adds to that parent's grad

    @property
    def arity(self) -> int:
        """How many parent Values the op has (a number exponent n is not a parent)."""
        return len(self.partials)

    @property
    def has_exponent(self) -> bool:
        return "n" in _names(self.forward)

    @property
    def symbol(self) -> str:
        """The op as a drawing labels it: the operator of `written`, or the function's name."""
        tree = ast.parse(self.written, mode="eval").body
        if isinstance(tree, ast.Call):
            return tree.func.id  # type: ignore[attr-defined]
        return re.sub(r"\b[abn]\b", "", self.written).strip()


# grad is the gradient that arrived at the op's output; each partial is what the engine's closure
# adds into that parent's .grad (a partial written -(...) is the closure's `-=`). Same expressions,
# same order of operations as the closures: the same bits.
RULES: tuple[Rule, ...] = (
    #    op     written    forward          what each parent's grad gets: (a's, b's)
    Rule("+", "a + b", "a + b", ("grad", "grad")),
    Rule("-", "a - b", "a - b", ("grad", "-grad")),
    Rule("*", "a * b", "a * b", ("b * grad", "a * grad")),
    # d(a/b)/db = -a/b², computed as a/b/b: b*b underflows to 0 for |b| < 1.5e-154 (PyTorch's form)
    Rule("/", "a / b", "divide(a, b)", ("grad / b", "-(grad * (a / b / b))")),
    Rule("**", "a ** n", "power(a, n)", ("power_slope(a, n) * grad",)),
    Rule("pow", "a ** b", "value_power(a, b)", ("power_slope(a, b) * grad", "exponent_slope(a, out) * grad")),
    Rule("neg", "-a", "-a", ("-grad",)),
    Rule("tanh", "tanh(a)", "tanh(a)", ("(1 - out * out) * grad",)),
    Rule("exp", "exp(a)", "exp(a)", ("out * grad",)),
    Rule("log", "log(a)", "log(a)", ("grad / a",)),
    Rule("sin", "sin(a)", "sin(a)", ("cos(a) * grad",)),
    Rule("cos", "cos(a)", "cos(a)", ("-(sin(a) * grad)",)),
    Rule("relu", "relu(a)", "0.0 if a <= 0 else a", ("grad if a > 0 else 0.0",)),
    Rule("sigmoid", "sigmoid(a)", "sigmoid(a)", ("out * (1 - out) * grad",)),
)
BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}


def _names(expression: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(expression, mode="eval")) if isinstance(node, ast.Name)}


# The functions the rows call: a namespace gives each its floats' or its Values' version
FUNCTIONS = tuple(
    sorted(set().union(*(_names(e) for r in RULES for e in (r.forward, *r.partials))) - set(VARIABLES))
)
# The float namespace: the engine's float functions (floatmath), then math's for the rest (tanh, …)
FLOATS: dict[str, Any] = {name: getattr(floatmath, name, None) or getattr(math, name) for name in FUNCTIONS}


_COMPILED: dict[tuple[str, int], tuple[Mapping[str, Any], Callable[..., Any]]] = {}


def function(expression: str, namespace: Mapping[str, Any]) -> Callable[..., Any]:
    """A row's expression (its forward or a partial) as a function (a, b, n, out, grad) over namespace.

    The namespace maps the names of FUNCTIONS to floats' or Values' versions; compiled once per pair.
    A comparison (relu's `a > 0`) is a branch, not an op: where the namespace has `data`, it compares
    the numbers inside the Values, so the branch is taken as the engine takes it."""
    key = (expression, id(namespace))
    if key not in _COMPILED:
        if _canonical(expression) not in _TABLE_TEXT:  # the promise, kept by the code: no other text
            raise ValueError(f"rules.function runs the table's own expressions only, not {expression!r}")
        tree = ast.parse(f"lambda a, b, n, out, grad: {expression}", mode="eval")
        if "data" in namespace:
            for compare in (node for node in ast.walk(tree) if isinstance(node, ast.Compare)):
                operands = [compare.left, *compare.comparators]
                wrapped: list[ast.expr] = [ast.Call(ast.Name("data", ast.Load()), [x], []) for x in operands]
                compare.left, compare.comparators = wrapped[0], wrapped[1:]
        code = compile(ast.fix_missing_locations(tree), f"<rule {expression}>", "eval")
        # the namespace is kept beside its function, so its id cannot be reused while the entry lives
        _COMPILED[key] = namespace, eval(code, dict(namespace))  # the table's own text, never a user's
    return _COMPILED[key][1]


def signed(partial: str) -> tuple[str, str]:
    """A partial as (sign, term): `-(grad * x)` is ("-", "grad * x"), the closure's `-=`; else ("+", it)."""
    tree = ast.parse(partial, mode="eval").body
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub):
        return "-", ast.unparse(tree.operand)
    return "+", partial


def _canonical(expression: str) -> str:
    return ast.unparse(ast.parse(expression, mode="eval"))


# Every expression the table states, and each partial's term without its sign: all that function() runs
_TABLE_TEXT = {
    _canonical(text)
    for rule in RULES
    for text in (rule.written, rule.forward, *rule.partials, *(signed(p)[1] for p in rule.partials))
}


def rule_of(node: Any) -> Rule:
    """The row of the op that made a node; ValueError naming the op if the table has none that fits."""
    rule = BY_NAME.get(node._op)
    if rule is None:
        raise ValueError(f"the table of local derivatives has no op {node._op!r}")
    if len(node._prev) != rule.arity:
        raise ValueError(f"a {node._op!r} node needs {rule.arity} parents, it has {len(node._prev)}")
    return rule


def template(expression: str) -> str:
    """expression as a str.format template over {a} {b} {n} {out} {grad}, parenthesised as written."""
    tree = ast.parse(expression, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in VARIABLES:
            node.id = f"__{node.id}__"
    text = ast.unparse(tree)
    for name in VARIABLES:
        text = text.replace(f"__{name}__", "{" + name + "}")
    return text


def _check_table() -> None:
    """No `**` in an expression: the jit writes n as a literal, and -2.0 ** 2 would read as -(2.0 ** 2)."""
    for rule in RULES:
        for expression in (rule.forward, *rule.partials):
            if any(isinstance(node, ast.Pow) for node in ast.walk(ast.parse(expression, mode="eval"))):
                raise ValueError(f"rule {rule.name!r}: write power(x, y), not x ** y, in {expression!r}")


_check_table()
