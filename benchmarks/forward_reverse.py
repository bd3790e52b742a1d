"""Forward mode against reverse mode: all n partial derivatives of one function of n inputs.

Reverse mode (`value_and_grad`) gets every ∂f/∂xᵢ from one forward pass and one backward walk. Forward
mode (`jvp`) gets one directional derivative per pass, so all n partials take n passes, one per unit
direction. The function is the same for every n: a chain that mixes every input with its neighbours
through every kind of op, about 9 nodes per input.

    python benchmarks/forward_reverse.py                 # n = 1, 2, 4, ..., 64; 15 runs each
    python benchmarks/forward_reverse.py --sizes 1 10 100 --repeat 3
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import report

from chainrule import Value, jvp, value_and_grad
from chainrule.runtime import collector


def f(*xs: Value) -> Value:
    """Σᵢ sin(xᵢ)·xᵢ₊₁ + tanh(xᵢ / 2) · exp(-xᵢ²): every input feeds several terms."""
    total: Value | float = 0.0
    for i, x in enumerate(xs):
        neighbour = xs[(i + 1) % len(xs)]
        total = total + x.sin() * neighbour + (x / 2).tanh() * (-(x * x)).exp()
    assert isinstance(total, Value)
    return total


def reverse(point: Sequence[float]) -> list[float]:
    """Every ∂f/∂xᵢ from one reverse pass."""
    gradient = value_and_grad(f, argnums=tuple(range(len(point))))(*point)[1]
    return list(gradient) if isinstance(gradient, tuple) else [gradient]


def forward(point: Sequence[float]) -> list[float]:
    """Every ∂f/∂xᵢ from n forward passes, one per unit direction."""
    n = len(point)
    return [jvp(f, tuple(point), tuple(float(i == j) for j in range(n)))[1] for i in range(n)]


def seconds(run: Callable[[], object], repeat: int) -> list[float]:
    """Wall times of run(), with the cyclic collector paused (the graphs are acyclic)."""
    times = []
    for _ in range(repeat):
        with collector.paused():
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64], help="values of n")
    parser.add_argument("--repeat", type=int, default=15, help="runs of each: the median and the minimum")
    report.add_option(parser, "forward_reverse")
    args = parser.parse_args(argv)
    with report.markdown(args.markdown, argv):
        measure(args)
    return 0


def measure(args: argparse.Namespace) -> None:
    print(f"Python {sys.version.split()[0]}; {args.repeat} runs of each, interleaved; ~9 nodes per input")
    print()
    print("| n | reverse, 1 pass: ms | forward, n passes: ms | forward / reverse | ÷ n | agree |")
    print("| ---: | ---: | ---: | ---: | ---: | --- |")
    for n in args.sizes:
        point = [math.sin(1.7 * i) + 0.5 for i in range(n)]
        agree = all(
            math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-14) for a, b in zip(reverse(point), forward(point))
        )
        back: list[float] = []
        ahead: list[float] = []
        for _ in range(args.repeat):  # interleaved, so a busy moment of the machine falls on both
            back += seconds(lambda p=point: reverse(p), 1)
            ahead += seconds(lambda p=point: forward(p), 1)
        ratio = statistics.median(ahead) / statistics.median(back)
        cells = [f"{statistics.median(t) * 1e3:.3g} ({min(t) * 1e3:.3g})" for t in (back, ahead)]
        verdict = "yes" if agree else "NO"
        print(f"| {n} | {cells[0]} | {cells[1]} | {ratio:.3g} | {ratio / n:.2g} | {verdict} |")


if __name__ == "__main__":
    sys.exit(main())
