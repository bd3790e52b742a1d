"""Peak memory per node of a long chain, forward (the graph held) and backward (plus the walk's lists).

    python benchmarks/memory.py [--nodes N]

Measured with tracemalloc, which counts every Python allocation: the Value, its parents tuple, its
closure and the closure's cells. Tracing slows the run (about 2×); the byte counts are exact.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

import report

from chainrule import Value


def chain(n: int) -> tuple[Value, Value, Value]:
    start, step = Value(0.5), Value(1e-3)
    y = start
    for _ in range(n):
        y = y + step
    return y, start, step


def measure(n: int) -> tuple[float, float]:
    """(bytes per node holding the graph, peak bytes per node during backward())."""
    gc.collect()
    tracemalloc.start()
    y, start, step = chain(n)
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    y.backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert step.grad == n and start.grad == 1.0  # the figure is for a backward pass that was right
    return held / n, peak / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000, help="length of the chain")
    report.add_option(parser, "memory")
    args = parser.parse_args()
    with report.markdown(args.markdown):
        held, peak = measure(args.nodes)
        print(f"chain of {args.nodes:,} nodes (y = y + step):")
        print(f"- graph held after forward: {held:.0f} bytes per node")
        print(f"- peak during backward() (graph + walk): {peak:.0f} bytes per node")


if __name__ == "__main__":
    main()
