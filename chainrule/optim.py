"""Optimizers: turn each parameter's .grad into a step on its .data (PyTorch's update rules)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from chainrule.engine import Value


def _positive(name: str, value: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


class Optimizer:
    """Holds the parameters to update; `lr` may be changed between steps (a schedule)."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimizer was given no parameters (an empty list)")
        for p in self.params:
            if not isinstance(p, Value):
                raise TypeError(f"parameters must be Values, got {type(p).__name__}")
        self.lr = _positive("lr", lr)

    def zero_grad(self) -> None:
        # Zeroing: gradients accumulate across backward() calls by design; reset them each step.
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """v ← μ·v + g;  p ← p - lr·v  (plain gradient descent when momentum μ = 0)."""

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = momentum
        self.velocity = [0.0] * len(self.params)

    def step(self) -> None:
        if not self.momentum:
            for p in self.params:
                p.data -= self.lr * p.grad
            return
        for i, p in enumerate(self.params):
            self.velocity[i] = self.momentum * self.velocity[i] + p.grad
            p.data -= self.lr * self.velocity[i]


class Adam(Optimizer):
    """m ← β1·m + (1-β1)·g;  v ← β2·v + (1-β2)·g²;  p ← p - lr·m̂ / (√v̂ + ε), m̂ and v̂ bias-corrected."""

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = _positive("eps", eps)
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.t = 0

    def step(self) -> None:
        beta1, beta2 = self.betas
        self.t += 1
        correction1 = 1 - beta1**self.t
        root_correction2 = math.sqrt(1 - beta2**self.t)
        step_size = self.lr / correction1
        for i, p in enumerate(self.params):
            g = p.grad
            self.m[i] = beta1 * self.m[i] + (1 - beta1) * g
            self.v[i] = beta2 * self.v[i] + (1 - beta2) * g * g
            # bias correction as PyTorch applies it: lr/(1-β1^t) on m, √(1-β2^t) on √v, then + ε
            denominator = math.sqrt(self.v[i]) / root_correction2 + self.eps
            p.data -= step_size * self.m[i] / denominator
