"""A logistic regression fitted with scipy's BFGS, its loss and gradient by chainrule, from numpy arrays.

The loss is the mean of log(1 + e^(−yᵢ·xᵢ·w)) over labelled points (yᵢ = ±1) plus an L2 term
λ/2·‖w‖², written for an array w as one writes it with numpy; value_and_grad(loss) is what
scipy.optimize.minimize(..., jac=True) takes. Its gradient has the closed form
−mean(yᵢ·xᵢ·σ(−yᵢ·xᵢ·w)) + λ·w (the test checks it, and that it vanishes at the fit).

Run: python examples/logistic_regression.py (needs numpy and scipy: pip install "chainrule[scipy]")
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

import chainrule
import chainrule.math as cm

PENALTY = 0.01


def points(n=80, seed=0):
    """n labelled points in the plane with a bias column: (X of shape (n, 3), labels ±1)."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, 2))
    labels = np.where(features @ np.array([1.5, -2.0]) + 0.3 + rng.normal(scale=0.5, size=n) > 0, 1.0, -1.0)
    return np.hstack([features, np.ones((n, 1))]), labels


def loss(w, features, labels):
    margins = labels * (features @ w)
    return sum(cm.log1p(cm.exp(-m)) for m in margins) / len(labels) + PENALTY / 2 * (w @ w)


def closed_form_gradient(w, features, labels):
    margins = labels * (features @ w)
    return -(labels / (1 + np.exp(margins))) @ features / len(labels) + PENALTY * w


def fit(backend=None):
    """scipy's result; the objective compiled by chainrule.jit on `backend` ("python", "native"), or eager."""
    features, labels = points()
    objective = chainrule.value_and_grad(loss)
    if backend is not None:
        objective = chainrule.jit(objective, backend=backend)
    return minimize(objective, np.zeros(3), args=(features, labels), jac=True, method="BFGS")


def main() -> None:
    result = fit()
    print(f"w = {result.x}, loss {result.fun:.6f}, {result.nit} iterations, gradient {result.jac}")


if __name__ == "__main__":
    main()
