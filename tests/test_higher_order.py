"""Derivatives of derivatives: the table run with Values, grad of grad, hessian, hvp, against torch and math.

Expectations are computed: by the FLOATS namespace (to the bit), by the engine's own backward(), by
torch.func.hessian in float64, by closed forms of third derivatives, and by central differences.
"""

from __future__ import annotations

import math
import random
import re
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from op_cases import CASE_IDS, CASES, apply, exponents

import chainrule
from chainrule import Value, grad, hessian, hvp, value_and_grad
from chainrule.math.values import VALUES
from chainrule.rules import BY_FUNCTION, FLOATS, RULES


def bits(x: float) -> bytes:
    return struct.pack("<d", x)  # -0.0 and 0.0 differ; every NaN of one pattern is equal


def _data(x):
    return x.data if isinstance(x, Value) else x


# --- the Value namespace is the float namespace, to the bit -----------------------------------------------


def test_every_function_the_rows_call_is_an_op_on_values():
    """A row's functions (o.tanh, o.power_slope, ...) run on Values as ops of the table: every name a row
    calls has a row of its own, so a derivative of any op can be taken again."""
    from chainrule.compiler.symbols import Symbol, Symbols

    called: set[str] = set()
    for rule in RULES:
        if rule.python is not None:
            continue
        symbols = Symbols()
        parents = [Symbol("a"), Symbol("b")][: rule.arity]
        n = Symbol("n") if rule.exponent else None
        rule.value(symbols, parents, n)
        for i in range(rule.arity):
            rule.share(i, symbols, parents, n, Symbol("out"), Symbol("grad"))
        called |= symbols.used
    assert called <= set(BY_FUNCTION), called - set(BY_FUNCTION)


def _outcome(run, *args):
    """("ok", the value) or (the exception's type, None): both interpreters must fail alike, too."""
    try:
        return "ok", run(*args)
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        return type(error), None


TABLE = [rule for rule in RULES if rule.python is None]


@pytest.mark.parametrize("rule", TABLE, ids=[rule.name for rule in TABLE])
def test_every_row_run_with_values_gives_the_floats_bits(rule):
    rng = random.Random(rule.name)
    grids = [-3.0, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.25, 0.5, 1.0, 2.0, 3.5]
    checked = 0
    for k in range(1500):
        a, b = (rng.choice(grids), rng.choice(grids)) if k < 300 else (rng.uniform(-4, 4), rng.uniform(-4, 4))
        n = rng.choice(exponents(rule))
        grad = rng.choice([1.0, -0.37, 2.5e8, rng.uniform(-3, 3)])
        floats, values = (a, b)[: rule.arity], (Value(a), Value(b))[: rule.arity]
        kind, out = _outcome(rule.value, FLOATS, floats, n)
        value_kind, value_out = _outcome(rule.value, VALUES, values, n)
        assert value_kind == kind
        if kind != "ok":
            continue
        assert bits(_data(value_out)) == bits(out)
        for i in range(rule.arity):
            expected = _outcome(rule.share, i, FLOATS, floats, n, out, grad)
            got = _outcome(rule.share, i, VALUES, values, n, Value(out), Value(grad))
            assert got[0] == expected[0], (rule.name, a, b, n)
            if expected[0] == "ok":
                assert bits(_data(got[1])) == bits(expected[1]), (rule.name, i, a, b, n)
                checked += 1
    assert checked >= 300


# --- grad with numbers: floats, exactly what the engine's backward() gives ----------------------------------


def mixed(x, y):
    return (
        (x * y).tanh()
        + (x * x / (y * y + 1) + 0.1).log() * y.sigmoid()
        - (x - y).relu()
        + (y**3 - x).exp() * 0.1
    )


def with_pow(x, y):
    return (x * x + 1) ** y.tanh() + 2 ** (x * 0.5) - (-y) ** 2


FUNCTIONS_OF_TWO = {"mixed": mixed, "with_pow": with_pow}
POINTS = [(1.3, 0.4), (0.7, -1.1), (2.0, 0.5), (-0.6, 0.9)]


@pytest.mark.parametrize("name", sorted(FUNCTIONS_OF_TWO))
@pytest.mark.parametrize("point", POINTS)
def test_grad_of_numbers_is_the_engines_backward_to_the_bit(name, point):
    f = FUNCTIONS_OF_TWO[name]
    leaves = [Value(x) for x in point]
    out = f(*leaves)
    out.backward()
    value, gradient = value_and_grad(f, (0, 1))(*point)
    assert type(value) is float and all(type(g) is float for g in gradient)
    assert bits(value) == bits(out.data)
    assert [bits(g) for g in gradient] == [bits(leaf.grad) for leaf in leaves]


