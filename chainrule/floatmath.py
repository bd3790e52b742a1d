"""Float functions with IEEE answers where Python's own would raise or lose precision.

The engine computes its forward values and local slopes with these, and so does any code that
must agree with the engine to the bit (compiled gradients, for one).
"""

from __future__ import annotations

import math

_EXP_MAX = math.log(1.7976931348623157e308)  # past this math.exp raises OverflowError


def power(base: float, exponent: float) -> float:
    """base**exponent, overflowing to ±inf as IEEE arithmetic does where Python would raise."""
    try:
        return base**exponent
    except OverflowError:
        return math.copysign(math.inf, base) if exponent % 2 == 1 else math.inf
    except ZeroDivisionError:
        raise ZeroDivisionError(f"** : 0 cannot be raised to the negative power {exponent!r}") from None


def power_slope(x: float, n: float) -> float:
    """d/dx x^n = n·x^(n-1); at x = 0 with 0 < n < 1 it is infinite and with n = 0 zero (as in PyTorch)."""
    if n == 0:  # x^0 is constant; n·x^-1 would be 0·inf = NaN where 1/x overflows (subnormal x)
        return 0.0
    if x == 0 and n < 1:
        return math.inf
    return n * power(x, n - 1)


def exp(x: float) -> float:
    """e^x, overflowing to inf instead of raising OverflowError."""
    return math.inf if x > _EXP_MAX else math.exp(x)


def sigmoid(x: float) -> float:
    """1 / (1 + e^-x), in the form whose exp never overflows: sigmoid(1000) is 1.0, sigmoid(-1000) is 0.0."""
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    z = math.exp(x)
    return z / (1 + z)
