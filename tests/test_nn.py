"""Neuron, Layer, MLP: shapes, the reference initialisation, activations, gradients against PyTorch."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from chainrule import MLP, Layer, Neuron, Value
from chainrule.derivatives.gradcheck import gradcheck


def test_reference_network_has_17_parameters_and_one_output():
    model = MLP(2, [4, 1])
    assert len(model.parameters()) == 17
    assert isinstance(model([1.0, -1.0]), Value)


def test_layer_always_returns_a_list_and_mlp_a_list_for_several_outputs():
    assert isinstance(Layer(2, 1)([0.5, 0.5]), list)
    out = MLP(2, [3, 2])([0.5, -0.5])
    assert isinstance(out, list)
    assert len(out) == 2


def test_hidden_layer_of_width_one():
    model = MLP(2, [16, 1, 1])
    assert isinstance(model([0.1, 0.2]), Value)
    assert len(model.parameters()) == 16 * 3 + 17 + 2


def test_weights_drawn_in_order_with_uniform_and_bias_zero():
    random.seed(11)
    model = MLP(3, [2, 1])
    random.seed(11)
    draws = [random.uniform(-1, 1) for _ in range(3 * 2 + 2 * 1)]
    weights = [w.data for layer in model.layers for n in layer.neurons for w in n.w]
    assert weights == draws
    assert all(n.b.data == 0.0 for layer in model.layers for n in layer.neurons)


def test_an_rng_can_replace_the_global_random():
    a = MLP(2, [3, 1], rng=random.Random(5))
    b = MLP(2, [3, 1], rng=random.Random(5))
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


@pytest.mark.parametrize(
    ("activation", "fn"),
    [("tanh", math.tanh), ("relu", lambda z: max(0.0, z)), ("linear", lambda z: z)],
)
def test_neuron_computes_activation_of_weighted_sum(activation, fn):
    neuron = Neuron(3, activation=activation, rng=random.Random(2))
    neuron.b.data = 0.25
    x = [0.5, -1.5, 2.0]
    expected = fn(sum(w.data * xi for w, xi in zip(neuron.w, x)) + 0.25)
    assert neuron(x).data == pytest.approx(expected, rel=1e-15)


def test_relu_hidden_linear_output():
    model = MLP(2, [8, 8, 1], activation="relu", output_activation="linear", rng=random.Random(0))
    assert [layer.neurons[0].activation for layer in model.layers] == ["relu", "relu", "linear"]


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLP(2, [4, 1], activation="sigmoidish"),
        lambda: MLP(2, []),
        lambda: Neuron(0),
        lambda: Layer(2, 0),
        lambda: MLP(2, [4, 1])([1.0, 2.0, 3.0]),
    ],
)
def test_bad_arguments_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_zero_grad_zeroes_every_parameter():
    model = MLP(2, [3, 1])
    model([0.3, 0.4]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


def _forward_with(params, points, targets, tanh=Value.tanh, zero=None):
    """MLP(2, [3, 2, 1])'s squared error written out by hand over a flat parameter list (w, then b).

    The same code runs on chainrule Values and, with tanh=torch.tanh, on torch tensors.
    """
    total = Value(0.0) if zero is None else zero
    for x, y in zip(points, targets):
        activations, offset = list(x), 0
        for nin, nout in itertools.pairwise([2, 3, 2, 1]):
            outputs = []
            for _ in range(nout):
                w, b = params[offset : offset + nin], params[offset + nin]
                offset += nin + 1
                outputs.append(tanh(sum((wi * xi for wi, xi in zip(w, activations)), b)))
            activations = outputs
        total = total + (activations[0] - y) ** 2
    return total


def test_mlp_gradients_match_central_differences_and_torch(torch):
    model = MLP(2, [3, 2, 1], rng=random.Random(4))
    points, targets = [[0.5, -1.0], [-0.3, 0.8]], [0.5, -0.25]
    loss = sum(((model(x) - y) ** 2 for x, y in zip(points, targets)), Value(0.0))
    loss.backward()
    values = [p.data for p in model.parameters()]
    assert _forward_with(model.parameters(), points, targets).data == loss.data  # same layout

    assert gradcheck(lambda *ps: _forward_with(ps, points, targets), values)

    params = [torch.tensor(v, requires_grad=True) for v in values]
    total = _forward_with(params, points, targets, tanh=torch.tanh, zero=torch.tensor(0.0))
    total.backward()
    assert loss.data == pytest.approx(total.item(), rel=1e-14)
    for p, t in zip(model.parameters(), params):
        assert p.grad == pytest.approx(t.grad.item(), rel=1e-12, abs=1e-15)