@pytest.mark.parametrize("name", sorted(FUNCTIONS_OF_TWO))
@pytest.mark.parametrize("point", POINTS)
def test_grad_of_values_is_a_graph_with_the_same_numbers(name, point):
    f = FUNCTIONS_OF_TWO[name]
    value, gradient = value_and_grad(f, (0, 1))(*map(Value, point))
    assert isinstance(value, Value) and all(isinstance(g, Value) and g._prev for g in gradient)
    assert value.data == f(*map(Value, point)).data
    assert [g.data for g in gradient] == list(grad(f, (0, 1))(*point))


def test_an_argument_outside_argnums_and_a_closed_over_value_are_constants_to_the_inner_derivative():
    # d/dx [∂(x·y)/∂y at y = x] = d/dx x = 1 (not the total derivative of x·x, 2x)
    assert grad(lambda x: grad(lambda u, v: u * v, 1)(x, x))(3.0) == 1.0
    # d/dy [∂(x·y)/∂x] = d/dy y = 1, through a closure over the outer Value y
    assert grad(lambda y: grad(lambda x: x * y)(2.0))(5.0) == 1.0
    assert grad(lambda y: grad(lambda x: x * x * y)(3.0))(5.0) == 6.0


def test_grad_of_a_constant_or_of_the_argument_itself_differentiates_again():
    assert grad(grad(lambda x: x))(1.5) == 0.0
    assert grad(grad(lambda x: 4.0))(1.5) == 0.0
    assert grad(grad(lambda x: x * 3.0))(1.5) == 0.0


# --- second derivatives against torch.func.hessian, every op of the table -----------------------------------


def _torch_hessian(torch, f, point):
    args = tuple(torch.tensor(x, dtype=torch.float64) for x in point)
    rows = torch.func.hessian(f, argnums=tuple(range(len(point))))(*args)
    return [float(h) for row in rows for h in row]  # flattened, row by row


def _flat(matrix):
    return [h for row in matrix for h in row]


def _composite(rule, n):
    """The op of the row inside a chain, so that its second derivatives meet the chain rule's cross terms."""

    def f(*xs):
        s = apply(rule, *xs, n=n)
        return s * s * (xs[0] * 0.5 + 1.25) + s * xs[-1]

    return f


@pytest.mark.parametrize(("rule", "parents", "n"), CASES, ids=CASE_IDS)
def test_hessian_of_every_op_matches_pytorch(torch, rule, parents, n):
    for f in (lambda *xs: apply(rule, *xs, n=n), _composite(rule, n)):
        expected = _torch_hessian(torch, f, parents)
        rel = 1e-8 if rule.name in ("gamma", "lgamma", "polygamma") else 1e-10  # torch's polygamma: ~1e-10
        assert _flat(hessian(f)(*parents)) == pytest.approx(expected, rel=rel, abs=1e-10)


def baydin(x1, x2):
    return x1.log() + x1 * x2 - x2.tanh()


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def network(x, y, z):
    h1 = (x * 0.7 - y * 1.3 + 0.2).tanh()
    h2 = (x * -0.4 + z * 0.9).sigmoid()
    h3 = (y + z * 0.5).relu()
    return (h1 * h2 + h3 / (1 + h1 * h1)).exp() + (z * z + 0.5) ** (h2 + 0.5) + (x * x + 1).log() * -h3


@pytest.mark.parametrize(
    ("f", "point"),
    [(baydin, (2.0, 5.0)), (rosenbrock, (-1.2, 1.0)), (network, (0.3, -0.8, 1.7)), (mixed, (1.3, 0.4))],
    ids=["baydin", "rosenbrock", "network", "mixed"],
)
def test_hessians_of_functions_of_several_ops_match_pytorch(torch, f, point):
    expected = _torch_hessian(torch, f, point)
    assert _flat(hessian(f)(*point)) == pytest.approx(expected, rel=1e-10, abs=1e-10)
    vector = [0.5, -1.5, 2.0][: len(point)]
    rows = [expected[i : i + len(point)] for i in range(0, len(expected), len(point))]
    product = [sum(h * v for h, v in zip(row, vector)) for row in rows]
    assert hvp(f)(point, vector) == pytest.approx(product, rel=1e-10, abs=1e-10)


