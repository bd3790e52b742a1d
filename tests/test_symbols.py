"""The interpreter that writes rows as source code (chainrule/compiler/symbols.py), on its own.

An expression built from symbols must compute, when its text runs, the float the same expression
computes on floats, to the bit, in the same order of operations (floats are not associative); and the
text carries no parentheses Python does not need, since people read it (`jit(f).source`).
"""

from __future__ import annotations

import ast
import math
import operator
import struct
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from chainrule import rules
from chainrule.compiler.symbols import Symbol, Symbols, literal, written

NAMESPACE = {**rules.FLOATS.__dict__, "inf": math.inf, "nan": math.nan}
VARIABLES = ("v0", "v1", "v2")
OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
COMPARISONS = ("gt", "ge", "lt", "le", "eq", "ne")
NUMBERS = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e300, -1e-300, 5e-324, math.inf, -math.inf, math.nan]),
    st.floats(allow_nan=True, allow_infinity=True),
)


def trees() -> st.SearchStrategy[Any]:
    """Expressions as nested tuples: a variable's name, a number, or (kind, operands...)."""
    leaves = st.one_of(st.sampled_from(VARIABLES), NUMBERS)

    def grown(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(
            st.tuples(st.sampled_from(sorted(OPERATORS)), inner, inner),
            st.tuples(st.just("neg"), inner),
            st.tuples(st.sampled_from(COMPARISONS), inner, inner),
            st.tuples(st.just("where"), inner, inner, inner),
            st.tuples(st.just("tanh"), inner),
        )

    return st.recursive(leaves, grown, max_leaves=8)


def run(tree: Any, o: Any, env: dict[str, Any]) -> Any:
    """The tree on an interpreter: o is rules.FLOATS (numbers) or a Symbols (text)."""
    if isinstance(tree, str):
        return env[tree]
    if isinstance(tree, float):
        return tree
    kind, *operands = tree
    values = [run(t, o, env) for t in operands]
    if isinstance(o, Symbols) and all(isinstance(v, float) for v in values):
        values[0] = written(values[0])  # text, not a number folded while writing
    if kind in OPERATORS:
        return OPERATORS[kind](*values)
    if kind == "neg":
        return -values[0]
    return getattr(o, kind)(*values)


def bits(x: Any) -> bytes | str:
    return "nan" if math.isnan(x) else struct.pack("<d", float(x))


def on_floats(tree: Any, point: tuple[float, ...]) -> Any:
    try:
        return bits(run(tree, rules.FLOATS, dict(zip(VARIABLES, point))))
    except ZeroDivisionError:
        return ZeroDivisionError


def on_text(text: str, point: tuple[float, ...]) -> Any:
    try:
        return bits(eval(compile(text, "<generated>", "eval"), dict(NAMESPACE), dict(zip(VARIABLES, point))))
    except ZeroDivisionError:
        return ZeroDivisionError


def symbols(tree: Any, o: Symbols | None = None) -> Symbol:
    return written(run(tree, o or Symbols(), {name: Symbol(name) for name in VARIABLES}))


@given(trees(), st.tuples(NUMBERS, NUMBERS, NUMBERS))
def test_the_text_computes_the_floats_bit_for_bit(tree: Any, point: tuple[float, ...]) -> None:
    expected = on_floats(tree, point)
    assume(expected is not ZeroDivisionError)  # the text's conditional computes the side it takes only
    assert on_text(symbols(tree).text, point) == expected


def _pairs(text: str) -> list[tuple[int, int]]:
    """Each pair of grouping parentheses (not a call's), as (opening, closing) positions."""
    stack, pairs = [], []
    for k, char in enumerate(text):
        if char == "(":
            stack.append(k)
        elif char == ")":
            opening = stack.pop()
            if opening == 0 or not (text[opening - 1].isalnum() or text[opening - 1] == "_"):
                pairs.append((opening, k))
    return pairs


def redundant_parentheses(text: str) -> list[str]:
    """The groups whose parentheses Python does not need: dropping them leaves the same syntax tree.
    A conditional keeps its own (it is written as an atom), and so does -(-x), which is not --x to read."""
    tree = ast.dump(ast.parse(text, mode="eval"))
    found = []
    for opening, closing in _pairs(text):
        inner = text[opening + 1 : closing]
        kept = ast.parse(inner, mode="eval").body
        negated = isinstance(kept, ast.UnaryOp) and text[opening - 1 : opening] == "-"
        if isinstance(kept, ast.IfExp) or negated:
            continue
        try:
            dropped = ast.dump(ast.parse(text[:opening] + inner + text[closing + 1 :], mode="eval"))
        except SyntaxError:
            continue
        if dropped == tree:
            found.append(inner)
    return found


@given(trees())
def test_the_text_has_no_parentheses_it_does_not_need(tree: Any) -> None:
    assert redundant_parentheses(symbols(tree).text) == []


def test_parentheses_keep_the_order_of_operations() -> None:
    a, b, c = (Symbol(name) for name in ("a", "b", "c"))
    cases = {
        a - (b - c): ("a - (b - c)", (1.0, 2.0, 3.0)),
        (a - b) - c: ("a - b - c", (1.0, 2.0, 3.0)),
        a * (b + c): ("a * (b + c)", (2.0, 3.0, 4.0)),
        (a + b) * c: ("(a + b) * c", (2.0, 3.0, 4.0)),
        a / (b * c): ("a / (b * c)", (1.0, 2.0, 4.0)),
        a + (b + c): ("a + (b + c)", (1e16, -1e16, 1.0)),  # float addition is not associative
        -(a + b): ("-(a + b)", (1.0, 2.0, 0.0)),
        -a * b: ("-a * b", (1.0, 2.0, 0.0)),
        a * -b: ("a * -b", (1.0, 2.0, 0.0)),
        a.__neg__().__neg__(): ("-(-a)", (1.0, 0.0, 0.0)),
        a - -2.0: ("a - -2.0", (1.0, 0.0, 0.0)),
        -written(2.0): ("-2.0", (0.0, 0.0, 0.0)),
        -written(-2.0): ("-(-2.0)", (0.0, 0.0, 0.0)),
    }
    for symbol, (text, point) in cases.items():
        assert symbol.text == text
        assert symbol.reads <= {"a", "b", "c"}
        on_floats = eval(compile(text, "<expected>", "eval"), {}, dict(zip("abc", point)))
        assert eval(compile(symbol.text, "<generated>", "eval"), {}, dict(zip("abc", point))) == on_floats


def test_a_comparison_inside_a_comparison_is_not_chained() -> None:
    """Python reads `a > b > c` as `a > b and b > c`; a comparison of a comparison keeps its parentheses."""
    o = Symbols()
    a, b = Symbol("a"), Symbol("b")
    text = o.gt(o.gt(a, b), 0.5).text
    assert text == "(a > b) > 0.5"
    assert eval(text, {}, {"a": 2.0, "b": 1.0}) == (2.0 > 1.0) > 0.5
    assert o.lt(a + b, a * b).text == "a + b < a * b"  # arithmetic binds tighter: no parentheses
    assert o.where(o.le(a, b), a, b).text == "(a if a <= b else b)"


def test_literals_are_exact_and_name_the_infinities() -> None:
    for x in (0.0, -0.0, 0.1, -2.5, 1e300, 5e-324, 2.0**-1074, 1 / 3, 7):
        text = literal(x)
        assert bits(eval(text, {})) == bits(float(x))
    assert (literal(math.inf), literal(-math.inf), literal(math.nan)) == ("inf", "-inf", "nan")
    assert written(-2.0).reads == frozenset() and written(1.0).text == "1.0"


def test_reads_are_the_variables_the_text_uses() -> None:
    o = Symbols()
    tree = ("where", ("gt", "v0", 0.0), ("tanh", "v1"), 2.0)
    symbol = symbols(tree, o)
    assert symbol.reads == {"v0", "v1"}
    assert Symbol("v2").reads == {"v2"} and Symbol("x + y", reads=frozenset({"x", "y"})).reads == {"x", "y"}
    assert o.used == {"tanh"}


def test_functions_are_written_under_the_names_the_namespace_gives_them() -> None:
    o = Symbols({"tanh": "floatmath_tanh"})
    symbol = o.tanh(Symbol("v0") * 2.0)
    assert symbol.text == "floatmath_tanh(v0 * 2.0)"
    assert o.exp(Symbol("v1")).text == "exp(v1)"  # a name the map leaves out is written as it is
    assert o.used == {"tanh", "exp"}
    assert Symbols().names == {}


def test_an_unknown_function_is_refused_by_name() -> None:
    import pytest

    with pytest.raises(AttributeError, match="no function 'not_a_function'"):
        Symbols().not_a_function(Symbol("v0"))


def test_repr_shows_the_text() -> None:
    assert repr(Symbol("v3 + 1.0", reads=frozenset({"v3"}))) == "Symbol('v3 + 1.0')"
