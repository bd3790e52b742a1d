"""Checking the engine's gradients against central differences, as torch.autograd.gradcheck does."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from chainrule.derivatives.gradients import value_and_grad
from chainrule.engine import Value
from chainrule.grad_mode import no_grad


class GradcheckError(AssertionError):
    """The engine's gradient and the numerical one disagree beyond the tolerance."""


def numerical_gradient(f: Callable[..., Value], inputs: Sequence[float], eps: float = 1e-6) -> list[float]:
    """∂f/∂xᵢ ≈ (f(x + ε·eᵢ) - f(x - ε·eᵢ)) / 2ε for each input: an error of order ε², no engine involved."""
    point = [Value(x).data for x in inputs]  # Value refuses what is not a number (str, bool, None)
    slopes = []
    with no_grad():  # forward values only: no graph to keep
        for i, x in enumerate(point):
            above = f(*[Value(x + eps) if j == i else Value(v) for j, v in enumerate(point)]).data
            below = f(*[Value(x - eps) if j == i else Value(v) for j, v in enumerate(point)]).data
            slopes.append((above - below) / (2 * eps))
    return slopes


def engine_gradient(f: Callable[..., Value], inputs: Sequence[float]) -> list[float]:
    """∂f/∂xᵢ by one backward pass of the engine (value_and_grad over every input)."""
    if not inputs:
        return []
    gradient = value_and_grad(f, argnums=tuple(range(len(inputs))))(*inputs)[1]
    slopes = gradient if isinstance(gradient, tuple) else (gradient,)
    return [slope.data if isinstance(slope, Value) else slope for slope in slopes]  # floats: numbers in


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """True if every |engine - numerical| <= atol + rtol·|numerical|, else GradcheckError naming the worst."""
    analytic = engine_gradient(f, inputs)
    numeric = numerical_gradient(f, inputs, eps)
    worst, worst_excess = None, 0.0
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        excess = abs(a - n) - (atol + rtol * abs(n))
        if not excess <= 0 and (worst is None or not excess <= worst_excess):
            worst, worst_excess = i, excess
    if worst is not None:
        raise GradcheckError(
            f"gradient mismatch at input {worst} (x = {Value(inputs[worst]).data!r}): "
            f"engine {analytic[worst]!r}, central differences {numeric[worst]!r} "
            f"(tolerance atol={atol}, rtol={rtol})"
        )
    return True
