"""The table's float functions for numba: floatmath's arithmetic, and where floatmath would raise.

Each function computes what its floatmath namesake returns, with libm doing the transcendental work
(numba calls the same libm functions CPython's math module calls). Where floatmath raises, numba cannot
build the engine's message: `<name>_fails(...)` says whether it would, so the interpreter stops at that
node, and Python recomputes the node with floatmath, which raises the engine's own error.
"""

from __future__ import annotations

import math
from math import cos, sin, tanh  # noqa: F401 (for the interpreter: numba calls libm's, as CPython does)

from numba import njit

_EXP_MAX = math.log(1.7976931348623157e308)  # floatmath's bound: past it, e^x is inf
_inline = njit(inline="always", error_model="numpy")


@_inline
def divide(a, b):
    return a / b


@_inline
def divide_fails(a, b):
    return b == 0


@_inline
def log(x):
    return math.log(x)


@_inline
def log_fails(x):
    return x <= 0


@_inline
def exp(x):
    return math.inf if x > _EXP_MAX else math.exp(x)


@_inline
def _is_integer(x):
    return math.isfinite(x) and math.floor(x) == x


@_inline
def power(base, exponent):
    # libm's pow answers IEEE's way where Python raises OverflowError: the ±inf floatmath returns
    return base**exponent


@_inline
def power_fails(base, exponent):
    # a negative base to a non-integer (or infinite, or NaN) power; 0 to a finite negative one
    negative_base = base < 0 and not _is_integer(exponent)
    return negative_base or (base == 0 and exponent < 0 and math.isfinite(exponent))


@_inline
def value_power(a, b):
    return a**b


@_inline
def value_power_fails(a, b):
    return a < 0 or power_fails(a, b)


@_inline
def exponent_slope(a, a_to_the_b):
    return a_to_the_b * math.log(a) if a != 0 else 0.0


@_inline
def power_slope(x, n):
    if n == 0:
        return 0.0
    if x == 0 and n < 1:
        return math.inf
    return n * x ** (n - 1)


@_inline
def sigmoid(x):
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    z = math.exp(x)
    return z / (1 + z)
