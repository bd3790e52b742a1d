"""The engine's float arithmetic: IEEE answers where Python's own would raise, and a clear error,
naming the op and the number, where the math has no answer.

The engine computes its forward values and local slopes with these, and so does any code that
must agree with the engine to the bit and in its errors (compiled gradients, for one).
"""

from __future__ import annotations

import math
import numbers

_EXP_MAX = math.log(1.7976931348623157e308)  # past this math.exp raises OverflowError


def real(x: object, what: str = "Value") -> float:
    """x as a Python float: any numbers.Real but bool (int, numpy scalars, Fraction); TypeError otherwise.

    A number too large for a float (10**400) is an OverflowError naming it, not Python's bare one."""
    try:
        if type(x) is int or (isinstance(x, numbers.Real) and not isinstance(x, bool)):  # int first: fast
            return float(x)
    except OverflowError:
        raise OverflowError(f"{what} got {_typed(x)}: too large for a 64-bit float (> 1.8e308)") from None
    raise TypeError(f"{what} takes a real number (int, float, numpy scalar, Fraction), got {_typed(x)}")


def _typed(x: object) -> str:
    """The type and the number, a huge one by its size: `int ≈ 10^400` (its repr could be 400 digits)."""
    if isinstance(x, numbers.Rational) and x.numerator:
        size = math.log10(abs(x.numerator)) - math.log10(x.denominator)
        if size > 300:
            return f"{type(x).__name__} ≈ {'-' if x < 0 else ''}10^{size:.0f}"
    text = repr(x)
    return f"{type(x).__name__}: {text if len(text) <= 60 else text[:57] + '...'}"


def divide(a: float, b: float) -> float:
    """a / b; ZeroDivisionError naming both numbers when b is 0."""
    if b == 0:
        raise ZeroDivisionError(f"division by zero in /: {a!r} / {b!r}")
    return a / b


def log(x: float) -> float:
    """ln x for x > 0 (NaN gives NaN); ValueError naming x otherwise."""
    if x <= 0:
        raise ValueError(f"log needs a positive argument, got {x!r}")
    return math.log(x)


def power(base: float, exponent: float) -> float:
    """base**exponent, overflowing to ±inf as IEEE arithmetic does where Python would raise.

    A negative base to a non-integer power is complex: ValueError, not Python's complex number."""
    if base < 0 and not float(exponent).is_integer():
        raise ValueError(f"** of negative base {base!r} to the non-integer power {exponent!r} is complex")
    try:
        return base**exponent
    except OverflowError:
        return math.copysign(math.inf, base) if exponent % 2 == 1 else math.inf
    except ZeroDivisionError:
        raise ZeroDivisionError(f"** : 0 cannot be raised to the negative power {exponent!r}") from None


def value_power(a: float, b: float) -> float:
    """a**b where the exponent b is a variable: a^b = exp(b·ln a) needs a base a >= 0."""
    if a < 0:
        raise ValueError(f"** with a Value exponent needs a base >= 0, got {a!r} (a^b = exp(b·ln a))")
    return power(a, b)


def exponent_slope(a: float, a_to_the_b: float) -> float:
    """d/db a^b = a^b·ln a, taken as 0 at a = 0 (as in PyTorch); NaN stays NaN."""
    return a_to_the_b * math.log(a) if a != 0 else 0.0


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


def sin(x: float) -> float:
    """sin x; NaN at ±inf, as IEEE 754 says, where math.sin raises ValueError."""
    return math.nan if math.isinf(x) else math.sin(x)


def cos(x: float) -> float:
    """cos x; NaN at ±inf, as IEEE 754 says, where math.cos raises ValueError."""
    return math.nan if math.isinf(x) else math.cos(x)


def sigmoid(x: float) -> float:
    """1 / (1 + e^-x), in the form whose exp never overflows: sigmoid(1000) is 1.0, sigmoid(-1000) is 0.0."""
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    z = math.exp(x)
    return z / (1 + z)
