"""Newton's method with chainrule.hessian against gradient descent, on Rosenbrock's banana valley.

f(x, y) = (1 - x)² + 100·(y - x²)² has its minimum f(1, 1) = 0 at the end of a long curved valley. From
the classic start (-1.2, 1), each method runs until the gradient is small: ‖∇f‖ < 1e-10 (Euclidean norm),
and the script prints how many iterations each needed.

  Newton:            p ← p - H(p)⁻¹ ∇f(p), H from chainrule.hessian (2×2, solved by Cramer's rule).
  gradient descent:  p ← p - lr·∇f(p) with a fixed lr = 0.001 (about the largest that is stable here:
                     the Hessian's largest eigenvalue is about 1500 at the start), ∇f compiled with
                     chainrule.jit(chainrule.grad(f)), since it needs tens of thousands of steps.

Run: python examples/newton_rosenbrock.py
"""

from __future__ import annotations

import math
import time

import chainrule

TOLERANCE = 1e-10  # stop when ‖∇f‖ < TOLERANCE
START = (-1.2, 1.0)
LEARNING_RATE = 1e-3
MAX_ITERATIONS = 1_000_000


def rosenbrock(x, y):
    """Rosenbrock's function: (1 - x)² + 100·(y - x²)²."""
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def newton(gradient, hessian, point):
    """Newton's iterations from point until ‖∇f‖ < TOLERANCE: (iterations, the point)."""
    x, y = point
    for iteration in range(MAX_ITERATIONS + 1):
        gx, gy = gradient(x, y)
        if math.hypot(gx, gy) < TOLERANCE:
            return iteration, (x, y)
        (hxx, hxy), (hyx, hyy) = hessian(x, y)
        determinant = hxx * hyy - hxy * hyx
        x, y = x - (hyy * gx - hxy * gy) / determinant, y - (hxx * gy - hyx * gx) / determinant
    return None, (x, y)


def gradient_descent(gradient, point):
    """Gradient descent with a fixed learning rate until ‖∇f‖ < TOLERANCE: (iterations, the point)."""
    x, y = point
    for iteration in range(MAX_ITERATIONS + 1):
        gx, gy = gradient(x, y)
        if math.hypot(gx, gy) < TOLERANCE:
            return iteration, (x, y)
        x, y = x - LEARNING_RATE * gx, y - LEARNING_RATE * gy
    return None, (x, y)


def report(name, iterations, point, seconds):
    f = chainrule.value_and_grad(rosenbrock)(*point)[0]
    done = f"{iterations} iterations" if iterations is not None else f"not converged in {MAX_ITERATIONS}"
    print(f"{name}: {done}, (x, y) = ({point[0]:.12f}, {point[1]:.12f}), f = {f:.3g}, {seconds:.2f} s")


def main():
    print("Rosenbrock f(x, y) = (1 - x)² + 100·(y - x²)², minimum f(1, 1) = 0")
    print(f"from (x, y) = {START}, until ‖∇f‖ < {TOLERANCE:g}")
    gradient = chainrule.grad(rosenbrock, (0, 1))
    start = time.perf_counter()
    iterations, point = newton(gradient, chainrule.hessian(rosenbrock), START)
    report("newton", iterations, point, time.perf_counter() - start)
    start = time.perf_counter()
    iterations, point = gradient_descent(chainrule.jit(gradient), START)
    report(f"gradient descent (lr {LEARNING_RATE:g})", iterations, point, time.perf_counter() - start)


if __name__ == "__main__":
    main()