def test_hessian_argnums():
    h = hessian(rosenbrock)(-1.2, 1.0)
    assert hessian(rosenbrock, (1, 0))(-1.2, 1.0) == [[h[1][1], h[1][0]], [h[0][1], h[0][0]]]
    assert hessian(rosenbrock, 1)(-1.2, 1.0) == h[1][1] == 200.0  # ∂²/∂y² of 100(y - x²)² is 200
    assert hvp(rosenbrock, 0)((-1.2, 1.0), [2.0]) == [2.0 * h[0][0]]
    with pytest.raises(ValueError, match="out of range"):
        hessian(rosenbrock, 2)(-1.2, 1.0)
    with pytest.raises(ValueError, match="vector has 1 numbers"):
        hvp(rosenbrock)((-1.2, 1.0), [1.0])


# --- third derivatives and beyond, against closed forms ----------------------------------------------------


def _tanh3(x):
    t = math.tanh(x)
    return (1 - t * t) * (6 * t * t - 2)


def _sigmoid3(x):
    s = 1 / (1 + math.exp(-x))
    return s * (1 - s) * (1 - 6 * s + 6 * s * s)


THIRD = {
    "exp": (lambda x: x.exp(), math.exp),
    "log": (lambda x: x.log(), lambda x: 2 / x**3),
    "tanh": (lambda x: x.tanh(), _tanh3),
    "sigmoid": (lambda x: x.sigmoid(), _sigmoid3),
    "x**5": (lambda x: x**5, lambda x: 60 * x**2),
    "x**2.5": (lambda x: x**2.5, lambda x: 2.5 * 1.5 * 0.5 * x**-0.5),
    "x**-2": (lambda x: x**-2, lambda x: -24 * x**-5),
    "2**x": (lambda x: 2**x, lambda x: math.log(2) ** 3 * 2**x),
    "1/x": (lambda x: 1 / x, lambda x: -6 / x**4),
}
if callable(getattr(Value, "sin", None)):  # the engine's sin and cos (issue 10, section 1)
    THIRD["sin"] = (lambda x: x.sin(), lambda x: -math.cos(x))
    THIRD["cos"] = (lambda x: x.cos(), math.sin)


@pytest.mark.parametrize("name", sorted(THIRD))
@pytest.mark.parametrize("x", [0.3, 1.7, 2.9])
def test_third_derivatives_match_closed_forms(name, x):
    f, third = THIRD[name]
    assert grad(grad(grad(f)))(x) == pytest.approx(third(x), rel=1e-12, abs=1e-13)


def test_derivatives_of_exp_to_the_sixth_order_are_exp():
    f = lambda x: (x * 2.0).exp()  # noqa: E731
    for order in range(1, 7):
        f = grad(f)
        assert f(0.3) == pytest.approx(2.0**order * math.exp(0.6), rel=1e-13)


# --- grad of grad against central differences of grad ------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FUNCTIONS_OF_TWO))
@pytest.mark.parametrize("point", POINTS)
def test_grad_of_grad_matches_central_differences_of_grad(name, point):
    f, eps = FUNCTIONS_OF_TWO[name], 1e-6
    for i in (0, 1):
        for j in (0, 1):
            second = grad(lambda *xs, i=i: grad(f, (0, 1))(*xs)[i], j)(*point)

            def moved(d, j=j):
                return [x + d if k == j else x for k, x in enumerate(point)]

            numeric = (grad(f, (0, 1))(*moved(eps))[i] - grad(f, (0, 1))(*moved(-eps))[i]) / (2 * eps)
            assert second == pytest.approx(numeric, rel=1e-6, abs=1e-6)


# --- jit(grad(f)) and jit(value_and_grad(f)) -----------------------------------------------------------


def smooth(x, y):
    return (x * y).tanh() + (x * x / (y * y + 1) + 0.1).log() * y.sigmoid() - (y**3 - x).exp() / (y + 3)


@pytest.mark.parametrize("f", [smooth, with_pow], ids=["smooth", "with_pow"])
def test_jit_of_grad_gives_grads_floats_to_the_bit(f):
    compiled_grad = chainrule.jit(grad(f, (0, 1)))
    compiled_both = chainrule.jit(value_and_grad(f, (0, 1)))
    compiled_one = chainrule.jit(grad(f, 1))
    for point in POINTS:  # traced at the first point, run as generated code at the others
        assert [bits(g) for g in compiled_grad(*point)] == [bits(g) for g in grad(f, (0, 1))(*point)]
        value, gradient = compiled_both(*point)
        expected_value, expected = value_and_grad(f, (0, 1))(*point)
        assert bits(value) == bits(expected_value)
        assert [bits(g) for g in gradient] == [bits(g) for g in expected]
        assert bits(compiled_one(*point).data) == bits(grad(f, 1)(*point))  # one Value: a JitResult
    assert "tuple out: no backward" in compiled_both.source and "def backward" not in compiled_both.source


