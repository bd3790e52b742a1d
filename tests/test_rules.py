"""The table of local derivatives against the engine's closures: the same numbers, to the bit, for every op.

This one test stands behind every reader of the table (the jit's generated code, explain's numbers,
forward mode, the tape): each of them runs the rows, so each of them is the engine's arithmetic.
"""

from __future__ import annotations

import random
import struct

import pytest
from op_cases import CASE_IDS, CASES, EXPONENTS, apply, defined

from chainrule import Value
from chainrule.rules import BY_NAME, FLOATS, RULES, function, template


def bits(x: float) -> bytes:
    return struct.pack("<d", x)  # -0.0 and 0.0 differ; every NaN of one pattern is equal


def _check_row_against_closure(rule, parents, n, grad):
    leaves = [Value(x) for x in parents]
    node = apply(rule, *leaves, n=n)
    assert node._op == rule.name and node._exponent == n and node._prev == tuple(leaves)
    a, b = parents[0], parents[-1]
    assert bits(node.data) == bits(function(rule.forward, FLOATS)(a, b, n, None, None))
    node._backward(grad)
    for leaf, partial in zip(leaves, rule.partials):
        assert bits(leaf.grad) == bits(0.0 + function(partial, FLOATS)(a, b, n, node.data, grad))


@pytest.mark.parametrize(("rule", "parents", "n"), CASES, ids=CASE_IDS)
def test_every_row_is_its_closure_at_the_test_points(rule, parents, n):
    for grad in (1.0, -0.37, 1e-300, 2.5e8):
        _check_row_against_closure(rule, parents, n, grad)


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_every_row_is_its_closure_at_many_random_points(rule):
    rng = random.Random(rule.name)
    checked = 0
    for _ in range(2000):
        a, b = rng.uniform(-4, 4), rng.uniform(-4, 4)
        n = rng.choice(EXPONENTS) if rule.has_exponent else None
        if defined(rule, a, b, n):
            _check_row_against_closure(rule, (a, b)[: rule.arity], n, rng.uniform(-3, 3))
            checked += 1
    assert checked >= 500  # the domain check let enough points through to mean something


def test_every_op_the_engine_makes_has_a_row():
    x, y = Value(0.7), Value(1.3)
    made = {(x + y)._op, (x - y)._op, (x * y)._op, (x / y)._op, (x**2)._op, (x**y)._op, (-x)._op}
    methods = [name for name in dir(Value) if not name.startswith("_") and callable(getattr(Value, name))]
    made |= {getattr(x, name)()._op for name in methods if name != "backward"}  # tanh, exp, …
    assert made == set(BY_NAME)


def test_templates_keep_the_order_of_operations():
    """The jit writes the rows as source: `-(g * (a / b / b))` must not lose its parentheses."""
    for rule in RULES:
        for expression in (rule.forward, *rule.partials):
            text = template(expression).format(a="a", b="b", n="n", out="out", grad="grad")
            assert function(text, FLOATS)(0.7, 1.3, 2.0, 0.4, -0.9) == function(expression, FLOATS)(
                0.7, 1.3, 2.0, 0.4, -0.9
            )


def test_function_runs_only_the_tables_own_text():
    """eval sees the table's expressions and nothing else, whoever calls rules.function."""
    with pytest.raises(ValueError, match="the table's own expressions only"):
        function("__import__('os').getcwd()", FLOATS)
    assert function("a+b", FLOATS)(1.0, 2.0, None, None, None) == 3.0  # the row "a + b", spelled otherwise
