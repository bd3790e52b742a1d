"""Numbers from the ecosystem: any numbers.Real (numpy scalars, Fraction) is a Value's data, stored as the
Python float it equals, and grad, jit and jvp take them as arguments; refusals are in test_bad_input.py."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

import chainrule
from chainrule import Value

np = pytest.importorskip("numpy")

NUMBERS = [np.float32(0.1), np.float64(-2.5), np.float16(3.0), np.int64(7), np.uint8(200), np.int8(-3)]
NUMBERS += [Fraction(1, 3), Fraction(-22, 7), 5, 2.0]


@pytest.mark.parametrize("number", NUMBERS, ids=lambda x: f"{type(x).__name__}({x})")
def test_a_value_holds_the_float_the_number_equals(number):
    value = Value(number)
    assert type(value.data) is float and value.data == float(number)
    assert (Value(1.0) + number).data == 1.0 + float(number)  # as the other operand, too
    assert (Value(1.5) ** number).data == 1.5 ** float(number)  # and as an exponent


def test_np_float32_keeps_its_own_value_not_the_decimal_it_was_written_as():
    assert Value(np.float32(0.1)).data == 0.10000000149011612 != 0.1


@pytest.mark.parametrize("number", NUMBERS, ids=lambda x: f"{type(x).__name__}({x})")
def test_grad_jit_and_jvp_take_them_as_arguments(number):
    def f(x, y):
        return (x * y).sin() + y.exp()

    x = float(number)
    expected_value, expected_grad = chainrule.value_and_grad(f, argnums=(0, 1))(x, 0.5)
    assert chainrule.value_and_grad(f, argnums=(0, 1))(number, Fraction(1, 2)) == (
        expected_value,
        expected_grad,
    )
    assert chainrule.jit(f)(number, np.float64(0.5)).data == expected_value
    assert chainrule.jvp(f, (number, np.float32(0.5)), (np.int64(1), Fraction(0))) == (
        expected_value,
        expected_grad[0],
    )
    assert chainrule.gradcheck(f, [number, 0.5])


def test_the_jit_compiles_once_for_floats_and_numbers_alike():
    compiled = chainrule.jit(lambda x: x.cos() * 2)
    half = np.float32(0.5)
    assert compiled(half).data == compiled(float(half)).data == math.cos(float(half)) * 2
    assert len(compiled._programs) == 1  # a numpy scalar has a float's shape: no second trace
