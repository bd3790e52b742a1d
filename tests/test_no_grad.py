"""no_grad(): operations inside record no parents and keep no closures, and the mode always comes back."""

from __future__ import annotations

import random
import sys

import pytest

from chainrule import MLP, Value, enable_grad, grad_mode, no_grad


def _every_op(x: Value, y: Value) -> list[Value]:
    return [
        x + y, x - y, x * y, x / y, x**2, x**y, -x, x.tanh(), x.exp(), x.log(), x.relu(), x.sigmoid(),
        2 + x, 2 - x, 2 * x, 2 / x, 2**x, x + 1, x * 3,
    ]  # fmt: skip


def test_no_op_records_parents_or_keeps_a_closure():
    x, y = Value(1.5), Value(0.5)
    recorded = _every_op(x, y)
    with no_grad():
        bare = _every_op(x, y)
    assert all(node._prev for node in recorded)
    for node, twin in zip(bare, recorded):
        assert node._prev == ()
        assert node._backward is Value(0.0)._backward  # the leaf's no-op, not a closure over operands
        assert node.data == twin.data  # same forward values


def test_backward_of_a_no_grad_result_reaches_no_leaf():
    x = Value(2.0)
    with no_grad():
        y = (x * x).tanh()
    y.backward()
    assert (y.grad, x.grad) == (1.0, 0.0)


def test_a_kept_result_holds_no_reference_to_its_operands():
    x = Value(2.0)
    alone = sys.getrefcount(x)
    recorded = x * 3.0
    assert sys.getrefcount(x) > alone  # in grad mode the result keeps x (parent and closure)
    del recorded
    with no_grad():
        kept = x * 3.0
    assert sys.getrefcount(x) == alone and kept.data == 6.0


def test_the_mode_comes_back_after_the_block_nested_and_after_an_exception():
    assert grad_mode.is_enabled()
    with no_grad():
        with no_grad():
            assert not grad_mode.is_enabled()
        assert not grad_mode.is_enabled()
        with enable_grad():
            assert grad_mode.is_enabled()
            assert (Value(1.0) * 2)._prev
        assert not grad_mode.is_enabled()
    assert grad_mode.is_enabled()
    with pytest.raises(ZeroDivisionError), no_grad():
        Value(1.0) / 0
    assert grad_mode.is_enabled()
    assert (Value(1.0) * 2)._prev


def test_works_as_a_decorator():
    @no_grad()
    def square(v: Value) -> Value:
        return v * v

    assert square(Value(3.0))._prev == ()
    assert square(Value(3.0))._prev == ()  # a decorator is reusable, unlike a used `with` object
    assert grad_mode.is_enabled()


def test_inference_gives_the_same_outputs_and_keeps_parameters_untouched():
    model = MLP(3, [5, 2], rng=random.Random(0))
    point = [0.3, -1.2, 0.8]
    expected = [out.data for out in model(point)]
    with no_grad():
        outputs = model(point)
    assert [out.data for out in outputs] == expected
    assert all(out._prev == () for out in outputs)
    for out in outputs:
        out.backward()
    assert all(p.grad == 0.0 for p in model.parameters())