def test_jit_of_grad_compiles_relus_slope_as_a_select_right_on_both_sides(backend):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn of: the branch is in the program
        compiled = chainrule.jit(grad(mixed, (0, 1)), backend)
        for point in ((1.3, 0.4), (-0.6, 0.9), (2.0, 0.5), (0.4, 0.4), (-2.0, 1.0)):
            assert compiled(*point) == grad(mixed, (0, 1))(*point)  # the engine's, to the bit
    assert len(next(iter(compiled._programs.values()))) == 1  # one trace serves both sides
    relu_slope = chainrule.jit(grad(lambda x: x.relu() + (-x).relu()), backend)  # the case
    assert [relu_slope(x) for x in (3.0, -2.0, 0.0)] == [1.0, -1.0, 0.0]


def test_jit_returns_nested_tuples_as_fn_nested_them():
    compiled = chainrule.jit(lambda x, y: (x * y, (x + y, (x - y,))))
    assert compiled(3.0, 2.0) == (6.0, (5.0, (1.0,)))
    assert compiled(1.0, 4.0) == (4.0, (5.0, (-3.0,)))
    assert chainrule.jit(lambda x: [x, {"twice": x * 2}])(1.5) == [1.5, {"twice": 3.0}]  # any tree of Values
    with pytest.raises(TypeError, match="must return a Value or a"):
        chainrule.jit(lambda x: (x, "a"))(1.0)


# --- the page's claim and the Newton example (docs/higher-order.md; test_readme.py runs its snippet) ---

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "higher-order.md").read_text()


def test_newton_example_converges_in_fewer_iterations_than_gradient_descent():
    script = ROOT / "examples" / "newton_rosenbrock.py"
    printed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True).stdout
    found = {}
    for method in ("newton", "gradient descent"):
        match = re.search(
            rf"^{method}[^:]*: (\d+) iterations, \(x, y\) = \(([-\d.]+), ([-\d.]+)\)", printed, re.M
        )
        assert match, f"{method} did not converge:\n{printed}"
        iterations, x, y = int(match[1]), float(match[2]), float(match[3])
        assert abs(x - 1) < 1e-8 and abs(y - 1) < 1e-8  # the minimum, (1, 1)
        found[method] = iterations
    assert 0 < found["newton"] < found["gradient descent"]
    claim = re.search(r"\((\d+) iterations against ([\d,]+) to ‖∇f‖ < 1e-10", PAGE)
    assert claim and (int(claim[1]), int(claim[2].replace(",", ""))) == (
        found["newton"],
        found["gradient descent"],
    )


def test_jit_of_a_gradient_that_is_one_value_backpropagates_into_closed_over_leaves():
    w = Value(1.5)
    compiled = chainrule.jit(grad(lambda x: w * x * x * x))  # ∂f/∂x = 3w·x², one Value: a JitResult
    result = compiled(2.0)
    assert result.data == grad(lambda x: w * x * x * x)(2.0) == 18.0
    w.grad = 0.0  # grad of numbers ran the engine's backward, which also gave w its ∂f/∂w = x³
    result.backward()
    assert w.grad == 12.0  # ∂(3w·x²)/∂w = 3x²


def test_grad_of_grad_on_a_deep_chain_and_inside_no_grad():
    def chain(x):
        for _ in range(20_000):
            x = x * 0.9999 + 0.0001
        return x * x

    expected = 2 * 0.9999**40_000
    with chainrule.no_grad():
        assert grad(grad(chain))(0.3) == pytest.approx(expected, rel=1e-9)


def test_a_grad_of_numbers_inside_a_jitted_function_is_compiled_as_a_graph():
    compiled = chainrule.jit(lambda w: grad(lambda x: w * x * x)(3.0) + w)  # ∂(w·x²)/∂x at 3, + w = 7w
    assert compiled(2.0).data == 14.0
    assert compiled(5.0).data == 35.0  # generated code: the gradient follows w


def test_jit_of_grad_of_one_argument_is_a_number():
    """jit(grad(f))(x) is used as the number it is, in a Newton or descent step."""
    f = lambda x: x**3 + x.tanh()  # noqa: E731
    slope = chainrule.jit(chainrule.grad(f))
    x = 0.7
    result = slope(x)
    expected = chainrule.grad(f)(x)
    assert isinstance(result, float) and float(result) == expected and result.data == expected
    assert x - 0.1 * result == x - 0.1 * expected and f"{result}" == f"{expected}"
