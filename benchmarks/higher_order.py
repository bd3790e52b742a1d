"""jit(grad(f)) against grad(f) on a function of a few thousand nodes: the JAX idiom, timed.

    python benchmarks/higher_order.py [--terms N] [--repeats R]

f takes 10 numbers and sums N terms (each a product, a tanh, a sigmoid, an exp and a log of two of its
inputs: about 10 nodes a term); grad(f, every argument) builds that graph and runs the engine's backward
at every call, jit(grad(f)) traces once (grad's gradient is then a graph of Values, compiled with f's own
graph into one straight-line function) and runs generated code. Both give the same floats, to the bit
(checked below). Printed: the median seconds of R calls of each, and their ratio.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

import report

import chainrule

INPUTS = 10


def make(terms: int):
    def f(*xs):
        total = xs[0] * 0.0
        for i in range(terms):
            a, b = xs[i % INPUTS], xs[(3 * i + 1) % INPUTS]
            total = (
                total + (a * b).tanh() * (a - 0.1 * i / terms).sigmoid() + (b * b + 1).log() / (a.exp() + 1)
            )
        return total

    return f


def median_seconds(call, args, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=int, default=300, help="terms of the sum (about 10 nodes each)")
    parser.add_argument("--repeats", type=int, default=21, help="calls timed of each (the median is printed)")
    report.add_option(parser, "higher_order")
    options = parser.parse_args()
    with report.markdown(options.markdown):
        measure(options)


def measure(options: argparse.Namespace) -> None:
    f = make(options.terms)
    everything = tuple(range(INPUTS))
    args = [0.05 * k - 0.2 for k in range(INPUTS)]
    nodes = len(chainrule.engine.topological_order(f(*map(chainrule.Value, args))))
    engine = chainrule.grad(f, everything)
    start = time.perf_counter()
    compiled = chainrule.jit(chainrule.grad(f, everything))
    assert compiled(*args) == engine(*args)  # the first call traces and compiles
    first = time.perf_counter() - start
    other = [x + 0.01 for x in args]
    assert compiled(*other) == engine(*other)  # generated code, at a point it was not traced at
    gc.collect()
    gc.freeze()  # what is alive now (torch, if loaded; the traces) is not walked again by the collector
    seconds_engine = median_seconds(engine, args, options.repeats)
    seconds_jit = median_seconds(compiled, args, options.repeats)
    print(f"f: {INPUTS} inputs, {options.terms} terms, {nodes} nodes; ∇f by every input")
    print(
        f"median of {options.repeats} calls each, after gc.collect() and gc.freeze() (as benchmarks/run.py)"
    )
    print("| contender | ms a call |")
    print("| --- | ---: |")
    print(f"| grad(f) | {seconds_engine * 1e3:.3f} |")
    print(f"| jit(grad(f)) | {seconds_jit * 1e3:.3f} |")
    print(f"jit(grad(f)) first call (trace, generate, compile): {first * 1e3:.0f} ms")
    print(f"ratio grad(f) / jit(grad(f)): {seconds_engine / seconds_jit:.1f}")


if __name__ == "__main__":
    main()
