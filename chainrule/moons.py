"""micrograd's demo: MLP(2, [16, 16, 1]) separates two moons with hinge loss and decaying SGD."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from chainrule import data
from chainrule.engine import Value
from chainrule.grad_mode import no_grad
from chainrule.losses import hinge
from chainrule.nn import MLP

Objective = Callable[[Sequence[Sequence[float]], Sequence[float]], Value]


@dataclass(frozen=True)
class MoonsConfig:
    seed: int = 1337
    n: int = 100
    noise: float = 0.1
    steps: int = 100
    lr_start: float = 1.0
    lr_end: float = 0.1
    alpha: float = 1e-4  # weight of the L2 penalty: alpha · Σ p²


@dataclass(frozen=True)
class Progress:
    step: int
    loss: float
    accuracy: float
    lr: float


def build(config: MoonsConfig) -> tuple[MLP, data.Dataset]:
    """The network (ReLU hidden layers, linear output) and the data, both from config.seed."""
    rng = random.Random(config.seed)
    model = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", rng=rng)
    return model, data.moons(config.n, config.noise, config.seed)


def objective(model: MLP, alpha: float) -> Objective:
    """loss(points, labels) = mean hinge loss + alpha · Σ p² over the parameters: one Value."""

    def loss(points: Sequence[Sequence[float]], labels: Sequence[float]) -> Value:
        scores = [model(point) for point in points]
        penalty = sum((p * p for p in model.parameters()), Value(0.0))
        return hinge(scores, labels) + alpha * penalty

    return loss


def accuracy(model: MLP, dataset: data.Dataset) -> float:
    """The fraction of points on the right side of the decision boundary (score sign = label sign)."""
    with no_grad():
        right = sum((model(p).data > 0) == (label > 0) for p, label in zip(dataset.points, dataset.labels))
    return right / len(dataset)


def learning_rate(config: MoonsConfig, step: int) -> float:
    """Linear decay from lr_start at step 0 towards lr_end at the last step, as in micrograd's demo."""
    return config.lr_start - (config.lr_start - config.lr_end) * step / config.steps


def train(
    config: MoonsConfig, model: MLP, dataset: data.Dataset, loss_fn: Objective | None = None
) -> Iterator[Progress]:
    """Run config.steps SGD steps, yielding the loss before each update and its accuracy.

    `loss_fn` defaults to objective(model, config.alpha); pass a compiled one (chainrule.jit) to go faster.
    """
    loss_fn = loss_fn or objective(model, config.alpha)
    params = model.parameters()
    labels = [float(label) for label in dataset.labels]
    for step in range(config.steps):
        loss = loss_fn(dataset.points, labels)
        model.zero_grad()
        loss.backward()
        lr = learning_rate(config, step)
        yield Progress(step, loss.data, accuracy(model, dataset), lr)
        for p in params:
            p.data -= lr * p.grad
