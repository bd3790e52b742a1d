"""What the Train tab runs, in your browser, on chainrule's own wheel: a network, its data, its loop.

The loss and the loop are chainrule's demos, printed below this file: XOR as the reference run trains it,
moons as micrograd's demo does. Every number the pictures show comes from here.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from chainrule import MLP, jit
from chainrule.demos import data, moons, xor
from chainrule.demos.objective import one


@dataclass(frozen=True)
class Settings:
    problem: str  # "xor" or "moons"
    hidden: tuple[int, ...]  # the hidden layers' sizes: (4,) is MLP(2, [4, 1])
    lr: float  # moons: where the learning rate starts; it falls to a tenth of it over the run
    steps: int
    seed: int
    compiled: bool  # chainrule.jit: the same numbers, many times faster


def train(settings: Settings, model: MLP, points: data.Dataset) -> Iterator[tuple[int, float, float]]:
    """Yield (step, loss, accuracy) before each update, and once more after the last one for XOR."""
    score = scorer(settings, model)
    if settings.problem == "xor":
        config = xor.XorConfig(seed=settings.seed, steps=settings.steps, lr=settings.lr)
        loss = jit(xor.objective(model)) if settings.compiled else xor.objective(model)
        for step, value in xor.train(config, model, points, loss):
            yield step, value, moons.accuracy(model, points, score)
    else:
        config = moons.MoonsConfig(
            seed=settings.seed, steps=settings.steps, lr_start=settings.lr, lr_end=settings.lr / 10
        )
        loss = jit(moons.objective(model, config.alpha)) if settings.compiled else None
        for progress in moons.train(config, model, points, loss, 0, score):
            yield progress.step, progress.loss, progress.accuracy


def dataset(settings: Settings) -> data.Dataset:
    return xor.CORNERS if settings.problem == "xor" else data.moons(100, 0.1, settings.seed)


def network(settings: Settings) -> MLP:
    """XOR: tanh throughout, as the reference run; moons: ReLU and a linear output, as micrograd's demo."""
    rng = random.Random(settings.seed)
    if settings.problem == "xor":
        return MLP(2, [*settings.hidden, 1], rng=rng)
    return MLP(2, [*settings.hidden, 1], activation="relu", output_activation="linear", rng=rng)


def scorer(settings: Settings, model: MLP) -> moons.Scorer:
    """The network's score of one point: its sign is the class. Compiled, it reads the current weights."""
    score = lambda point: one(model(point))  # noqa: E731
    return jit(score) if settings.compiled else score
