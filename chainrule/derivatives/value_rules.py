"""The table of local derivatives run with Values: VALUES, the namespace in which a partial builds a graph.

`rules.function(partial, VALUES)(a, b, n, out, grad)` computes the same number as the row run with FLOATS,
to the bit, but as a Value: a node of a graph that can itself be differentiated. This is where derivatives
of derivatives come from; no rule is stated again. The functions of rules.FUNCTIONS that are plain calls
of an engine method (`tanh(a)`, `exp(a)`, `sin(a)`) are the methods themselves, found by name, so a new
row of that kind needs no edit here; the few that are not are written below with Value ops.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from chainrule.engine import Value
from chainrule.rules import FUNCTIONS
from chainrule.runtime.tracing import tracing_listeners

Number = Value | float


# Who is told when a derivative's graph depends on a branch on data (relu's `a > 0`, a special case at 0):
# jit's tracing listens (in its own thread or task): compiled code keeps the branch taken while tracing.
def _branched(what: str) -> None:
    for listener in tracing_listeners():
        listener(what)


def data(x: Number) -> float:
    """The number inside a Value (a number as it is): the table's comparisons (relu's `a > 0`) read this."""
    if isinstance(x, Value):
        _branched("a comparison in the table (relu's slope)")
        return x.data
    return x


def _value(x: Number) -> Value:
    return x if isinstance(x, Value) else Value(x)


def power(a: Value, n: float) -> Value:
    """a^n for a number n."""
    return a**n


def value_power(a: Value, b: Value) -> Value:
    """a^b for a Value b."""
    return a**b


def divide(a: Value, b: Value) -> Value:
    """a / b."""
    return a / b


def power_slope(a: Value, n: Number) -> Number:
    """d/da a^n = n·a^(n-1); floatmath.power_slope's special cases (n = 0; a = 0 with n < 1) are constants."""
    exponent = n.data if isinstance(n, Value) else n
    if exponent == 0 or (exponent < 1 and a.data == 0):
        if isinstance(n, Value) or exponent != 0:  # a number n = 0 is the same constant at every call
            _branched("the slope of a power at 0")
        return 0.0 if exponent == 0 else math.inf
    return n * a ** (n - 1)


def exponent_slope(a: Value, out: Value) -> Number:
    """d/db a^b = a^b·ln a, given out = a^b; the constant 0 at a = 0, as floatmath.exponent_slope."""
    if a.data == 0:
        _branched("the slope of a^b in b at a = 0")
        return 0.0
    return out * a.log()


def _method(name: str) -> Callable[[Number], Value]:
    def call(x: Number) -> Value:
        return getattr(_value(x), name)()

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"x.{name}(), the engine's own op."
    return call


_WRITTEN: dict[str, Callable[..., Any]] = {
    "divide": divide,
    "exponent_slope": exponent_slope,
    "power": power,
    "power_slope": power_slope,
    "value_power": value_power,
}

# Every function of the table: written above, or the engine's method of the same name (where it has one)
VALUES: dict[str, Callable[..., Any]] = {
    name: _WRITTEN[name] if name in _WRITTEN else _method(name)
    for name in FUNCTIONS
    if name in _WRITTEN or callable(getattr(Value, name, None))
}
VALUES["data"] = data  # rules.function compares data(...) where the namespace has `data`
