"""Second order, fuzzed: the Hessians of random expression graphs over every op (test_fuzz_gradients.py's
programs: shared subexpressions, nodes used several times, every op kept inside its domain) against
central differences of the engine's gradient, and against torch.func.hessian in float64.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from test_fuzz_gradients import programs

import chainrule

EPS = 1e-6  # as the first-order fuzzer's: x ± ε keeps every node on its side of every edge and kink


def _central_hessian(program) -> list[list[float]]:
    """H[i][j] ≈ (∂ᵢf(x + ε·eⱼ) - ∂ᵢf(x - ε·eⱼ)) / 2ε: the engine's float gradient, moved along each input."""
    gradient = chainrule.grad(program, tuple(range(len(program.inputs))))
    columns = []
    for j in range(len(program.inputs)):
        above = gradient(*[x + EPS if k == j else x for k, x in enumerate(program.inputs)])
        below = gradient(*[x - EPS if k == j else x for k, x in enumerate(program.inputs)])
        columns.append([(u - v) / (2 * EPS) for u, v in zip(above, below)])
    return [list(row) for row in zip(*columns)]  # row i, column j


def _flat(matrix):
    return [h for row in matrix for h in row]


@given(programs())
def test_random_graph_hessians_match_central_differences_of_the_gradient(program):
    hessian = chainrule.hessian(program)(*program.inputs)
    numeric = _central_hessian(program)
    scale = 1 + max(map(abs, _flat(numeric)))
    assert _flat(hessian) == pytest.approx(_flat(numeric), rel=1e-4, abs=1e-5 * scale)
    for i, row in enumerate(hessian):  # ∂²f/∂xᵢ∂xⱼ = ∂²f/∂xⱼ∂xᵢ, up to the sums' rounding
        for j, h in enumerate(row):
            assert h == pytest.approx(hessian[j][i], rel=1e-9, abs=1e-9 * scale)


@given(program=programs())
def test_random_graph_hessians_match_pytorch(torch, program):
    args = tuple(torch.tensor(x) for x in program.inputs)
    expected = torch.func.hessian(program, argnums=tuple(range(len(args))))(*args)
    hessian = chainrule.hessian(program)(*program.inputs)
    flat = [float(h) for row in expected for h in row]
    scale = 1 + max(map(abs, flat))
    n = len(args)
    # torch's pow gives the base no gradient where the exponent is exactly 0 (a masked where), so its
    # mixed partial of a ** b at b = 0 is 0 one way and a^(b-1)(1 + b ln a) the other: not a Hessian to
    # compare with (ours is held to central differences above, symmetric, there too)
    assume(all(abs(flat[i * n + j] - flat[j * n + i]) <= 1e-9 * scale for i in range(n) for j in range(n)))
    assert _flat(hessian) == pytest.approx(flat, rel=1e-9, abs=1e-9 * scale)
