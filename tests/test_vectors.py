"""Vectors in, vectors out: grad, value_and_grad, jvp, hessian, hvp, jacobian, jacfwd and jit take lists,
tuples, dicts and numpy arrays, give results in the same structure, and agree with central differences,
PyTorch in float64, and each other, eager and compiled on both backends; scipy.optimize uses them as written.
"""

from __future__ import annotations

import collections
import itertools
import subprocess
import sys

import numpy as np
import pytest

import chainrule
import chainrule.math as cm
from chainrule import Value, grad, hessian, hvp, jacfwd, jacobian, jit, jvp, value_and_grad
from chainrule.derivatives.gradcheck import numerical_gradient
from chainrule.runtime import trees

BACKENDS = ["python", "native"]
Point = collections.namedtuple("Point", "x y")


def energy(w):
    """Σ tanh(wᵢ)·wᵢ₊₁ + exp(w₀/4) over the numbers of w in order (any array shape)."""
    flat = list(np.ravel(w)) if isinstance(w, np.ndarray) else w
    total = cm.exp(flat[0] / 4)
    for a, b in itertools.pairwise(flat):
        total = total + cm.tanh(a) * b
    return total


def _central(f, numbers):
    return numerical_gradient(lambda *xs: f(list(xs)), numbers)


def _backend(name, request):
    if name == "native":
        request.getfixturevalue("numba")
    return name


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 2, 2)])
def test_an_array_in_gives_a_float64_array_of_its_shape(shape):
    x = np.linspace(-1.0, 1.2, int(np.prod(shape))).reshape(shape).astype(np.float32)
    gradient = grad(energy)(x)
    assert isinstance(gradient, np.ndarray) and gradient.dtype == np.float64 and gradient.shape == shape
    numbers = x.astype(np.float64).ravel().tolist()
    assert gradient.ravel().tolist() == pytest.approx(_central(energy, numbers), rel=1e-6)


def test_lists_tuples_dicts_and_namedtuples_keep_their_structure():
    def f(tree):
        return tree["a"] * tree["b"][0] + cm.sin(tree["b"][1][1]) * tree["p"].x / tree["p"].y

    tree = {"a": 2.0, "b": [3, (0.5, -1.25)], "p": Point(1.5, 4.0)}
    value, gradient = value_and_grad(f)(tree)
    assert value == f(tree)  # chainrule.math of numbers is math
    assert list(gradient) == ["a", "b", "p"] and type(gradient["b"][1]) is tuple
    assert type(gradient["p"]) is Point
    flat = [2.0, 3.0, 0.5, -1.25, 1.5, 4.0]
    expected = _central(lambda n: f({"a": n[0], "b": [n[1], (n[2], n[3])], "p": Point(n[4], n[5])}), flat)
    got = [gradient["a"], gradient["b"][0], *gradient["b"][1], *gradient["p"]]
    assert got == pytest.approx(expected, rel=1e-6)


def test_arrays_match_pytorch(torch):
    x = np.array([[0.3, -0.7, 1.1], [0.2, 0.9, -0.4]])
    t = torch.tensor(x, requires_grad=True)
    flat = t.reshape(-1)
    expected = torch.exp(flat[0] / 4) + (torch.tanh(flat[:-1]) * flat[1:]).sum()
    (g,) = torch.autograd.grad(expected, t, create_graph=True)
    h = torch.autograd.functional.hessian(
        lambda u: torch.exp(u[0] / 4) + (torch.tanh(u[:-1]) * u[1:]).sum(), torch.tensor(x.ravel())
    )
    assert grad(energy)(x) == pytest.approx(g.detach().numpy(), rel=1e-12)
    matrix = hessian(energy)(x.ravel())
    assert matrix.shape == (6, 6) and matrix == pytest.approx(h.numpy(), rel=1e-12, abs=1e-14)
    assert hessian(energy)(x).shape == (2, 3, 2, 3)
    v = np.array([0.5, -1.0, 2.0, 0.25, 1.5, -0.75])
    assert hvp(energy)(x.ravel(), v) == pytest.approx(h.numpy() @ v, rel=1e-12)
    assert jvp(energy, (x.ravel(),), (v,))[1] == pytest.approx(g.detach().numpy().ravel() @ v, rel=1e-12)


