"""chainrule.math: math's functions with numbers, ops with Values, in every mode, and ops of your own.

Expected numbers come from Python's math (numbers, to the bit), central differences, PyTorch in
float64 (first and second derivatives) and mpmath (the polygamma functions); modes are held to the
eager engine's numbers, to the bit.
"""

from __future__ import annotations

import io
import math
import random
import struct
import subprocess
import sys

import pytest

import chainrule
import chainrule.math as cm
from chainrule import Value, explain, grad, hessian, jit, jvp, value_and_grad
from chainrule.derivatives.gradcheck import numerical_gradient

# (function, points inside its domain): every function of math that chainrule.math mirrors
POINTS = {
    "sqrt": [(2.5,), (0.3,)],
    "cbrt": [(2.5,), (-0.7,)],
    "exp": [(0.7,), (-1.2,)],
    "exp2": [(0.7,), (-1.2,)],
    "expm1": [(1e-3,), (-1.2,)],
    "log": [(2.5,), (0.3,)],
    "log2": [(2.5,), (0.3,)],
    "log10": [(2.5,), (0.3,)],
    "log1p": [(2.5,), (-0.3,)],
    "sin": [(0.7,), (-2.0,)],
    "cos": [(0.7,), (-2.0,)],
    "tan": [(0.7,), (-1.2,)],
    "asin": [(0.4,), (-0.9,)],
    "acos": [(0.4,), (-0.9,)],
    "atan": [(0.4,), (-3.0,)],
    "sinh": [(0.7,), (-2.0,)],
    "cosh": [(0.7,), (-2.0,)],
    "tanh": [(0.7,), (-2.0,)],
    "asinh": [(0.7,), (-2.0,)],
    "acosh": [(1.7,), (3.0,)],
    "atanh": [(0.4,), (-0.9,)],
    "erf": [(0.4,), (-1.3,)],
    "erfc": [(0.4,), (-1.3,)],
    "gamma": [(2.5,), (0.3,), (-0.5,)],
    "lgamma": [(2.5,), (0.3,), (-0.5,)],
    "fabs": [(2.5,), (-0.3,)],
    "degrees": [(2.5,), (-0.3,)],
    "radians": [(2.5,), (-0.3,)],
    "floor": [(2.5,), (-0.3,)],
    "ceil": [(2.5,), (-0.3,)],
    "trunc": [(2.5,), (-0.3,)],
    "atan2": [(0.7, -1.2), (-0.5, 2.0)],
    "hypot": [(0.7, -1.2), (3.0, 4.0)],
    "copysign": [(0.7, -1.2), (-0.5, 2.0)],
    "fmod": [(5.3, 2.0), (-5.3, 1.5)],
    "pow": [(2.5, 1.7), (0.3, -0.4)],
}
CASES = [(name, point) for name, points in POINTS.items() for point in points]
IDS = [f"{name}{point}" for name, point in CASES]
TORCH_NAMES = {"fabs": "abs", "degrees": "rad2deg", "radians": "deg2rad", "pow": "pow"}
NO_TORCH = {"cbrt", "gamma"}  # torch has no cbrt and no gamma


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def _of(name):
    return getattr(cm, name)


def test_every_function_math_has_is_here_with_its_constants():
    wanted = set(POINTS) | {"log", "hypot"}
    assert wanted <= set(cm.__all__)
    assert (cm.pi, cm.e, cm.tau, cm.inf) == (math.pi, math.e, math.tau, math.inf) and math.isnan(cm.nan)


@pytest.mark.parametrize(("name", "point"), CASES, ids=IDS)
def test_with_numbers_each_function_returns_what_math_returns(name, point):
    python = getattr(math, name, None)
    if python is None:  # exp2 and cbrt before Python 3.11
        pytest.skip(f"math.{name} is new in Python 3.11")
    got, expected = _of(name)(*point), python(*point)
    assert type(got) is type(expected) and bits(float(got)) == bits(float(expected))


