"""The table of local derivatives: every op stated once, as small functions that many interpreters run.

`engine.py` states the ops the specification teaches as hand-written closures, for people. This table
states every op for the machines. A row gives an op's forward value and, for each parent, what the
engine's closure adds to that parent's .grad: the local derivative times the gradient that arrived
(`grad`), in the same order of operations as the closure, so every reader gets the engine's bits.

Each is a plain Python function whose first argument `o` is an interpreter: arithmetic is written
with operators (`b * grad`), every other function is called through `o` (`o.tanh(a)`), and a branch
is `o.where(o.gt(a, 0), grad, 0.0)`, never a Python `if`. The same row then runs

  - on floats (`FLOATS`, below: floatmath's functions, the engine's own arithmetic),
  - on Values (`chainrule.math.values.VALUES`: the derivative is itself a graph),
  - on symbols (`chainrule.compiler.symbols`: the python backend's code and the native kernel's),
  - on formulas (`chainrule.show.formulas`: the math explain prints),

and a new op's row reaches all of them with no edit. Nothing here is text that anyone parses.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from chainrule import floatmath

Function = Callable[..., Any]


@dataclass(frozen=True, eq=False)
class Rule:
    """One op: how a person writes it, its forward value, and ∂out/∂parent × grad for each parent.

    forward(o, *parents[, n]) and partial(o, *parents[, n], out, grad), where n is a number the op
    carries (the exponent of x ** n), not a parent."""

    name: str  # the engine's `_op`
    written: str  # as a person writes it, over a, b, n: "a + b", "tanh(a)", "a ** n", "atan2(a, b)"
    forward: Function
    partials: tuple[Function, ...]
    calls: str | None = ""  # the floatmath function the forward is ("": the op's name; None: operators)
    exponent: bool = False  # carries a number n (x ** n)
    native: bool = True  # the native interpreter computes it; False: it calls back into Python
    python: tuple[Function, ...] | None = None  # a user's op (chainrule.primitive): (f, *its partials)

    @property
    def arity(self) -> int:
        """How many parent Values the op has (a number exponent n is not a parent)."""
        return len(self.partials)

    @property
    def function(self) -> str | None:
        """The name an interpreter's function has for this op (`o.divide(a, b)` is the op `/`)."""
        return self.name if self.calls == "" else self.calls

    @property
    def symbol(self) -> str:
        """The op as a drawing labels it: the operator of `written`, or the function's name."""
        called = re.match(r"(\w+)\(", self.written)  # `tanh(a)`, and a user's op by its function's name
        if called:
            return called.group(1)
        return re.sub(r"\b[abn]\b", "", self.written).strip() or self.name

    def value(self, o: Any, parents: Sequence[Any], n: Any = None) -> Any:
        """The forward value of the op on these parents, run by interpreter o."""
        return self.forward(o, *parents, *((n,) if self.exponent else ()))

    def share(self, i: int, o: Any, parents: Sequence[Any], n: Any, out: Any, grad: Any) -> Any:
        """What parent i's grad gets when the op fires with this grad, run by interpreter o."""
        return self.partials[i](o, *parents, *((n,) if self.exponent else ()), out, grad)

    def __reduce__(self) -> tuple[Callable[[str], Rule], tuple[str]]:
        """Pickled by name (a compiled program shipped to another process): that process's row of the op."""
        return named, (self.name,)


class Written:
    """A value of an interpreter that writes a row rather than computes it (source text, a formula):
    each arithmetic operator calls `combine(operator, left, right)`; a reflected one (2 - x) swaps them."""

    __slots__ = ()

    def combine(self, operator: str, left: Any, right: Any) -> Any:
        raise NotImplementedError

    def __add__(self, other: Any) -> Any:
        return self.combine("+", self, other)

    def __radd__(self, other: Any) -> Any:
        return self.combine("+", other, self)

    def __sub__(self, other: Any) -> Any:
        return self.combine("-", self, other)

    def __rsub__(self, other: Any) -> Any:
        return self.combine("-", other, self)

    def __mul__(self, other: Any) -> Any:
        return self.combine("*", self, other)

    def __rmul__(self, other: Any) -> Any:
        return self.combine("*", other, self)

    def __truediv__(self, other: Any) -> Any:
        return self.combine("/", self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return self.combine("/", other, self)


def call(rule: Rule, k: int, *args: float) -> float:
    """A user's op on floats (chainrule.primitive): k = 0 is its function, k = i + 1 its partial i."""
    assert rule.python is not None, f"{rule.name!r} is not a user's op"
    return floatmath.real(rule.python[k](*args), f"{rule.symbol!r} (a chainrule.primitive) returned")


def where(condition: Any, if_true: Any, if_false: Any) -> Any:
    """The value on the side the condition takes (both sides are computed: each must be safe)."""
    return if_true if condition else if_false


COMPARISONS = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
    "eq": operator.eq,
    "ne": operator.ne,
}

# The float interpreter: floatmath's functions, where, and comparisons as Python has them
FLOATS = SimpleNamespace(
    **{name: getattr(floatmath, name) for name in floatmath.__all__}, where=where, call=call, **COMPARISONS
)


