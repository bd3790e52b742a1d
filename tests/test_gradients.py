"""chainrule.grad and value_and_grad: functions of numbers in, gradients out (HIPS autograd / JAX style)."""

from __future__ import annotations

import pytest

import chainrule
from chainrule import Value, grad, no_grad, value_and_grad
from chainrule.derivatives.gradcheck import numerical_gradient


def f(x, y, z):
    # arguments outside argnums arrive as the plain numbers they were given: lift them to use methods
    x, y, z = (Value(a) if isinstance(a, float) else a for a in (x, y, z))
    return (x * y + z.exp()).tanh() + (x / y).log() * z


POINT = (1.5, 0.7, -0.4)


def _central(position: int) -> float:
    return numerical_gradient(f, POINT)[position]


@pytest.mark.parametrize("argnums", [0, 1, 2, -1, -3])
def test_single_argnum_gives_a_float_matching_central_differences(argnums):
    gradient = grad(f, argnums)(*POINT)
    assert isinstance(gradient, float)
    assert gradient == pytest.approx(_central(argnums % 3), rel=1e-6)


@pytest.mark.parametrize("argnums", [(0,), (2, 0), [0, 1, 2], (-1, 1)])
def test_sequence_argnums_give_a_tuple_in_that_order(argnums):
    gradient = grad(f, argnums)(*POINT)
    assert isinstance(gradient, tuple)
    assert gradient == pytest.approx(tuple(_central(n % 3) for n in argnums), rel=1e-6)


def test_value_and_grad_returns_the_value_too():
    value, gradient = value_and_grad(f, (0, 1, 2))(*POINT)
    assert value == f(*map(Value, POINT)).data
    assert gradient == grad(f, (0, 1, 2))(*POINT)


def test_matches_pytorch(torch):
    leaves = [torch.tensor(x, requires_grad=True) for x in POINT]
    expected = f(*leaves)
    expected.backward()
    value, gradient = value_and_grad(f, (0, 1, 2))(*POINT)
    assert value == pytest.approx(expected.item(), rel=1e-14)
    assert gradient == pytest.approx(tuple(leaf.grad.item() for leaf in leaves), rel=1e-12)


def test_other_arguments_and_keywords_pass_through_unchanged():
    seen = {}

    def g(x, scale, *, shift):
        seen["scale"], seen["shift"] = scale, shift
        return x * x * scale + shift

    assert grad(g)(3.0, 2.0, shift=5.0) == 12.0  # d/dx (2x² + 5) at 3; exact in binary floating point
    assert type(seen["scale"]) is float and type(seen["shift"]) is float


def test_a_constant_function_has_gradient_zero():
    assert value_and_grad(lambda x: 4.0)(1.0) == (4.0, 0.0)


def test_records_the_graph_even_inside_no_grad():
    with no_grad():
        inside = grad(f, (0, 1, 2))(*POINT)
        assert not chainrule.grad_mode.is_enabled()  # and the caller's mode comes back
    assert inside == grad(f, (0, 1, 2))(*POINT)
    assert all(g != 0 for g in inside)


def test_keeps_the_function_name():
    assert grad(f).__name__ == "f" and value_and_grad(f).__name__ == "f"
