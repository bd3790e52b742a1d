"""Float special functions: rounding, fmod, Python's % and //, Γ, ln Γ and the polygamma functions ψ⁽ⁿ⁾."""

from __future__ import annotations

import math

from chainrule.floatmath.core import DivisionByZeroError, DomainError, power, quotient

_EXACT = 2.0**52  # every float this large or larger is an integer: floor and ceil are the identity


# --- rounding -------------------------------------------------------------------------------------------


def floor(x: float) -> float:
    """The largest integer <= x, as a float (inf and NaN as they are)."""
    return x if not abs(x) < _EXACT else float(math.floor(x))


def ceil(x: float) -> float:
    """The smallest integer >= x, as a float (inf and NaN as they are)."""
    return x if not abs(x) < _EXACT else float(math.ceil(x))


def trunc(x: float) -> float:
    """x rounded toward 0, as a float (inf and NaN as they are)."""
    return x if not abs(x) < _EXACT else float(math.trunc(x))


def fmod(a: float, b: float) -> float:
    """a - b·trunc(a/b), with the sign of a (C's fmod); DomainError for b = 0 or an infinite a."""
    if b == 0 or math.isinf(a):
        raise DomainError("fmod({}, {}) has no value: the divisor is 0 or the dividend infinite", a, b)
    return math.fmod(a, b)


def round_half_even(x: float, digits: float) -> float:
    """round(x, digits) as Python rounds a float (half to even), as a float; inf and NaN as they are."""
    return round(x, int(digits)) if math.isfinite(x) else x


def mod(a: float, b: float) -> float:
    """a % b as Python computes it for floats (the sign of b); DivisionByZeroError for b = 0."""
    if b == 0:
        raise DivisionByZeroError("division by zero in %: {} % {}", a, b)
    return a % b


def floordiv(a: float, b: float) -> float:
    """a // b as Python computes it for floats (floor of the quotient); DivisionByZeroError for b = 0."""
    if b == 0:
        raise DivisionByZeroError("division by zero in //: {} // {}", a, b)
    return a // b


# --- special functions ----------------------------------------------------------------------------------


def _pole(x: float) -> bool:
    return x <= 0 and (math.isinf(x) or math.floor(x) == x)


def gamma(x: float) -> float:
    """Γ(x), overflowing to ±inf; DomainError at its poles 0, -1, -2, ..."""
    if _pole(x):
        raise DomainError("gamma has a pole at {}: 0 and the negative integers", x)
    try:
        return math.gamma(x)
    except OverflowError:  # past Γ(171.62), or a tiny |x|: the sign of Γ there
        return math.copysign(math.inf, x) if x > 0 or abs(x) < 1 else math.inf


def lgamma(x: float) -> float:
    """ln |Γ(x)|; DomainError at the poles of Γ."""
    if _pole(x):
        raise DomainError("lgamma has a pole at {}: 0 and the negative integers", x)
    return math.lgamma(x)


# The Bernoulli numbers B₂, B₄, …, B₁₆, for the asymptotic series of the polygamma functions
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)
_SHIFT = (
    16.0  # the series is summed at x >= this, reached by the recurrence ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x+1) - (-1)ⁿ n!/xⁿ⁺¹
)


def polygamma(x: float, n: float) -> float:
    """ψ⁽ⁿ⁾(x), the n-th derivative of ψ = Γ'/Γ (n = 0: digamma); DomainError at the poles of Γ."""
    if _pole(x):
        raise DomainError("polygamma has a pole at {}: 0 and the negative integers", x)
    if not math.isfinite(x):
        return math.nan if x != x or x < 0 else (math.log(x) if n == 0 else 0.0)
    reflected = 0.0
    if n == 0 and x < 0:  # reflection: ψ(x) = ψ(1 - x) - π / tan(πx)
        reflected, x = -math.pi / math.tan(math.pi * x), 1.0 - x
    factorial = 1.0
    for k in range(2, int(n) + 1):
        factorial *= k
    sign = -1.0 if int(n) % 2 == 0 else 1.0  # (-1)ⁿ⁺¹
    shifted = 0.0
    while x < _SHIFT:
        shifted += quotient(factorial, x ** (n + 1))
        x += 1.0
    if n == 0:
        series = math.log(x) - 0.5 / x
        for k in range(1, len(_BERNOULLI) + 1):  # power, not **: past x ≈ 2e19, x^16 is inf, not an error
            series -= _BERNOULLI[k - 1] / (2 * k * power(x, 2.0 * k))
        return series - shifted + reflected
    # (n-1)!/xⁿ + n!/(2xⁿ⁺¹) + Σ B₂ₖ (2k+n-1)!/((2k)! x^(2k+n)), times (-1)ⁿ⁺¹
    series = factorial / n / power(x, n) + factorial / (2 * power(x, n + 1))
    rising = factorial / n  # (2k+n-1)!/(2k)!, built up term by term from (n-1)!
    for k in range(1, len(_BERNOULLI) + 1):
        rising *= (2 * k + n - 2) * (2 * k + n - 1) / ((2 * k - 1) * (2 * k))
        series += _BERNOULLI[k - 1] * rising / power(x, 2 * k + n)
    return sign * (series + shifted)
