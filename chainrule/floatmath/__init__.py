"""The engine's float arithmetic: IEEE answers where Python's own would raise, and a clear error,
naming the function and the number, where the math has no real answer.

Every function here is stated once (math's own where it never raises) and run by every interpreter:
the engine's closures and explain call it from Python, the python backend's generated code names it, and the
native backend compiles this same code with numba. So each is written in the subset numba compiles
(no f-strings, no try on a named exception): a refusal raises `DomainError` or `DivisionByZeroError` with
a message template and the numbers, and the message is formatted when it is read.
"""

from __future__ import annotations

from math import asinh, atan, atan2, copysign, degrees, erf, erfc, fabs, hypot, radians, tanh

from chainrule.floatmath.core import (
    DivisionByZeroError,
    DomainError,
    acos,
    acosh,
    asin,
    atanh,
    cbrt,
    cos,
    cosh,
    divide,
    exp,
    exp2,
    expm1,
    exponent_slope,
    log,
    log1p,
    log2,
    log10,
    power,
    power_slope,
    quotient,
    real,
    sigmoid,
    sin,
    sinh,
    sqrt,
    tan,
    value_power,
    value_power_slope,
)
from chainrule.floatmath.special import ceil, floor, fmod, gamma, lgamma, polygamma, trunc

__all__ = [
    "DivisionByZeroError",
    "DomainError",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "cbrt",
    "ceil",
    "copysign",
    "cos",
    "cosh",
    "degrees",
    "divide",
    "erf",
    "erfc",
    "exp",
    "exp2",
    "expm1",
    "exponent_slope",
    "fabs",
    "floor",
    "fmod",
    "gamma",
    "hypot",
    "lgamma",
    "log",
    "log1p",
    "log2",
    "log10",
    "polygamma",
    "power",
    "power_slope",
    "quotient",
    "radians",
    "real",
    "sigmoid",
    "sin",
    "sinh",
    "sqrt",
    "tan",
    "tanh",
    "trunc",
    "value_power",
    "value_power_slope",
]
