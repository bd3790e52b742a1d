"""What jit's guards cost: a guarded call, a new path's trace, and the fall-back to the engine.

    python benchmarks/control_flow.py [--repeats R]

Each row is the median of R calls (µs), side by side in one run: the engine, jit with the branch as an
`if` (a guard checked at every call), and jit with the branch as `where` (no guard); Heron's square root
(a `while` on a comparison: one guard per iteration); the first call of a new path (its trace and
compile); and a bouncing ball whose bounce moves with every call, past max_paths, on the engine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

from chainrule import Value, jit, where
from chainrule.compiler import JitFallbackWarning


def huber_if(x):
    if abs(x) <= 1.0:
        return 0.5 * x * x
    return abs(x) - 0.5


def huber_where(x):
    return where(abs(x) <= 1.0, 0.5 * x * x, abs(x) - 0.5)


def heron(x):
    y = x
    while abs(y * y - x) > 1e-12 * x:
        y = (y + x / y) / 2
    return y


def ball(height):
    y, v = height, 0.0 * height
    for _ in range(60):
        v = v - 9.81 * 0.05
        y = y + v * 0.05
        if y < 0:
            y, v = -y * 0.8, -v * 0.8
    return y


def microseconds(call, arguments, repeats: int) -> float:
    times = []
    for args in arguments * repeats:
        start = time.perf_counter()
        call(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def eager(fn):
    return lambda x: fn(Value(x))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=2001, help="calls timed of each (the median is printed)"
    )
    repeats = parser.parse_args().repeats
    print("| program | engine µs | jit µs | jit, second path µs |")
    print("| --- | ---: | ---: | ---: |")
    for name, fn, same, other in (
        ("Huber, `if` (1 guard)", huber_if, [(0.5,)], [(3.0,)]),
        ("Huber, `where` (0 guards)", huber_where, [(0.5,)], [(3.0,)]),
        ("Heron at 2 (`while`: 7 guards)", heron, [(2.0,)], [(1e6,)]),
    ):
        compiled = jit(fn)
        compiled(*same[0])
        compiled(*other[0])
        mixed = [same[0], other[0]]
        compiled(*same[0])  # its path is the latest
        row = [microseconds(eager(fn), same, repeats), microseconds(compiled, same, repeats)]
        row.append(microseconds(compiled, mixed, repeats))
        print(f"| {name} | {row[0]:.1f} | {row[1]:.1f} | {row[2]:.1f} (alternating) |")
    traces = []
    for k in range(21):  # a new path each time: Huber's other side, on a fresh jit
        compiled = jit(huber_if)
        compiled(0.5)
        start = time.perf_counter()
        compiled(3.0 + k)
        traces.append((time.perf_counter() - start) * 1e6)
    print(
        f"\nA new path's first call (Huber: trace, two programs generated and compiled): "
        f"{statistics.median(traces):.0f} µs"
    )
    heights = [[(1.0 + 0.013 * k,)] for k in range(200)]
    compiled = jit(ball)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JitFallbackWarning)
        start = time.perf_counter()
        for args in heights[:9]:
            compiled(*args[0])
        first = (time.perf_counter() - start) * 1e6
        fallen = microseconds(compiled, [h[0] for h in heights[9:]], max(1, repeats // 200))
    engine_ball = microseconds(eager(ball), [h[0] for h in heights[9:]], max(1, repeats // 200))
    print(
        f"Bouncing ball, its path another at every call: the first 9 calls (8 traced paths, then the "
        f"fall-back) {first / 1e3:.1f} ms in all; then {fallen:.0f} µs a call on the fall-back against "
        f"{engine_ball:.0f} µs for the engine itself"
    )


if __name__ == "__main__":
    main()
