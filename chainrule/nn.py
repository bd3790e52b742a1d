"""Neurons, layers and multi-layer perceptrons built from engine Values: no matrix anywhere."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from chainrule.engine import Value

ACTIVATIONS = ("tanh", "relu", "linear")
Input = Sequence["Value | float"]


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    return activation


class Module:
    """Anything with parameters: they can be listed, named, saved and loaded, and their gradients zeroed."""

    def parameters(self) -> list[Value]:
        return []

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(dotted name, parameter) pairs in parameters() order: "layers.0.neurons.1.w.0" and so on."""
        named = []
        for attribute, item in vars(self).items():
            for key, value in enumerate(item) if isinstance(item, list) else [(None, item)]:
                name = attribute if key is None else f"{attribute}.{key}"
                if isinstance(value, Value):
                    named.append((name, value))
                elif isinstance(value, Module):
                    named.extend((f"{name}.{inner}", p) for inner, p in value.named_parameters())
        if sorted(map(id, (p for _, p in named))) != sorted(map(id, self.parameters())):
            raise TypeError(
                f"cannot name the parameters of {type(self).__name__}: keep them in attributes that are "
                "Values, Modules or lists of them, as parameters() lists them"
            )
        return named

    def state_dict(self) -> dict[str, float]:
        """Every parameter's value by name: {name: p.data}."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Set every parameter from `state`; checks it all first, so a bad state changes nothing."""
        named = dict(self.named_parameters())
        missing, unexpected = sorted(named.keys() - state.keys()), sorted(state.keys() - named.keys())
        if missing or unexpected:
            raise ValueError(
                f"the state does not fit this {type(self).__name__}: missing {missing or 'nothing'}, "
                f"unexpected {unexpected or 'nothing'} (was it saved from another architecture?)"
            )
        for name, number in state.items():
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise TypeError(f"parameter {name} must be a number, got {type(number).__name__}: {number!r}")
        for name, p in named.items():
            p.data = float(state[name])

    def zero_grad(self) -> None:
        # Zeroing: gradients accumulate by design (+= in every closure), so without this reset
        # step 2 would follow step 1's gradient plus its own.
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """activation(w·x + b), with w drawn uniformly from [-1, 1] and b = 0."""

    def __init__(self, nin: int, activation: str = "tanh", rng: random.Random | None = None) -> None:
        if isinstance(nin, bool) or not isinstance(nin, int) or nin < 1:
            raise ValueError(f"a neuron needs a positive whole number of inputs, got {nin!r}")
        uniform = (rng or random).uniform
        self.w = [Value(uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = _check_activation(activation)

    def __call__(self, x: Input) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {len(x)}")
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        if self.activation == "tanh":
            return act.tanh()
        return act.relu() if self.activation == "relu" else act

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """nout neurons that all see the same inputs; always returns a list."""

    def __init__(
        self, nin: int, nout: int, activation: str = "tanh", rng: random.Random | None = None
    ) -> None:
        if isinstance(nout, bool) or not isinstance(nout, int) or nout < 1:
            raise ValueError(f"a layer needs a positive whole number of neurons, got {nout!r}")
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    def __call__(self, x: Input) -> list[Value]:
        return [n(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer([{', '.join(map(repr, self.neurons))}])"


class MLP(Module):
    """A stack of layers: MLP(2, [4, 1]) is 2 inputs, a hidden layer of 4, one output.

    `activation` is used by the hidden layers, `output_activation` (default: the same) by the last.
    The defaults (tanh everywhere) are the reference network; micrograd's demo (chainrule.demos.moons)
    has ReLU hidden layers and a linear output.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "tanh",
        output_activation: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"nouts must be a non-empty list of layer sizes such as [4, 1], got {nouts!r}")
        last = _check_activation(output_activation or activation)
        # the architecture, for checkpoints: MLP(**architecture) rebuilds this network's shape
        self.nin, self.nouts, self.activation, self.output_activation = (
            nin,
            list(nouts),
            _check_activation(activation),
            last,
        )
        sizes = [nin, *nouts]
        self.layers = [
            Layer(sizes[i], sizes[i + 1], last if i == len(nouts) - 1 else activation, rng)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Input) -> Value | list[Value]:
        for layer in self.layers:
            x = outputs = layer(x)
        return outputs[0] if len(outputs) == 1 else outputs

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return (
            f"MLP({self.nin}, {self.nouts}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r})"
        )
