"""Small 2-D classification sets in pure Python: points and labels in {-1, +1}, reproducible by seed."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    points: list[list[float]]
    labels: list[int]  # -1 or +1, the targets of a tanh or hinge-loss classifier

    def __len__(self) -> int:
        return len(self.points)


def _check(n: int, noise: float, minimum: int = 2) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < minimum:
        raise ValueError(f"n must be a whole number of points, at least {minimum}; got {n!r}")
    if not (isinstance(noise, int | float) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")


def _jitter(rng: random.Random, x: float, y: float, noise: float) -> list[float]:
    return [x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)] if noise else [x, y]


def moons(n: int = 100, noise: float = 0.1, seed: int = 1337) -> Dataset:
    """Two interleaving half circles (as in scikit-learn's make_moons): the upper one -1, the lower +1."""
    _check(n, noise)
    rng = random.Random(seed)
    upper, lower = n - n // 2, n // 2
    points, labels = [], []
    for i in range(upper):
        angle = math.pi * i / max(upper - 1, 1)
        points.append(_jitter(rng, math.cos(angle), math.sin(angle), noise))
        labels.append(-1)
    for i in range(lower):
        angle = math.pi * i / max(lower - 1, 1)
        points.append(_jitter(rng, 1 - math.cos(angle), 0.5 - math.sin(angle), noise))
        labels.append(1)
    return Dataset(points, labels)


def circles(n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int = 1337) -> Dataset:
    """A circle of radius 1 (label -1) around one of radius `factor` (label +1)."""
    _check(n, noise)
    if not 0 < factor < 1:
        raise ValueError(f"factor must be between 0 and 1 (the inner radius), got {factor!r}")
    rng = random.Random(seed)
    outer, inner = n - n // 2, n // 2
    points, labels = [], []
    for count, radius, label in ((outer, 1.0, -1), (inner, factor, 1)):
        for i in range(count):
            angle = 2 * math.pi * i / count
            points.append(_jitter(rng, radius * math.cos(angle), radius * math.sin(angle), noise))
            labels.append(label)
    return Dataset(points, labels)


def spiral(n: int = 100, noise: float = 0.1, turns: float = 1.5, seed: int = 1337) -> Dataset:
    """Two interleaved arms of a spiral (label -1 and +1), each `turns` revolutions long."""
    _check(n, noise)
    rng = random.Random(seed)
    first, second = n - n // 2, n // 2
    points, labels = [], []
    for count, offset, label in ((first, 0.0, -1), (second, math.pi, 1)):
        for i in range(count):
            t = (i + 1) / count
            angle = 2 * math.pi * turns * t + offset
            points.append(_jitter(rng, t * math.cos(angle), t * math.sin(angle), noise))
            labels.append(label)
    return Dataset(points, labels)


def xor(n: int = 4, noise: float = 0.0, seed: int = 1337) -> Dataset:
    """The four XOR corners (label +1 where exactly one coordinate is 1), repeated to n points with noise."""
    _check(n, noise, minimum=1)
    rng = random.Random(seed)
    corners = [(0.0, 0.0, -1), (0.0, 1.0, 1), (1.0, 0.0, 1), (1.0, 1.0, -1)]
    points, labels = [], []
    for i in range(n):
        x, y, label = corners[i % 4]
        points.append(_jitter(rng, x, y, noise))
        labels.append(label)
    return Dataset(points, labels)
