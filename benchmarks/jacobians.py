"""jacobian (one backward pass per output) against jacfwd (one forward pass per input), both shapes.

A recurrence maps n inputs to m outputs, as a simulation does: the inputs are summed into a state
(about 6 nodes each), which then takes m steps (5 nodes each), every state an output. `jacobian` runs m
backward passes, the j-th over the graph behind state j; `jacfwd` runs n forward passes over the whole
graph: a wide function (n ≫ m) favours jacobian, a tall one (m ≫ n) jacfwd. Medians of interleaved runs.

    python benchmarks/jacobians.py                       # n x m = 200x1, 64x2, 16x16, 2x64, 1x200
    python benchmarks/jacobians.py --shapes 100x1 1x100 --repeat 3
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import report

import chainrule
import chainrule.math as cm


def mapping(outputs: int) -> Callable:
    """f: Rⁿ → Rᵐ, the states sⱼ₊₁ = sⱼ + 0.1·sin(sⱼ)·tanh(sⱼ) from s₀ = Σᵢ xᵢ·cos(xᵢ) + exp(−xᵢ²)."""

    def f(xs):
        state = 0.0
        for x in xs:
            state = state + x * cm.cos(x) + cm.exp(-x * x)
        states = []
        for _ in range(outputs):
            state = state + 0.1 * cm.sin(state) * cm.tanh(state)
            states.append(state)
        return states

    return f


def seconds(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--shapes",
        nargs="+",
        default=["200x1", "64x2", "16x16", "2x64", "1x200"],
        help="NxM: inputs x outputs",
    )
    parser.add_argument("--repeat", type=int, default=9, help="runs of each: the median")
    report.add_option(parser, "jacobians")
    args = parser.parse_args(argv)
    with report.markdown(args.markdown, argv):
        measure(args)
    return 0


def measure(args: argparse.Namespace) -> None:
    print(f"Python {sys.version.split()[0]}; {args.repeat} runs of each, interleaved")
    print()
    print(
        "| n inputs | m outputs | jacobian, m passes: ms | jacfwd, n passes: ms | jacfwd / jacobian | agree |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | --- |")
    for shape in args.shapes:
        n, m = (int(part) for part in shape.split("x"))
        f, point = mapping(m), [math.sin(1.3 * i) for i in range(n)]
        reverse, forward = chainrule.jacobian(f), chainrule.jacfwd(f)
        agree = all(
            math.isclose(a, b, rel_tol=1e-10, abs_tol=1e-12)
            for row_a, row_b in zip(reverse(point), forward(point))
            for a, b in zip(row_a, row_b)
        )
        back, ahead = [], []
        for _ in range(args.repeat):  # interleaved, so a busy moment of the machine falls on both
            back.append(seconds(lambda run=reverse, at=point: run(at)))
            ahead.append(seconds(lambda run=forward, at=point: run(at)))
        ratio = statistics.median(ahead) / statistics.median(back)
        print(
            f"| {n} | {m} | {statistics.median(back) * 1e3:.3g} | {statistics.median(ahead) * 1e3:.3g} "
            f"| {ratio:.3g} | {'yes' if agree else 'NO'} |"
        )


if __name__ == "__main__":
    sys.exit(main())
