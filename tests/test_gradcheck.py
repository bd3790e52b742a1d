"""gradcheck itself: right gradients pass; a wrong one is named, worst input first, with both numbers."""

from __future__ import annotations

import re

import pytest

from chainrule import GradcheckError, Value, gradcheck, no_grad
from chainrule.derivatives.gradcheck import engine_gradient, numerical_gradient


def smooth(x, y, z):
    return (x * y).tanh() + z.exp() / (1 + x * x) - y.sigmoid() * z


POINT = [0.3, -1.1, 0.7]


def test_right_gradients_pass():
    assert gradcheck(smooth, POINT) is True


def test_numerical_gradient_is_central_differences_of_the_forward_values():
    def value(*xs):
        return smooth(*map(Value, xs)).data

    eps = 1e-6
    for i, slope in enumerate(numerical_gradient(smooth, POINT, eps)):
        above = [x + eps if j == i else x for j, x in enumerate(POINT)]
        below = [x - eps if j == i else x for j, x in enumerate(POINT)]
        assert slope == (value(*above) - value(*below)) / (2 * eps)


def leaky(x, y, z):
    # terms built from .data are invisible to the engine: y's gradient misses 0.5, z's misses 0.1·2z
    return x * y + Value(0.5 * y.data) + Value(0.1 * z.data**2) + z * z * 0.9


def test_the_worst_input_is_named_with_both_numbers():
    point = [2.0, 3.0, 0.5]
    with pytest.raises(GradcheckError) as raised:
        gradcheck(leaky, point)
    engine, numeric = engine_gradient(leaky, point), numerical_gradient(leaky, point)
    pattern = r"gradient mismatch at input (\d) \(x = (\S+)\): engine (\S+), central differences (\S+) .*"
    found = re.fullmatch(pattern, str(raised.value))
    assert found is not None
    worst = int(found[1])
    assert worst == 1 and float(found[2]) == point[1]  # y: off by 0.5, more than z's 0.1
    assert (float(found[3]), float(found[4])) == (engine[worst], numeric[worst])


def test_a_nan_gradient_is_a_mismatch():
    def flat(x):
        return (x * 0.0) ** 0.5  # constant 0, but the chain rule meets 0·inf = NaN at the root's edge

    with pytest.raises(GradcheckError, match=r"engine nan, central differences 0\.0 "):
        gradcheck(flat, [1.0])


def test_works_inside_no_grad():
    with no_grad():
        assert engine_gradient(smooth, POINT) != [0.0, 0.0, 0.0]
        assert gradcheck(smooth, POINT)


@pytest.mark.parametrize("x", [5e-324, 2.2250738585072014e-308, 1e-310, 0.0, -1e-310])
def test_x_to_the_zero_has_slope_zero_even_where_one_over_x_overflows(torch, x):
    # found by the fuzzer: n·x^(n-1) at n = 0 was 0·inf = NaN for a subnormal x
    leaf = Value(x)
    (leaf**0).backward()
    reference = torch.tensor(x, requires_grad=True)
    reference.pow(0).backward()
    assert leaf.grad == 0.0 == reference.grad.item()
