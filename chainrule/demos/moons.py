"""micrograd's demo: a ReLU network separates two moons with hinge loss and SGD on a decaying schedule."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from chainrule.demos import data
from chainrule.demos.continuation import ContinuationError, saved_step
from chainrule.demos.objective import Objective, Root, Trainable, one
from chainrule.engine import Value
from chainrule.grad_mode import no_grad
from chainrule.losses import hinge
from chainrule.nn import MLP
from chainrule.optim import SGD
from chainrule.runtime import collector
from chainrule.storage.checkpoint import Checkpoint

ARCHITECTURE: dict[str, Any] = {
    "nin": 2,
    "nouts": [16, 16, 1],
    "activation": "relu",
    "output_activation": "linear",
}
NETWORK = f"MLP({ARCHITECTURE['nin']}, {ARCHITECTURE['nouts']})"
RUN = (
    "seed",
    "n",
    "noise",
    "decay_steps",
)  # the settings a checkpoint keeps, so a continued run is the same run
Scorer = Callable[[Sequence[float]], Root]


@dataclass(frozen=True)
class MoonsConfig:
    seed: int = 1337
    n: int = 100
    noise: float = 0.1
    steps: int = 100
    lr_start: float = 1.0
    lr_end: float = 0.1
    decay_steps: int | None = None  # lr falls from lr_start to lr_end over these steps (None: `steps`)
    alpha: float = 1e-4  # weight of the L2 penalty: alpha · Σ p²

    def __post_init__(self) -> None:
        def whole(value: object) -> bool:
            return isinstance(value, int) and not isinstance(value, bool)

        if not whole(self.seed):
            raise ValueError(f"seed must be a whole number, got {self.seed!r}")
        if not whole(self.steps) or self.steps < 0:
            raise ValueError(f"steps must be a whole number >= 0, got {self.steps!r}")
        if self.decay_steps is not None and (not whole(self.decay_steps) or self.decay_steps < 1):
            raise ValueError(f"decay_steps must be a whole number >= 1 (or None), got {self.decay_steps!r}")


@dataclass(frozen=True)
class Progress:
    step: int
    loss: float
    accuracy: float
    lr: float


def dataset(config: MoonsConfig) -> data.Dataset:
    """The two moons of config.n points, from config.seed."""
    return data.moons(config.n, config.noise, config.seed)


def build(config: MoonsConfig) -> tuple[MLP, data.Dataset]:
    """The network (ReLU hidden layers, linear output) and the data, both from config.seed."""
    return MLP(**ARCHITECTURE, rng=random.Random(config.seed)), dataset(config)


def objective(model: MLP, alpha: float) -> Objective:
    """loss(points, labels) = mean hinge loss + alpha · Σ p² over the parameters: one Value."""

    def loss(points: Sequence[Sequence[float]], labels: Sequence[float]) -> Value:
        scores = [one(model(point)) for point in points]
        penalty = sum((p * p for p in model.parameters()), Value(0.0))
        return hinge(scores, labels) + alpha * penalty

    return loss


def accuracy(model: MLP, dataset: data.Dataset, score_fn: Scorer | None = None) -> float:
    """The fraction of points on the right side of the decision boundary (score sign = label sign).

    `score_fn` defaults to the model; a compiled one (chainrule.jit of it) gives the same scores faster.
    """
    score = score_fn or (lambda point: one(model(point)))
    with no_grad():
        right = sum((score(p).data > 0) == (label > 0) for p, label in zip(dataset.points, dataset.labels))
    return right / len(dataset)


def learning_rate(config: MoonsConfig, step: int) -> float:
    """lr_start - (lr_start - lr_end)·step/decay_steps, held at lr_end after: micrograd's demo schedule.

    It depends on the step number alone, not on how many steps this run makes, so a run continued
    from a checkpoint follows the same schedule as one made straight through.
    """
    horizon = config.decay_steps or config.steps
    progress = min(step, horizon) / horizon
    return config.lr_start - (config.lr_start - config.lr_end) * progress


def train(
    config: MoonsConfig,
    model: MLP,
    dataset: data.Dataset,
    loss_fn: Trainable | None = None,
    start: int = 0,
    score_fn: Scorer | None = None,
) -> Iterator[Progress]:
    """Run config.steps SGD steps numbered from `start`; yield the loss before each update and its accuracy.

    `loss_fn` defaults to objective(model, config.alpha); pass a compiled one (chainrule.jit) to go faster.
    `start` is the number of updates the model has had already (a checkpoint's step count).
    `score_fn` is passed to accuracy().
    """
    loss_fn = loss_fn or objective(model, config.alpha)
    optimizer = SGD(model.parameters(), lr=config.lr_start)
    labels = [float(label) for label in dataset.labels]
    for step in range(start, start + config.steps):
        with collector.paused():  # why: chainrule/runtime/collector.py
            loss = loss_fn(dataset.points, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.lr = learning_rate(config, step)
            progress = Progress(step, loss.data, accuracy(model, dataset, score_fn), optimizer.lr)
            del loss  # freed now, by reference counting, while the collector is still paused
        yield progress
        optimizer.step()


def heading(config: MoonsConfig, start: int) -> str:
    """The first line of the log: the data, the network, which steps, the schedule."""
    end = start + config.steps
    steps = f"steps {start} to {end - 1} of SGD" if config.steps else "no SGD steps"
    return (
        f"moons: {config.n} points (noise {config.noise:g}, seed {config.seed}), {NETWORK}, "
        f"{steps}, lr {config.lr_start:g} → {config.lr_end:g} over {config.decay_steps} steps"
    )


def progress_line(item: Progress, width: int) -> str:
    """One step of the log, its step number right-aligned to `width`."""
    return f"step {item.step:>{width}}  loss {item.loss:.6f}  accuracy {item.accuracy:6.1%}  lr {item.lr:.3f}"


def result_line(model: MLP, dataset: data.Dataset, end: int, score_fn: Scorer | None = None) -> str:
    """The last line of the log: the accuracy after `end` updates, as a share and a count."""
    final = accuracy(model, dataset, score_fn)
    return (
        f"after {end} step{'' if end == 1 else 's'}: accuracy {final:.1%} "
        f"({round(final * len(dataset))} of {len(dataset)} points)"
    )


def continue_from(saved: Checkpoint, source: str) -> int:
    """The step a moons run continued from `saved` (read from `source`) starts at.

    ContinuationError unless it holds this demo's network and the run settings `moons --save` keeps.
    """
    model, info = saved.model, saved.info
    if any(getattr(model, name) != value for name, value in ARCHITECTURE.items()):
        raise ContinuationError(
            f"{source} holds {model!r}, not the moons network {NETWORK} of {ARCHITECTURE['activation']} "
            f"with a {ARCHITECTURE['output_activation']} output"
        )
    missing = [key for key in ("step", *RUN) if key not in info]
    if info.get("command") != "moons" or missing:
        raise ContinuationError(
            f"{source} was not saved by `chainrule moons --save` "
            f"(its info lacks {', '.join(missing) or 'command: moons'})"
        )
    try:
        dataset(saved_config(saved, steps=0))
    except (TypeError, ValueError) as error:
        raise ContinuationError(f"{source}: its run settings are not valid: {error}") from None
    return saved_step(saved, source)


def saved_config(saved: Checkpoint, steps: int) -> MoonsConfig:
    """The run a checkpoint was saved from, to go on for `steps` more steps."""
    return MoonsConfig(steps=steps, **{key: saved.info[key] for key in RUN})


def checkpoint_info(config: MoonsConfig, step: int) -> dict[str, object]:
    """What a checkpoint of a moons run keeps beside the model: the step count and the run's settings."""
    return {"command": "moons", "step": step, **{key: getattr(config, key) for key in RUN}}
