"""chainrule.math: Python's math module for Values, with the same names and arguments.

Given plain numbers, each function returns what `math` returns (one program runs on floats and on
Values unchanged), except that where math raises OverflowError the answer is inf, as it is for a
Value. Given any Value, it returns a Value whose local derivative is the function's own: a node of
the graph like any other. floor, ceil and trunc of a Value are Values too (slope 0), so a compiled
program recomputes them at every call. Domain errors name the function and the number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from chainrule import floatmath
from chainrule.engine import Value
from chainrule.math import floatlike, table  # register their rows in the table; floatlike: Value's <, bool, %
from chainrule.math.primitive import primitive
from chainrule.math.values import node
from chainrule.rules import BY_NAME

pi, e, tau, inf, nan = math.pi, math.e, math.tau, math.inf, math.nan

Number = Value | float

UNARY = [
    *("sqrt", "cbrt", "exp", "exp2", "expm1", "log2", "log10", "log1p"),
    *("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh"),
    *("erf", "erfc", "gamma", "lgamma", "fabs", "degrees", "radians"),
]
BINARY = ("atan2", "copysign", "fmod")
ROUNDING = ("floor", "ceil", "trunc")  # math's give ints for numbers; a Value's is a float


def _function(name: str, plain: Callable[..., Any]) -> Callable[..., Any]:
    rule = BY_NAME[name]

    def function(*args: Any) -> Any:
        if any(isinstance(x, Value) for x in args):
            return node(rule, *args)
        return plain(*(floatmath.real(x, f"chainrule.math.{name}") for x in args))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"math.{name} for numbers; for a Value, the op {name} (its own local derivative)."
    function.__module__ = __name__
    return function


def _rounding(name: str) -> Callable[[Number], Any]:
    rule, plain = BY_NAME[name], getattr(math, name)

    def function(x: Number) -> Any:
        return node(rule, x) if isinstance(x, Value) else plain(x)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"math.{name} for numbers (an int); for a Value, a Value with slope 0."
    function.__module__ = __name__
    return function


_FUNCTIONS = {name: _function(name, getattr(floatmath, name)) for name in UNARY}
_FUNCTIONS |= {name: _function(name, getattr(floatmath, name)) for name in BINARY}
_FUNCTIONS |= {name: _rounding(name) for name in ROUNDING}
sqrt, cbrt, exp, exp2, expm1 = (_FUNCTIONS[n] for n in ("sqrt", "cbrt", "exp", "exp2", "expm1"))
log2, log10, log1p = _FUNCTIONS["log2"], _FUNCTIONS["log10"], _FUNCTIONS["log1p"]
sin, cos, tan, asin, acos, atan = (_FUNCTIONS[n] for n in ("sin", "cos", "tan", "asin", "acos", "atan"))
sinh, cosh, tanh = _FUNCTIONS["sinh"], _FUNCTIONS["cosh"], _FUNCTIONS["tanh"]
asinh, acosh, atanh = _FUNCTIONS["asinh"], _FUNCTIONS["acosh"], _FUNCTIONS["atanh"]
erf, erfc, gamma, lgamma = _FUNCTIONS["erf"], _FUNCTIONS["erfc"], _FUNCTIONS["gamma"], _FUNCTIONS["lgamma"]
fabs, degrees, radians = _FUNCTIONS["fabs"], _FUNCTIONS["degrees"], _FUNCTIONS["radians"]
atan2, copysign, fmod = _FUNCTIONS["atan2"], _FUNCTIONS["copysign"], _FUNCTIONS["fmod"]
floor, ceil, trunc = _FUNCTIONS["floor"], _FUNCTIONS["ceil"], _FUNCTIONS["trunc"]


def log(x: Number, base: Number | None = None) -> Any:
    """ln x, or log of x to `base` (ln x / ln base, as math computes it)."""
    if isinstance(x, Value) or isinstance(base, Value):
        natural = node(BY_NAME["log"], x)
        return natural if base is None else natural / node(BY_NAME["log"], base)
    x = floatmath.real(x, "chainrule.math.log")
    return floatmath.log(x) if base is None else floatmath.log(x) / floatmath.log(floatmath.real(base))


def pow(x: Number, y: Number) -> Any:  # noqa: A001 (math's name)
    """x ** y; for numbers what math.pow returns, for Values the engine's ** (x ** n, or a^b)."""
    if isinstance(x, Value) or isinstance(y, Value):
        return (x if isinstance(x, Value) else Value(x)) ** y
    return floatmath.power(floatmath.real(x, "chainrule.math.pow"), floatmath.real(y, "chainrule.math.pow"))


def hypot(*coordinates: Number) -> Any:
    """√(x1² + x2² + …); with Values, pairwise: hypot(hypot(x1, x2), x3), …"""
    if not any(isinstance(x, Value) for x in coordinates):
        return math.hypot(*(floatmath.real(x, "chainrule.math.hypot") for x in coordinates))
    if len(coordinates) == 1:
        return fabs(coordinates[0])
    total = coordinates[0]
    for x in coordinates[1:]:
        total = node(BY_NAME["hypot"], total, x)
    return total


def _abs(self: Value) -> Value:
    """abs(v): |v|, the op fabs (slope sign(v), 0 at 0)."""
    return node(BY_NAME["fabs"], self)


Value.__abs__ = _abs  # type: ignore[attr-defined]  # abs() of a Value: a method Python looks up on the type

__all__ = [
    *UNARY,
    *BINARY,
    *ROUNDING,
    "e",
    "floatlike",
    "hypot",
    "inf",
    "log",
    "nan",
    "pi",
    "pow",
    "primitive",
    "table",
    "tau",
]
