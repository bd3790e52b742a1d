"""Forward mode against reverse mode on every op of the table, at IEEE's edges: 0, -0.0, ±inf, NaN,
subnormals, 1e±300 and ordinary numbers (hypothesis). Along an input's unit vector, jvp is the reverse
pass's partial to the bit, infinities and NaN included: the row's partial run with the tangent 1 is the
closure's share run with the gradient 1. An input that does not move (a constant, or the other input
of a unit vector) adds 0 whatever its slope, where the product 0·inf would be NaN (docs/guarantees.md).
"""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st
from op_cases import EXPONENTS, ORDERS, apply

from chainrule import Value, jvp
from chainrule.rules import RULES

TABLE = [rule for rule in RULES if rule.python is None]
TINY, SMALLEST = 2.2250738585072014e-308, 5e-324  # the least normal float and the least subnormal one
EDGES = [0.0, -0.0, math.inf, -math.inf, math.nan, SMALLEST, -SMALLEST, TINY, -TINY, 1e-300, -1e-300]
EDGES += [1e300, -1e300, 1.7976931348623157e308, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, 709.8, 710.0]
NUMBERS = st.one_of(st.sampled_from(EDGES), st.floats(), st.floats(-10, 10))
EXPONENT_EDGES = [*EXPONENTS, -0.0, math.inf, -math.inf, math.nan, 1e300, -1e300, 309.0, 1e-300, 3.5]
# how the op's parents are made of the inputs x, y (c: a constant the op also gets)
FORMS = {
    1: {"f(x)": lambda rule, n, c: lambda x: apply(rule, x, n=n)},
    2: {
        "f(x, y)": lambda rule, n, c: lambda x, y: apply(rule, x, y, n=n),
        "f(x, c)": lambda rule, n, c: lambda x: apply(rule, x, Value(c), n=n),
        "f(c, x)": lambda rule, n, c: lambda x: apply(rule, Value(c), x, n=n),
        "f(x, x)": lambda rule, n, c: lambda x: apply(rule, x, x, n=n),
    },
}
FAILURES = (ValueError, ZeroDivisionError, OverflowError)  # a domain error, and division by 0 in a slope


def same(x: float, y: float) -> bool:
    """The same float to the bit: NaN is NaN, and -0.0 is not 0.0."""
    return (x != x and y != y) or (x == y and math.copysign(1.0, x) == math.copysign(1.0, y))


def reverse(fn, point: tuple[float, ...]) -> list[float] | type[Exception]:
    """The engine's partials by one backward pass, or the type of the error it raised."""
    leaves = [Value(x) for x in point]
    try:
        fn(*leaves).backward()
    except FAILURES as error:
        return type(error)
    return [leaf.grad for leaf in leaves]


@st.composite
def cases(draw):
    rule = draw(st.sampled_from(TABLE))
    exponents = ORDERS if rule.name == "polygamma" else EXPONENT_EDGES
    n = draw(st.sampled_from(exponents)) if rule.exponent else None
    form = draw(st.sampled_from(sorted(FORMS[rule.arity])))
    fn = FORMS[rule.arity][form](rule, n, draw(NUMBERS))
    point = tuple(draw(NUMBERS) for _ in range(fn.__code__.co_argcount))
    return rule, n, form, fn, point


@given(cases())
def test_jvp_along_an_input_is_the_reverse_partial_to_the_bit_at_ieee_edges(case):
    rule, n, form, fn, point = case
    partials = reverse(fn, point)
    for i in range(len(point)):
        unit = [float(i == j) for j in range(len(point))]
        try:
            tangent = jvp(fn, point, unit)[1]
        except FAILURES as error:
            assert partials is type(error), (rule.name, n, form, point, error)
            continue
        assert not isinstance(partials, type), (rule.name, n, form, point, partials)
        assert same(tangent, partials[i]), (rule.name, n, form, point, i, tangent, partials[i])


@given(cases())
def test_a_direction_that_moves_no_input_has_tangent_zero_whatever_the_slopes(case):
    """Forward mode's convention (JAX's): a tangent of 0 adds 0, even against an infinite or NaN slope."""
    rule, n, form, fn, point = case
    try:
        value, tangent = jvp(fn, point, [0.0] * len(point))
    except FAILURES:
        return
    assert same(tangent, 0.0), (rule.name, n, form, point, value, tangent)


def test_the_guarantees_page_states_what_forward_and_reverse_give():
    from pathlib import Path

    from chainrule import grad

    page = (
        (Path(__file__).resolve().parent.parent / "docs" / "guarantees.md").read_text().replace("\n  ", " ")
    )
    assert "`jvp(lambda x, y: x ** y, (0.0, 0.5), (0.0, 1.0))` is `(0.0, 0.0)`" in page
    assert jvp(lambda x, y: x**y, (0.0, 0.5), (0.0, 1.0)) == (0.0, 0.0)
    assert (
        "`x * 1e200 * 1e200 * 1e-200` at x = 1e-300 the reverse pass gives 1e200 and forward"
        in page.replace("\n", " ")
    )
    f = lambda x: x * 1e200 * 1e200 * 1e-200  # noqa: E731
    assert grad(f)(1e-300) == 1e200 and jvp(f, (1e-300,), (1.0,)) == (f(Value(1e-300)).data, math.inf)