# grad is the gradient that arrived at the op's output; a partial written -(...) is the closure's `-=`
# (IEEE's x - y is x + -y, to the bit). Same expressions, same order of operations as the closures.
RULES: list[Rule] = [
    Rule("+", "a + b", lambda o, a, b: a + b, (lambda o, a, b, out, g: g, lambda o, a, b, out, g: g), None),
    Rule("-", "a - b", lambda o, a, b: a - b, (lambda o, a, b, out, g: g, lambda o, a, b, out, g: -g), None),
    Rule(
        "*",
        "a * b",
        lambda o, a, b: a * b,
        (lambda o, a, b, out, g: b * g, lambda o, a, b, out, g: a * g),
        None,
    ),
    # d(a/b)/db = -a/b², computed as a/b/b: b*b underflows to 0 for |b| < 1.5e-154 (PyTorch's form)
    Rule(
        "/",
        "a / b",
        lambda o, a, b: o.divide(a, b),
        (lambda o, a, b, out, g: g / b, lambda o, a, b, out, g: -(g * (a / b / b))),
        "divide",
    ),
    Rule(
        "**",
        "a ** n",
        lambda o, a, n: o.power(a, n),
        (lambda o, a, n, out, g: o.power_slope(a, n) * g,),
        "power",
        True,
    ),
    Rule(
        "pow",
        "a ** b",
        lambda o, a, b: o.value_power(a, b),
        (
            lambda o, a, b, out, g: o.value_power_slope(a, b) * g,
            lambda o, a, b, out, g: o.exponent_slope(a, out) * g,
        ),
        "value_power",
    ),
    Rule("neg", "-a", lambda o, a: -a, (lambda o, a, out, g: -g,), None),
    Rule("tanh", "tanh(a)", lambda o, a: o.tanh(a), (lambda o, a, out, g: (1 - out * out) * g,)),
    Rule("exp", "exp(a)", lambda o, a: o.exp(a), (lambda o, a, out, g: out * g,)),
    Rule("log", "log(a)", lambda o, a: o.log(a), (lambda o, a, out, g: g / a,)),
    Rule("sin", "sin(a)", lambda o, a: o.sin(a), (lambda o, a, out, g: o.cos(a) * g,)),
    Rule("cos", "cos(a)", lambda o, a: o.cos(a), (lambda o, a, out, g: -(o.sin(a) * g),)),
    Rule(
        "relu",
        "relu(a)",
        lambda o, a: o.where(o.le(a, 0), 0.0, a),
        (lambda o, a, out, g: o.where(o.gt(a, 0), g, 0.0),),
        None,
    ),
    Rule("sigmoid", "sigmoid(a)", lambda o, a: o.sigmoid(a), (lambda o, a, out, g: out * (1 - out) * g,)),
    # The slopes of powers are ops too, so that a gradient that uses them can be differentiated again
    Rule(
        "power_slope",
        "power_slope(a, n)",
        lambda o, a, n: o.power_slope(a, n),
        (lambda o, a, n, out, g: o.where(o.eq(n, 0), 0.0, n * o.power_slope(a, n - 1)) * g,),
        exponent=True,
    ),
    Rule(
        "value_power_slope",
        "value_power_slope(a, b)",
        lambda o, a, b: o.value_power_slope(a, b),
        (
            lambda o, a, b, out, g: o.where(o.eq(b, 0), 0.0, b * o.value_power_slope(a, b - 1)) * g,
            # d/db b·a^(b-1) = a^(b-1) + out·ln a, a^(b-1) being out/b (1/a at b = 0): IEEE at a = 0
            lambda o, a, b, out, g: (
                (o.where(o.eq(b, 0), o.quotient(1.0, a), o.quotient(out, b)) + o.exponent_slope(a, out)) * g
            ),
        ),
    ),
    Rule(
        "exponent_slope",
        "exponent_slope(a, b)",
        lambda o, a, b: o.exponent_slope(a, b),
        (
            lambda o, a, b, out, g: o.where(o.eq(a, 0), 0.0, o.quotient(b, a)) * g,
            lambda o, a, b, out, g: o.exponent_slope(a, 1.0) * g,
        ),
    ),
]
BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
BY_FUNCTION: dict[str, Rule] = {rule.function: rule for rule in RULES if rule.function}


def register(rule: Rule) -> Rule:
    """Add a row to the table (chainrule.math's functions, a user's primitive): every reader sees it."""
    if rule.name in BY_NAME:
        raise ValueError(f"the table of local derivatives has an op {rule.name!r} already")
    RULES.append(rule)
    BY_NAME[rule.name] = rule
    if rule.function and rule.python is None:
        BY_FUNCTION[rule.function] = rule
    return rule


def named(name: str) -> Rule:
    """The row of the op called name, for an unpickled program; LookupError saying what to import."""
    rule = BY_NAME.get(name)
    if rule is None:
        raise LookupError(
            f"the table of local derivatives has no op {name!r} in this process: import the module that "
            "makes it (chainrule.primitive) before unpickling a program that uses it"
        )
    return rule


def rule_of(node: Any) -> Rule:
    """The row of the op that made a node; ValueError naming the op if the table has none that fits."""
    rule = BY_NAME.get(node._op)
    if rule is None:
        raise ValueError(f"the table of local derivatives has no op {node._op!r}")
    if len(node._prev) != rule.arity:
        raise ValueError(f"a {node._op!r} node needs {rule.arity} parents, it has {len(node._prev)}")
    return rule
