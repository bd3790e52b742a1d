"""The reference run: MLP(2, [4, 1]) learns XOR with plain SGD (the specification's contract)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import cast

from chainrule import compiler
from chainrule.demos import data
from chainrule.demos.continuation import ContinuationError, saved_step
from chainrule.demos.objective import Objective, Trainable, one
from chainrule.losses import sum_squared_error
from chainrule.nn import MLP
from chainrule.optim import SGD
from chainrule.storage.checkpoint import Checkpoint

# The four corners; labels {0, 1} are mapped to targets {-1, +1}, the range of tanh.
CORNERS = data.xor()


@dataclass(frozen=True)
class XorConfig:
    seed: int = 1337
    steps: int = 2000
    lr: float = 0.1
    hidden: int = 4
    every: int = 200


def network(hidden: int | str) -> str:
    """The network's name, with `hidden` units: "MLP(2, [4, 1])"."""
    return f"MLP(2, [{hidden}, 1])"


def build(config: XorConfig) -> MLP:
    """MLP(2, [config.hidden, 1]) of tanh, its weights drawn from its own random.Random(config.seed)."""
    return MLP(2, [config.hidden, 1], rng=random.Random(config.seed))


def objective(model: MLP) -> Objective:
    """loss(points, targets) = Σ (model(x) - y)²: the reference run's loss."""
    return lambda points, targets: sum_squared_error([one(model(x)) for x in points], targets)


def train(
    config: XorConfig,
    model: MLP,
    dataset: data.Dataset,
    loss_fn: Trainable | None = None,
    start: int = 0,
) -> Iterator[tuple[int, float]]:
    """Yield (step, loss) for steps start..start + config.steps; the last loss is after the final update.

    `loss_fn` defaults to objective(model); pass a compiled one (chainrule.jit) to go faster.
    `start` is the number of updates the model has had already (a checkpoint's "step"): it only numbers steps.
    """
    loss_fn = loss_fn or objective(model)
    optimizer = SGD(model.parameters(), lr=config.lr)
    targets = [float(label) for label in dataset.labels]
    for step in range(start, start + config.steps + 1):
        loss = loss_fn(dataset.points, targets)
        yield step, loss.data
        if step == start + config.steps:
            return
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def prediction_lines(model: MLP) -> list[str]:
    lines = []
    for x, label in zip(CORNERS.points, CORNERS.labels):
        score = one(model(x)).data
        predicted, wanted = int(score > 0), int(label > 0)
        verdict = "OK" if predicted == wanted else "WRONG"
        lines.append(f"[{x[0]:.0f},{x[1]:.0f}] -> {score:+.4f} class {predicted} (want {wanted}) {verdict}")
    return lines


def run(
    config: XorConfig,
    losses: list[float] | None = None,
    model: MLP | None = None,
    start: int = 0,
    backend: str = "engine",
    on_step: Callable[[int, float], None] | None = None,
) -> Iterator[str]:
    """The printed log line by line, as computed; every step's loss is appended to `losses`.

    `on_step(step, loss)`, if given, is called at every step before its update (the training page's
    recorder): it may read the model, and must not change it.

    Continues `model` from step `start` if given (a checkpoint), else trains a new one from config.seed.
    backend "engine" builds the graph Value by Value; "python" or "native" runs the loss through
    chainrule.jit with that backend: the same log, faster.
    """
    model = model if model is not None else build(config)
    loss_fn: Trainable | None = None
    if backend != "engine":
        # jit of a function that returns one Value returns a JitResult per call: a Root, as train needs
        loss_fn = cast(Trainable, compiler.jit(objective(model), backend=backend))
    for step, loss in train(config, model, CORNERS, loss_fn, start):
        if losses is not None:
            losses.append(loss)
        if on_step is not None:
            on_step(step, loss)
        if step % config.every == 0 or step in (start, start + config.steps):
            yield f"step {step} loss {loss:.6f}"
    yield "Final predictions:"
    yield from prediction_lines(model)


def continue_from(saved: Checkpoint, source: str) -> int:
    """The step an XOR run continued from `saved` (read from `source`) starts at.

    ContinuationError unless it holds an MLP(2, [hidden, 1]) of tanh and a valid step count.
    """
    model = saved.model
    xor_shaped = model.nin == 2 and len(model.nouts) == 2 and model.nouts[1] == 1
    if not xor_shaped or model.activation != "tanh" or model.output_activation != "tanh":
        raise ContinuationError(f"{source} holds {model!r}, not an XOR network {network('hidden')} of tanh")
    return saved_step(saved, source)


def checkpoint_info(step: int) -> dict[str, object]:
    """What a checkpoint of an XOR run keeps beside the model: the step count."""
    return {"command": "xor", "step": step}
