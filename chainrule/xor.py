"""The reference run: MLP(2, [4, 1]) learns XOR with plain SGD (the specification's contract)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from chainrule import compiler, data
from chainrule.engine import Value
from chainrule.losses import sum_squared_error
from chainrule.nn import MLP
from chainrule.optim import SGD

# The four corners; labels {0, 1} are mapped to targets {-1, +1}, the range of tanh.
CORNERS = data.xor()


@dataclass(frozen=True)
class XorConfig:
    seed: int = 1337
    steps: int = 2000
    lr: float = 0.1
    hidden: int = 4
    every: int = 200


def build(config: XorConfig) -> MLP:
    random.seed(config.seed)
    return MLP(2, [config.hidden, 1])


Objective = Callable[[Sequence[Sequence[float]], Sequence[float]], Value]


def objective(model: MLP) -> Objective:
    """loss(points, targets) = Σ (model(x) - y)²: the reference run's loss."""
    return lambda points, targets: sum_squared_error([model(x) for x in points], targets)


def train(model: MLP, config: XorConfig, loss_fn: Objective | None = None) -> Iterator[tuple[int, float]]:
    """Yield (step, loss) for steps 0..config.steps; the last loss is measured after the final update.

    `loss_fn` defaults to objective(model); pass a compiled one (chainrule.jit) to go faster.
    """
    loss_fn = loss_fn or objective(model)
    optimizer = SGD(model.parameters(), lr=config.lr)
    targets = [float(label) for label in CORNERS.labels]
    for step in range(config.steps + 1):
        loss = loss_fn(CORNERS.points, targets)
        yield step, loss.data
        if step == config.steps:
            return
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def prediction_lines(model: MLP) -> list[str]:
    lines = []
    for x, label in zip(CORNERS.points, CORNERS.labels):
        score = model(x).data
        predicted, wanted = int(score > 0), int(label > 0)
        verdict = "OK" if predicted == wanted else "WRONG"
        lines.append(f"[{x[0]:.0f},{x[1]:.0f}] -> {score:+.4f} class {predicted} (want {wanted}) {verdict}")
    return lines


def run(config: XorConfig, jit: bool = False) -> Iterator[str]:
    """The printed log, line by line, as the engine (or with jit=True, the compiled objective) computes it."""
    model = build(config)
    loss_fn = compiler.jit(objective(model)) if jit else None
    for step, loss in train(model, config, loss_fn):
        if step % config.every == 0 or step == config.steps:
            yield f"step {step} loss {loss:.6f}"
    yield "Final predictions:"
    yield from prediction_lines(model)
