"""Float arithmetic: divisions and powers, exponentials and logarithms, trigonometric functions."""

from __future__ import annotations

import math
import numbers

_EXP_MAX = math.log(1.7976931348623157e308)  # past this math.exp raises OverflowError


class _FormattedError(Exception):
    """args = (template, *numbers): str() puts each number's repr into the template's {}."""

    def __str__(self) -> str:
        template, *numbers_given = self.args or ("",)
        return str(template).format(*map(repr, numbers_given))


class DomainError(_FormattedError, ValueError):
    """A float function has no real answer at this number (log of 0, sqrt of -1, ...)."""


class DivisionByZeroError(_FormattedError, ZeroDivisionError):
    """Division by zero, or zero to a negative power."""


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


# --- arithmetic -----------------------------------------------------------------------------------------


def divide(a: float, b: float) -> float:
    """a / b; DivisionByZeroError naming both numbers when b is 0."""
    if b == 0:
        raise DivisionByZeroError("division by zero in /: {} / {}", a, b)
    return a / b


def quotient(a: float, b: float) -> float:
    """a / b as IEEE divides, ±inf for a nonzero a over 0 (for slopes that are infinite), but 0/0 is 0:
    a zero gradient through an infinite slope passes nothing on (the side where() did not take)."""
    if b == 0:
        if a == 0:
            return 0.0
        if a != a:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _is_integer(x: float) -> bool:
    return math.isfinite(x) and math.floor(x) == x


def _is_odd(n: float) -> bool:
    return _is_integer(n) and n % 2.0 != 0


def power(base: float, exponent: float) -> float:
    """base**exponent, overflowing to ±inf as IEEE arithmetic does where Python would raise.

    A negative base to a non-integer power is complex: DomainError, not Python's complex number."""
    if base < 0 and not _is_integer(exponent):
        raise DomainError("** of negative base {} to the non-integer power {} is complex", base, exponent)
    if base == 0 and exponent < 0:
        raise DivisionByZeroError("** : 0 cannot be raised to the negative power {}", exponent)
    try:
        return base**exponent
    except Exception:  # OverflowError: numba's except takes only Exception, and nothing else is left
        return -math.inf if base < 0 and _is_odd(exponent) else math.inf


def _refuse_negative_base(a: float) -> None:
    if a < 0:
        raise DomainError("** with a Value exponent needs a base >= 0, got {} (a^b = exp(b·ln a))", a)


def value_power(a: float, b: float) -> float:
    """a**b where the exponent b is a variable: a^b = exp(b·ln a) needs a base a >= 0."""
    _refuse_negative_base(a)
    return power(a, b)


def power_slope(x: float, n: float) -> float:
    """d/dx x^n = n·x^(n-1); at x = 0 with 0 < n < 1 it is infinite and with n = 0 zero (as in PyTorch)."""
    if n == 0:  # x^0 is constant; n·x^-1 would be 0·inf = NaN where 1/x overflows (subnormal x)
        return 0.0
    if x == 0 and n < 1:
        return math.inf
    return n * power(x, n - 1)


def value_power_slope(a: float, b: float) -> float:
    """d/da a^b for a variable exponent b: b·a^(b-1), with power_slope's cases, for a base a >= 0."""
    _refuse_negative_base(a)
    return power_slope(a, b)


def exponent_slope(a: float, a_to_the_b: float) -> float:
    """d/db a^b = a^b·ln a, taken as 0 at a = 0 (as in PyTorch); NaN stays NaN. a^b needs a >= 0."""
    if a < 0:
        raise DomainError("the slope of a^b in b needs a base >= 0, got {}", a)
    return a_to_the_b * math.log(a) if a != 0 else 0.0


# --- exponentials and logarithms ------------------------------------------------------------------------


def exp(x: float) -> float:
    """e^x, overflowing to inf instead of raising OverflowError."""
    return math.inf if x > _EXP_MAX else math.exp(x)