@pytest.mark.parametrize(("name", "point"), CASES, ids=IDS)
def test_with_values_the_value_is_the_numbers_and_the_gradient_central_differences(name, point):
    f = _of(name)
    leaves = [Value(x) for x in point]
    out = f(*leaves)
    assert isinstance(out, Value)
    assert bits(out.data) == bits(float(f(*point)))
    out.backward()
    numeric = numerical_gradient(lambda *xs: f(*xs), point, eps=1e-6)
    for leaf, expected in zip(leaves, numeric):
        assert leaf.grad == pytest.approx(expected, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize(("name", "point"), [c for c in CASES if c[0] not in NO_TORCH], ids=lambda c: str(c))
def test_first_and_second_derivatives_match_torch_float64(torch, name, point):
    torch_f = getattr(torch, TORCH_NAMES.get(name, name))
    xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    out = torch_f(*xs)
    first = torch.autograd.grad(out, xs, create_graph=True, allow_unused=True)
    positions = tuple(range(len(point)))
    got_first = grad(_of(name), positions)(*point)
    for got, expected in zip(got_first, first):
        assert got == pytest.approx(0.0 if expected is None else expected.item(), rel=1e-12, abs=1e-14)
    if name in ("floor", "ceil", "trunc", "fmod", "copysign"):
        return  # piecewise: torch's second derivatives there are not defined either
    rows = hessian(_of(name))(*point)
    for i, g in enumerate(first):
        second = torch.autograd.grad(g, xs, allow_unused=True, retain_graph=True) if g.requires_grad else None
        for j in range(len(point)):
            expected = 0.0 if second is None or second[j] is None else second[j].item()
            rel = (
                1e-9 if name == "lgamma" else 1e-10
            )  # torch's trigamma is good to ~1e-10 (see mpmath's below)
            assert rows[i][j] == pytest.approx(expected, rel=rel, abs=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_the_polygamma_functions_match_mpmath(n):
    mpmath = pytest.importorskip("mpmath")
    from chainrule.floatmath import polygamma

    rng = random.Random(n)
    for x in [rng.uniform(-5, 30) for _ in range(200)] + [0.1, 1.0, 15.9, 16.0, 1e3]:
        if x <= 0 and x == math.floor(x):
            continue
        assert polygamma(x, float(n)) == pytest.approx(float(mpmath.polygamma(n, x)), rel=1e-12, abs=1e-13)


@pytest.mark.parametrize(("name", "point"), CASES, ids=IDS)
@pytest.mark.parametrize("backend", ["python", "native"])
def test_every_mode_gives_the_engines_numbers(name, point, backend):
    if backend == "native":
        pytest.importorskip("numba")
    f = _of(name)
    positions = tuple(range(len(point)))

    def program(*xs):
        return f(*(x * 1.0 for x in xs)) * xs[0] + xs[-1]

    expected_value, expected_grads = value_and_grad(program, positions)(*point)
    value, grads = jit(value_and_grad(program, positions), backend=backend)(*point)
    assert [bits(x) for x in (value, *grads)] == [bits(x) for x in (expected_value, *expected_grads)]
    compiled = jit(program, backend=backend)
    result = compiled(*point)
    assert bits(float(result)) == bits(expected_value)
    tangent = jvp(program, point, (1.0,) + (0.0,) * (len(point) - 1))[1]
    assert tangent == pytest.approx(expected_grads[0], rel=1e-12, abs=1e-14)


def test_explain_prints_each_functions_own_local_derivative():
    x, y = Value(3.0, label="x"), Value(4.0, label="y")
    out = io.StringIO()
    gradients = explain(cm.atan2(y, x) + cm.sqrt(x), [x, y], file=out)
    expected = value_and_grad(lambda x, y: cm.atan2(y, x) + cm.sqrt(x), (0, 1))(3.0, 4.0)[1]
    assert [gradients["x"], gradients["y"]] == list(expected)
    assert "atan2(y, x)" in out.getvalue() and "sqrt(x)" in out.getvalue()


def test_the_command_line_takes_the_library(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "chainrule", "grad", "atan2(y, x) + sqrt(x)", "--at", "x=3", "y=4"],
        capture_output=True,
        text=True,
        check=True,
    )
    expected = value_and_grad(lambda x, y: cm.atan2(y, x) + cm.sqrt(x), (0, 1))(3.0, 4.0)
    for number in (expected[0], *expected[1]):
        assert f"{number:.10g}" in run.stdout


def test_abs_and_rounding_of_values_are_ops():
    x = Value(-2.5)
    out = abs(x) + cm.floor(x) * x
    out.backward()
    assert out.data == 2.5 + (-3.0) * -2.5 and x.grad == -1.0 + -3.0  # floor's slope is 0
    for backend in ("python", "native"):
        if backend == "native":
            pytest.importorskip("numba")
        compiled = jit(lambda v: cm.floor(v) * v + cm.ceil(v), backend=backend)
        for point in (0.5, 1.5, -0.5, 2.25):  # traced at 0.5; floor and ceil are recomputed at each call
            assert float(compiled(point)) == math.floor(point) * point + math.ceil(point)


# --- ops of your own -------------------------------------------------------------------------------


@chainrule.primitive(lambda x, out: cm.exp(x) / (1 + cm.exp(x)))  # d/dx softplus = sigmoid
def softplus(x):
    return math.log1p(math.exp(x))


@chainrule.primitive(lambda x, y, out: y * out / x, lambda x, y, out: out * cm.log(x))
def power_of(x, y):
    return x**y


def test_a_primitive_works_everywhere_a_built_in_op_does():
    def program(x, y):
        return softplus(x * y) + power_of(x, y) * x

    point = (1.3, 0.7)
    value, gradient = value_and_grad(program, (0, 1))(*point)
    numeric = numerical_gradient(lambda x, y: program(x, y), point, eps=1e-6)
    assert gradient == pytest.approx(numeric, rel=1e-6)
    assert softplus(0.5) == math.log1p(math.exp(0.5))  # a plain number gives the function's own
    for backend in ("python", "native"):
        if backend == "native":
            pytest.importorskip("numba")
        compiled = jit(value_and_grad(program, (0, 1)), backend=backend)(*point)
        assert [bits(x) for x in (compiled[0], *compiled[1])] == [bits(x) for x in (value, *gradient)]
    assert jvp(program, point, (1.0, 0.0))[1] == pytest.approx(gradient[0], rel=1e-12)
    second = hessian(program)(*point)
    eps = 1e-5
    row = [
        (a - b) / (2 * eps)
        for a, b in zip(grad(program, (0, 1))(1.3 + eps, 0.7), grad(program, (0, 1))(1.3 - eps, 0.7))
    ]
    assert second[0] == pytest.approx(row, rel=1e-6)
    x = Value(0.4, label="x")
    text = io.StringIO()
    explain(softplus(x), [x], file=text)
    assert "softplus(x)" in text.getvalue()
    assert "softplus" in chainrule.to_dot(softplus(x))


def test_a_primitive_whose_partials_are_not_chainrules_says_so_for_second_derivatives():
    @chainrule.primitive(lambda x, out: math.cos(x))
    def my_sin(x):
        return math.sin(x)

    assert grad(my_sin)(0.3) == math.cos(0.3)
    with pytest.raises(TypeError, match=r"partial 1 of the op 'my_sin'.*chainrule's operations"):
        hessian(my_sin)(0.3)


def test_a_primitives_name_never_reaches_the_generated_code_as_code(tmp_path, monkeypatch):
    """A function's __name__ can hold any text: in the jit's source it is a comment, escaped."""
    monkeypatch.chdir(tmp_path)

    def double(x):
        return 2.0 * x

    double.__name__ = "double\nopen('pwned', 'w').close()\n#"
    op = chainrule.primitive(lambda x, out: 2.0)(double)
    compiled = jit(value_and_grad(lambda x: op(x) * x))
    assert compiled(1.5) == value_and_grad(lambda x: op(x) * x)(1.5)
    assert not (tmp_path / "pwned").exists()
    assert "open('pwned'" not in [line.strip() for line in compiled.source.splitlines()]
