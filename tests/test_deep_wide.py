"""Deep and wide graphs: a million-node chain, a 100,000-term sum, a neuron with 10,000 inputs.

Recursion would stop at about a thousand levels; the engine's walk is iterative, so depth is free.
"""

from __future__ import annotations

import random

import pytest

from chainrule import Neuron, Value, no_grad
from chainrule.derivatives.gradcheck import numerical_gradient


def _central_difference_at(f, point: list[float], i: int, eps: float = 1e-6) -> float:
    """∂f/∂xᵢ by central differences along one coordinate (f maps the list of numbers to a number)."""
    return numerical_gradient(lambda xi: Value(f([*point[:i], xi.data, *point[i + 1 :]])), [point[i]], eps)[0]


def test_a_chain_of_a_million_nodes():
    n = 1_000_000
    start, step = Value(0.5), Value(1e-3)
    y = start
    for _ in range(n):
        y = y + step  # each node's parent is the one before: depth n
    y.backward()
    # y = start + n·step: d/dstart = 1, d/dstep = n (step is used n times: accumulation, not assignment)
    assert (start.grad, step.grad) == (1.0, float(n))
    assert y.data == pytest.approx(0.5 + n * 1e-3, rel=1e-9)


def _sum_of_squares(xs):
    return sum((x * x for x in xs), Value(0.0))


def test_a_sum_of_a_hundred_thousand_terms(torch):
    rng = random.Random(0)
    point = [rng.uniform(-1, 1) for _ in range(100_000)]
    leaves = [Value(x) for x in point]
    total = _sum_of_squares(leaves)
    total.backward()

    reference = torch.tensor(point, requires_grad=True)
    (reference * reference).sum().backward()
    assert [leaf.grad for leaf in leaves] == pytest.approx(reference.grad.tolist(), rel=1e-15)
    assert total.data == pytest.approx(reference.detach().pow(2).sum().item(), rel=1e-12)

    def value(xs):
        with no_grad():
            return _sum_of_squares(map(Value, xs)).data

    for i in (0, 54_321, 99_999):  # a few coordinates by central differences too
        assert leaves[i].grad == pytest.approx(_central_difference_at(value, point, i, eps=1e-4), abs=1e-5)


def test_a_neuron_with_ten_thousand_inputs(torch):
    n = 10_000
    neuron = Neuron(n, rng=random.Random(1))
    rng = random.Random(2)
    point = [rng.uniform(-1, 1) / 100 for _ in range(n)]
    leaves = [Value(x) for x in point]
    out = neuron(leaves)
    out.backward()

    w = torch.tensor([p.data for p in neuron.w], requires_grad=True)
    x = torch.tensor(point, requires_grad=True)
    b = torch.tensor(neuron.b.data, requires_grad=True)
    expected = torch.tanh(w @ x + b)
    expected.backward()
    assert out.data == pytest.approx(expected.item(), rel=1e-12)
    assert [p.grad for p in neuron.w] == pytest.approx(w.grad.tolist(), rel=1e-9)
    assert [leaf.grad for leaf in leaves] == pytest.approx(x.grad.tolist(), rel=1e-9)
    assert neuron.b.grad == pytest.approx(b.grad.item(), rel=1e-9)

    def value(xs):
        with no_grad():
            return neuron(xs).data

    for i in (0, 5_000, 9_999):
        assert leaves[i].grad == pytest.approx(_central_difference_at(value, point, i), rel=1e-4, abs=1e-8)