def exp2(x: float) -> float:
    """2^x, overflowing to inf (math.exp2 from Python 3.11; 2.0 ** x before)."""
    try:
        return _exp2(x)
    except Exception:  # OverflowError (numba catches only Exception)
        return math.inf


def expm1(x: float) -> float:
    """e^x - 1, accurate for small x; overflowing to inf."""
    return math.inf if x > _EXP_MAX else math.expm1(x)


def log(x: float) -> float:
    """ln x for x > 0 (NaN gives NaN); DomainError naming x otherwise."""
    if x <= 0:
        raise DomainError("log needs a positive argument, got {}", x)
    return math.log(x)


def log2(x: float) -> float:
    """log base 2, for x > 0."""
    if x <= 0:
        raise DomainError("log2 needs a positive argument, got {}", x)
    return math.log2(x)


def log10(x: float) -> float:
    """log base 10, for x > 0."""
    if x <= 0:
        raise DomainError("log10 needs a positive argument, got {}", x)
    return math.log10(x)


def log1p(x: float) -> float:
    """ln(1 + x), accurate for small x, for x > -1."""
    if x <= -1:
        raise DomainError("log1p needs an argument > -1, got {}", x)
    return math.log1p(x)


def sqrt(x: float) -> float:
    """√x for x >= 0 (-0.0 gives -0.0)."""
    if x < 0:
        raise DomainError("sqrt of {}: the square root of a negative number is not real", x)
    return math.sqrt(x)


def cbrt(x: float) -> float:
    """∛x, real for every x (math.cbrt from Python 3.11; before it, a root refined by a Newton step)."""
    return _cbrt(x)


def _newton_cbrt(x: float) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    root = math.copysign(abs(x) ** (1.0 / 3.0), x)
    return root - (root * root * root - x) / (3.0 * root * root)


_cbrt = getattr(math, "cbrt", _newton_cbrt)
_exp2 = getattr(math, "exp2", lambda x: 2.0**x)


def sigmoid(x: float) -> float:
    """1 / (1 + e^-x), in the form whose exp never overflows: sigmoid(1000) is 1.0, sigmoid(-1000) is 0.0."""
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    z = math.exp(x)
    return z / (1 + z)


# --- trigonometric and hyperbolic -----------------------------------------------------------------------


def sin(x: float) -> float:
    """sin x; NaN at ±inf, as IEEE 754 says, where math.sin raises ValueError."""
    return math.nan if math.isinf(x) else math.sin(x)


def cos(x: float) -> float:
    """cos x; NaN at ±inf, as IEEE 754 says, where math.cos raises ValueError."""
    return math.nan if math.isinf(x) else math.cos(x)


def tan(x: float) -> float:
    """tan x; NaN at ±inf."""
    return math.nan if math.isinf(x) else math.tan(x)


def asin(x: float) -> float:
    """arcsin x for -1 <= x <= 1."""
    if abs(x) > 1:
        raise DomainError("asin needs -1 <= x <= 1, got {}", x)
    return math.asin(x)


def acos(x: float) -> float:
    """arccos x for -1 <= x <= 1."""
    if abs(x) > 1:
        raise DomainError("acos needs -1 <= x <= 1, got {}", x)
    return math.acos(x)


def sinh(x: float) -> float:
    """sinh x, overflowing to ±inf."""
    try:
        return math.sinh(x)
    except Exception:  # OverflowError
        return math.copysign(math.inf, x)


def cosh(x: float) -> float:
    """cosh x, overflowing to inf."""
    try:
        return math.cosh(x)
    except Exception:  # OverflowError
        return math.inf


def acosh(x: float) -> float:
    """arcosh x for x >= 1."""
    if x < 1:
        raise DomainError("acosh needs x >= 1, got {}", x)
    return math.acosh(x)


def atanh(x: float) -> float:
    """artanh x for -1 < x < 1."""
    if abs(x) >= 1:
        raise DomainError("atanh needs -1 < x < 1, got {}", x)
    return math.atanh(x)
