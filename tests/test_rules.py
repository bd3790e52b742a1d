"""The table of local derivatives against the engine's closures: the same numbers, to the bit, for every op.

This one test stands behind every reader of the table (the jit's generated code, explain's numbers,
forward mode, the tape): each of them runs the rows, so each of them is the engine's arithmetic. For the
teaching ops the closures are engine.py's, written by hand; for the library's, `node`'s, made from the
row. Each closure is run twice, on a leaf that holds a gradient already, so `=` in place of `+=` fails.
"""

from __future__ import annotations

import random
import struct

import pytest
from op_cases import CASE_IDS, CASES, ENGINE, apply, defined, exponents

from chainrule import Value
from chainrule.compiler.symbols import Symbol, Symbols, written
from chainrule.rules import BY_NAME, FLOATS, RULES, register, rule_of

TABLE = [rule for rule in RULES if rule.python is None]


def bits(x: float) -> bytes:
    return struct.pack("<d", x)  # -0.0 and 0.0 differ; every NaN of one pattern is equal


def _check_row_against_closure(rule, parents, n, grad):
    leaves = [Value(x) for x in parents]
    node = apply(rule, *leaves, n=n)
    assert node._op == rule.name and node._exponent == n and node._prev == tuple(leaves)
    assert bits(node.data) == bits(rule.value(FLOATS, parents, n))
    for leaf in leaves:
        leaf.grad = 0.25  # what an earlier path left: the closure must add to it
    node._backward(grad)
    node._backward(grad)  # twice: accumulation, not assignment
    for i, leaf in enumerate(leaves):
        share = rule.share(i, FLOATS, parents, n, node.data, grad)
        expected = 0.25 + share + share if len(leaves) == 1 or leaves[0] is not leaves[1] else None
        assert bits(leaf.grad) == bits(expected)


@pytest.mark.parametrize(("rule", "parents", "n"), CASES, ids=CASE_IDS)
def test_every_row_is_its_closure_at_the_test_points(rule, parents, n):
    for grad in (1.0, -0.37, 1e-300, 2.5e8):
        _check_row_against_closure(rule, parents, n, grad)


@pytest.mark.parametrize("rule", TABLE, ids=[rule.name for rule in TABLE])
def test_every_row_is_its_closure_at_many_random_points(rule):
    rng = random.Random(rule.name)
    checked = 0
    for _ in range(2000):
        a, b = rng.uniform(-4, 4), rng.uniform(-4, 4)
        n = rng.choice(exponents(rule))
        if defined(rule, a, b, n):
            _check_row_against_closure(rule, (a, b)[: rule.arity], n, rng.uniform(-3, 3))
            checked += 1
    assert checked >= 300  # the domain check let enough points through to mean something (asin: 1 in 4)


def test_every_op_the_engine_makes_has_a_row():
    x, y = Value(0.7), Value(1.3)
    made = {(x + y)._op, (x - y)._op, (x * y)._op, (x / y)._op, (x**2)._op, (x**y)._op, (-x)._op}
    methods = [name for name in dir(Value) if not name.startswith("_") and callable(getattr(Value, name))]
    made |= {getattr(x, name)()._op for name in methods if name != "backward"}  # tanh, exp, …
    assert made == set(ENGINE)
    assert made <= set(BY_NAME)


@pytest.mark.parametrize(("rule", "parents", "n"), CASES, ids=CASE_IDS)
def test_symbols_keep_the_order_of_operations(rule, parents, n):
    """The jit writes the rows as source: `-(g * (a / b / b))` must not lose its parentheses, and the
    text, run as Python, gives the row's own float."""
    names = ("a", "b")[: rule.arity]
    out = rule.value(FLOATS, parents, n)
    namespace = {**vars(FLOATS), **dict(zip(names, parents)), "n": n, "out": out, "grad": -0.9}
    n_symbol = Symbol("n") if rule.exponent else None
    value = written(rule.value(Symbols(), [Symbol(x) for x in names], n_symbol)).text
    assert bits(eval(value, namespace)) == bits(out), value  # our own text, never a user's
    for i in range(rule.arity):
        share = rule.share(i, Symbols(), [Symbol(x) for x in names], n_symbol, Symbol("out"), Symbol("grad"))
        expected = rule.share(i, FLOATS, parents, n, out, -0.9)
        assert bits(eval(written(share).text, namespace)) == bits(expected), (i, written(share).text)


def test_a_name_is_a_row_once():
    with pytest.raises(ValueError, match="has an op 'tanh' already"):
        register(BY_NAME["tanh"])


def test_a_node_of_no_row_is_named():
    node = Value(1.0, (Value(2.0),), "erfcx")
    with pytest.raises(ValueError, match="no op 'erfcx'"):
        rule_of(node)
