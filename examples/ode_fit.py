"""An ODE's parameters fitted to data with scipy's L-BFGS-B: logistic growth, integrated by RK4.

dy/dt = r·y·(1 − y/K) from y(0) = 1, integrated with fixed Runge–Kutta steps; the loss is the sum of
squared differences from observations at t = 1, 2, ..., 10, and its gradient in (r, K) comes from
chainrule through every step. The observations are the closed-form solution y = K/(1 + (K − 1)·e^(−rt))
at r = 0.8, K = 50: the fit recovers them (the test checks), within bounds r in [0.01, 5], K in [1, 500].

Run: python examples/ode_fit.py (needs numpy and scipy: pip install "chainrule[scipy]")
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize

import chainrule

TRUE_RATE, TRUE_CAPACITY = 0.8, 50.0
TIMES = [float(t) for t in range(1, 11)]
STEPS_PER_UNIT = 20


def observed(t):
    return TRUE_CAPACITY / (1 + (TRUE_CAPACITY - 1) * math.exp(-TRUE_RATE * t))


def trajectory(rate, capacity):
    """y at each of TIMES, by RK4 steps of 1/STEPS_PER_UNIT from y(0) = 1."""

    def slope(y):
        return rate * y * (1 - y / capacity)

    y, h, values = 1.0 + 0.0 * rate, 1.0 / STEPS_PER_UNIT, []
    for _ in TIMES:
        for _ in range(STEPS_PER_UNIT):
            k1 = slope(y)
            k2 = slope(y + h / 2 * k1)
            k3 = slope(y + h / 2 * k2)
            k4 = slope(y + h * k3)
            y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        values.append(y)
    return values


def loss(parameters):
    rate, capacity = parameters
    return sum((y - observed(t)) ** 2 for y, t in zip(trajectory(rate, capacity), TIMES))


def fit(backend=None):
    """scipy's result; the objective compiled by chainrule.jit on `backend` ("python", "native"), or eager."""
    objective = chainrule.value_and_grad(loss)
    if backend is not None:
        objective = chainrule.jit(objective, backend=backend)
    start = np.array([0.3, 20.0])
    return minimize(objective, start, jac=True, method="L-BFGS-B", bounds=[(0.01, 5.0), (1.0, 500.0)])


def main() -> None:
    result = fit()
    print(
        f"r = {result.x[0]:.6f} (true {TRUE_RATE}), K = {result.x[1]:.4f} (true {TRUE_CAPACITY}), "
        f"loss {result.fun:.3e}, {result.nit} iterations"
    )


if __name__ == "__main__":
    main()