def arm(angles):
    """A two-link arm's hand (lengths 1 and 0.7) and the square of its reach: three outputs."""
    a, b = angles[0], angles[1]
    x = cm.cos(a) + 0.7 * cm.cos(a + b)
    y = cm.sin(a) + 0.7 * cm.sin(a + b)
    return (x, y, x * x + y * y)


def test_jacobian_and_jacfwd_agree_with_each_other_and_pytorch(torch):
    point = np.array([0.4, 1.1])

    def torch_arm(u):
        x = torch.cos(u[0]) + 0.7 * torch.cos(u[0] + u[1])
        y = torch.sin(u[0]) + 0.7 * torch.sin(u[0] + u[1])
        return torch.stack([x, y, x * x + y * y])

    expected = torch.autograd.functional.jacobian(torch_arm, torch.tensor(point)).numpy()
    for make in (jacobian, jacfwd):
        array = make(arm)(point)
        assert isinstance(array, np.ndarray) and array.shape == (3, 2)
        assert array == pytest.approx(expected, rel=1e-12)
        rows = make(arm)([0.4, 1.1])
        assert isinstance(rows, tuple) and all(type(row) is list for row in rows)  # a tuple out: of rows
        assert np.array(rows) == pytest.approx(expected, rel=1e-12)
    assert jacobian(lambda x, y: [x * y, x + y], (0, 1))(2.0, 3.0) == ([3.0, 1.0], [2.0, 1.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_jit_takes_and_gives_the_same_structures_as_eager(request, backend):
    backend = _backend(backend, request)
    points = [np.array([0.3, -0.2, 0.8, 1.4]), np.array([-1.0, 0.5, 0.1, 2.0])]
    for make in (grad, value_and_grad, jacobian, jacfwd):
        f = energy if make in (grad, value_and_grad) else (lambda w: [w[0] * w[1], cm.atan2(w[2], w[3])])
        compiled = jit(make(f), backend=backend)
        for x in points + points[::-1]:
            eager, fast = make(f)(x), compiled(x)
            (fast_numbers, fast_spec), (numbers, spec) = (trees.flatten(r, float) for r in (fast, eager))
            assert fast_spec == spec and fast_numbers == numbers  # bit for bit, in the same structure
    tree = {"w": [0.5, 1.5], "s": 2.0}
    compiled = jit(grad(lambda t: t["s"] * t["w"][0] * t["w"][1]), backend=backend)
    assert (
        compiled(tree) == grad(lambda t: t["s"] * t["w"][0] * t["w"][1])(tree) == {"w": [3.0, 1.0], "s": 0.75}
    )


def test_an_array_program_is_never_run_for_a_list_of_the_same_length():
    compiled = jit(grad(energy))
    assert isinstance(compiled(np.array([1.0, 2.0])), np.ndarray)
    assert type(compiled([1.0, 2.0])) is list  # another structure: its own program


def test_scipy_minimize_takes_value_and_grad_and_hvp_as_written():
    optimize = pytest.importorskip("scipy.optimize")  # in the test extra: CI has it

    def rosenbrock(x):
        return sum(
            ((1 - x[i]) ** 2 + 100 * (x[i + 1] - x[i] * x[i]) ** 2 for i in range(len(x) - 1)), Value(0.0)
        )

    x0 = np.array([-1.2, 1.0, -0.5, 0.8])
    for fun in (value_and_grad(rosenbrock), jit(value_and_grad(rosenbrock))):
        result = optimize.minimize(fun, x0, jac=True, method="BFGS")
        assert result.success and result.x == pytest.approx(np.ones(4), abs=1e-5)
    result = optimize.minimize(
        value_and_grad(rosenbrock), x0, jac=True, hessp=hvp(rosenbrock), method="trust-ncg"
    )
    assert result.success and result.nhev > 0 and result.x == pytest.approx(np.ones(4), abs=1e-4)
    p = np.array([1.0, -2.0, 0.5, 3.0])
    assert hvp(rosenbrock)(x0, p) == pytest.approx(hessian(rosenbrock)(x0) @ p, rel=1e-12)


def test_the_core_runs_without_numpy():
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "import chainrule\n"
        "print(chainrule.grad(lambda d: d['a'] * d['b'][1])({'a': 2.0, 'b': [1.0, 3.0]}))\n"
    )
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert printed.strip() == "{'a': 3.0, 'b': [0.0, 2.0]}"
    assert "numpy" not in chainrule.runtime.trees.__dict__
