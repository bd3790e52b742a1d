"""The rest of the math library's rows: each function of chainrule.math stated once, as the table's
teaching rows are (rules.py says how a row reads). Registered into the table at import.

A slope that is infinite inside the domain (√x at 0) is taken with `o.quotient`, IEEE's division,
where Python's `/` would raise: both sides of a `where` are computed, so each must be safe.
"""

from __future__ import annotations

import math

from chainrule.rules import Rule, register

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_ROOT_PI = 2.0 / math.sqrt(math.pi)
_DEGREES, _RADIANS = 180.0 / math.pi, math.pi / 180.0  # the factors math.degrees and math.radians use


def _unary(name: str, partial, **options) -> Rule:
    """A function of one argument whose forward is floatmath's function of the same name."""
    return Rule(name, f"{name}(a)", lambda o, a: getattr(o, name)(a), (partial,), **options)


def _binary(name: str, partial_a, partial_b, **options) -> Rule:
    return Rule(
        name, f"{name}(a, b)", lambda o, a, b: getattr(o, name)(a, b), (partial_a, partial_b), **options
    )


def _sign(o, a, g):
    """g·sign(a), with sign(0) = 0 (PyTorch's |x|' at the kink)."""
    return o.where(o.gt(a, 0), g, o.where(o.lt(a, 0), -g, 0.0))


LIBRARY = [
    _unary("sqrt", lambda o, a, out, g: o.quotient(g, 2.0 * out)),
    _unary("cbrt", lambda o, a, out, g: o.quotient(g, 3.0 * (out * out)), native=False),
    _unary("exp2", lambda o, a, out, g: out * _LN2 * g),
    _unary("expm1", lambda o, a, out, g: o.exp(a) * g),
    _unary("log2", lambda o, a, out, g: g / (a * _LN2)),
    _unary("log10", lambda o, a, out, g: g / (a * _LN10)),
    _unary("log1p", lambda o, a, out, g: g / (1.0 + a)),
    _unary("tan", lambda o, a, out, g: (1.0 + out * out) * g),
    _unary("asin", lambda o, a, out, g: o.quotient(g, o.sqrt(1.0 - a * a))),
    _unary("acos", lambda o, a, out, g: -o.quotient(g, o.sqrt(1.0 - a * a))),
    _unary("atan", lambda o, a, out, g: g / (1.0 + a * a)),
    _unary("sinh", lambda o, a, out, g: o.cosh(a) * g),
    _unary("cosh", lambda o, a, out, g: o.sinh(a) * g),
    _unary("asinh", lambda o, a, out, g: g / o.sqrt(a * a + 1.0)),
    _unary("acosh", lambda o, a, out, g: o.quotient(g, o.sqrt(a * a - 1.0))),
    _unary("atanh", lambda o, a, out, g: g / (1.0 - a * a)),
    _unary("erf", lambda o, a, out, g: _TWO_OVER_ROOT_PI * o.exp(-(a * a)) * g),
    _unary("erfc", lambda o, a, out, g: -(_TWO_OVER_ROOT_PI * o.exp(-(a * a)) * g)),
    _unary("gamma", lambda o, a, out, g: out * o.polygamma(a, 0.0) * g, native=False),
    _unary("lgamma", lambda o, a, out, g: o.polygamma(a, 0.0) * g, native=False),
    _unary("fabs", lambda o, a, out, g: _sign(o, a, g)),
    _unary("floor", lambda o, a, out, g: 0.0),
    _unary("ceil", lambda o, a, out, g: 0.0),
    _unary("trunc", lambda o, a, out, g: 0.0),
    _unary("degrees", lambda o, a, out, g: g * _DEGREES),
    _unary("radians", lambda o, a, out, g: g * _RADIANS),
    # ψ⁽ⁿ⁾, the n-th polygamma function (n = 0: ψ = Γ'/Γ): Γ's and ln Γ's slopes, differentiable forever
    Rule(
        "polygamma",
        "polygamma(n, a)",
        lambda o, a, n: o.polygamma(a, n),
        (lambda o, a, n, out, g: o.polygamma(a, n + 1.0) * g,),
        exponent=True,
        native=False,
    ),
    _binary(
        "atan2",  # atan2(a, b) is the angle of the point (b, a): d/da = b/(a²+b²), d/db = -a/(a²+b²)
        lambda o, a, b, out, g: o.quotient(b * g, a * a + b * b),
        lambda o, a, b, out, g: -o.quotient(a * g, a * a + b * b),
    ),
    _binary(
        "hypot",
        lambda o, a, b, out, g: o.quotient(a, out) * g,
        lambda o, a, b, out, g: o.quotient(b, out) * g,
        native=False,  # CPython's hypot is its own (correctly rounded), not the C library's
    ),
    _binary(
        "copysign",  # |a| with the sign of b: d/da = ±1 (0 at a = 0), d/db = 0
        lambda o, a, b, out, g: o.where(o.eq(a, 0), 0.0, o.quotient(out, a)) * g,
        lambda o, a, b, out, g: 0.0,
    ),
    _binary(
        "fmod",  # a - b·trunc(a/b): d/da = 1, d/db = -trunc(a/b)
        lambda o, a, b, out, g: g,
        lambda o, a, b, out, g: -(o.trunc(o.quotient(a, b)) * g),
        native=False,
    ),
    # IEEE's division, for slopes that are infinite inside a domain: the same shares as /
    _binary(
        "quotient",
        lambda o, a, b, out, g: o.quotient(g, b),
        lambda o, a, b, out, g: -(g * o.quotient(o.quotient(a, b), b)),
    ),
]

for _rule in LIBRARY:
    register(_rule)
