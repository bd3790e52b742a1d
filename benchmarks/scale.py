"""Scale: the damped oscillator of scalar_programs.py grown from 500 to 50,000 steps (issue 17's rows).

    python benchmarks/scale.py            # T = 500, 5,000, 50,000: a few minutes
    python benchmarks/scale.py --quick    # T = 500, 5,000, fewer repeats: under a minute

Each row is a ratio of two times measured side by side in this run (medians of the repeats), with the
times it divides. The rows:
  user's loop      forward + backward of the oscillator written with Values, the collector as Python
                   starts it, ÷ the same loop with gc.disable()
  vmap             vmap(jit(value_and_grad(f), backend="native")) over POINTS points ÷ the same points
                   called one by one; and ÷ JAX's jit(vmap(value_and_grad)) over lax.scan
  first call       jit(value_and_grad(f), backend="native")'s first call (trace, tape, layout, run), and
                   its peak bytes per node (tracemalloc, in a run of its own); JAX's scan compile beside it
  per call         the native program's call ÷ the same program with its loops on the interpreter
                   (as before native_loops.py), ÷ JAX's jit(value_and_grad) over lax.scan (loss and
                   gradients as floats), ÷ the adjoint written by hand, compiled by numba, ÷ CasADi
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

import report
import scalar_programs as programs

from chainrule import Value, jit, value_and_grad, vmap

POINTS = 1000  # points of the vmap rows, at every T (issue 17's thousand points)


def settled(f: Any, work: Any) -> None:
    """f called past native_entry.ENTRY_AFTER calls and its entry compiled (once per machine; a thread
    compiles it while the calls go on): the steady calls the rows time, not the ones before."""
    from chainrule.compiler import native_entry

    for _ in range(native_entry.ENTRY_AFTER + 1):
        f(*work.at)
    entry = f._last.program._entry
    if entry is not None:
        entry.ready.wait()


def median_time(call: Callable[[], object], repeat: int, least: float = 0.05) -> float:
    """The median over repeats of the mean seconds of a call (calls doubled until a repeat takes `least`)."""
    calls, times = 1, []
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            call()
        if time.perf_counter() - start >= least or calls >= 4096:
            break
        calls *= 2
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def row(steps: int, name: str, mine: float, theirs: float, unit: str = "ms", shown: str = "") -> str:
    """One line of the table: the ratio, then the two times it divides."""
    scale = 1e3 if unit == "ms" else 1.0
    times = f"{mine * scale:.3g} {unit}{shown} ÷ {theirs * scale:.3g} {unit}"
    return f"| {steps:,} | {name} | {mine / theirs:.2f} | {times} |"


def users_loop(work: programs.Workload) -> float:
    params = [Value(p) for p in work.at]
    loss = programs.oscillator(*params, work.observed, work.dt)
    loss.backward()
    return params[0].grad


def loop_times(work: programs.Workload, repeat: int) -> tuple[float, float]:
    """(seconds with the collector as it is, with gc.disable()), alternating, medians (of several loops a
    repeat at small T, so that a repeat takes about as long at every T)."""
    on, off = [], []
    loops = max(1, 50_000 // len(work.observed))
    for _ in range(repeat):
        for times, disable in ((on, False), (off, True)):
            gc.collect()
            if disable:
                gc.disable()
            start = time.perf_counter()
            for _ in range(loops):
                users_loop(work)
            times.append((time.perf_counter() - start) / loops)
            gc.enable()
    return statistics.median(on), statistics.median(off)


def compiled(work: programs.Workload) -> Any:
    def loss(k: Any, c: Any, x0: Any) -> Any:
        return programs.oscillator(k, c, x0, work.observed, work.dt)

    return jit(value_and_grad(loss, argnums=(0, 1, 2)), backend="native")


def first_call(work: programs.Workload, traced: bool) -> tuple[float, int]:
    """(seconds of the first call, peak bytes during it: only when traced by tracemalloc)."""
    f = compiled(work)
    gc.collect()
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    f(*work.at)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    tracemalloc.stop()
    return seconds, peak


def interpreted(work: programs.Workload, repeat: int) -> float:
    """The native program's call with no loop run by its own code (native_loops off): the backend as
    it was before loops, measured beside it."""
    from chainrule.compiler import native_loops

    least, native_loops.MIN_NODES = native_loops.MIN_NODES, sys.maxsize
    try:
        f = compiled(work)
        settled(f, work)
        assert not f._last.program._loops
        return median_time(lambda: f(*work.at), repeat)
    finally:
        native_loops.MIN_NODES = least


def numba_adjoint() -> Callable[..., tuple]:
    """The hand-written adjoint of scalar_programs.oscillator_by_hand, compiled by numba."""
    import numpy as np
    from numba import njit

    @njit(cache=True)
    def adjoint(k: float, c: float, x0: float, data: Any, dt: float) -> tuple:
        steps = len(data)
        xs, vs = np.empty(steps + 1), np.empty(steps + 1)
        xs[0], vs[0] = x0, 0.0
        for t in range(steps):
            a = -k * xs[t] - c * vs[t]
            xs[t + 1] = xs[t] + dt * vs[t]
            vs[t + 1] = vs[t] + dt * a
        loss = 0.0
        gx = gv = gk = gc = 0.0
        for t in range(steps - 1, -1, -1):
            r = xs[t + 1] - data[t]
            loss += r * r
            gx += 2 * r
            ga = dt * gv
            gk -= xs[t] * ga
            gc -= vs[t] * ga
            gx, gv = gx - k * ga, dt * gx + gv - c * ga
        return loss, gk, gc, gx

    return adjoint


def jax_functions(work: programs.Workload) -> tuple[Callable, Callable, Any]:
    """JAX's jit(value_and_grad) over lax.scan, its jit(vmap(...)), and the data as an array."""
    jax = programs._jax()
    loss = programs._scan_loss("oscillator", work.dt)
    return (
        jax.jit(jax.value_and_grad(loss)),
        jax.jit(jax.vmap(jax.value_and_grad(loss), in_axes=(0, None))),
        jax.numpy.array(work.observed),
    )


def absent(steps: int, name: str, module: str) -> str:
    return f"| {steps:,} | {name} | n/a | {module} is not installed (pip install {module}) |"


def casadi_call(work: programs.Workload) -> Callable[[], object] | None:
    """CasADi's Function of the loss and its gradient (scalar_programs.run_casadi's), None without it."""
    if importlib.util.find_spec("casadi") is None:
        return None
    import casadi

    params = [casadi.SX.sym(name) for name in work.parameters]
    loss = programs.oscillator(*params, work.observed, work.dt)
    function = casadi.Function("loss", params, [loss, casadi.gradient(loss, casadi.vertcat(*params))])
    return lambda: [float(x) for x in function(*work.at)[1].full().ravel()]


def rows_for(steps: int, repeat: int, memory: bool) -> list[str]:
    import numpy as np

    work = programs.make_workload("oscillator", steps)
    nodes = programs.reference(work)[1]
    lines = []
    on, off = loop_times(work, repeat)
    lines.append(row(steps, "user's loop, collector on ÷ gc.disable()", on, off, "s"))

    # the first call before anything else of this T is compiled
    first, _ = first_call(work, traced=False)
    peak = first_call(work, traced=True)[1] if memory else 0
    shown = f", {peak / nodes:,.0f} B/node peak" if memory else ""
    f = compiled(work)
    settled(f, work)
    has_jax = importlib.util.find_spec("jax") is not None
    first_name = f"first call ({nodes:,} nodes), native ÷ JAX scan compile"
    if has_jax:
        jax = programs._jax()
        scan, scan_vmap, data = jax_functions(work)
        params = jax.numpy.array(work.at)
        start = time.perf_counter()
        jax.device_get(scan(params, data))
        lines.append(row(steps, first_name, first, time.perf_counter() - start, "s", shown))
    else:
        lines.append(absent(steps, first_name + f" ({first:.3g} s{shown})", "jax"))

    native = median_time(lambda: f(*work.at), repeat)
    lines.append(
        row(
            steps,
            "per call, native with its loops ÷ all on the interpreter",
            native,
            interpreted(work, repeat),
        )
    )
    if has_jax:

        def jax_call() -> tuple:
            value, grads = jax.device_get(scan(params, data))
            return (float(value), *(float(g) for g in grads))

        lines.append(row(steps, "per call, native ÷ JAX scan", native, median_time(jax_call, repeat)))
    else:
        lines.append(absent(steps, "per call, native ÷ JAX scan", "jax"))
    adjoint, array = numba_adjoint(), np.array(work.observed)
    adjoint(*work.at, array, work.dt)
    by_hand = median_time(lambda: adjoint(*work.at, array, work.dt), repeat)
    lines.append(row(steps, "per call, native ÷ numba's hand-written adjoint", native, by_hand))
    by_casadi = casadi_call(work)
    if by_casadi is None:
        lines.append(absent(steps, "per call, native ÷ CasADi (SX, its VM)", "casadi"))
    else:
        lines.append(
            row(steps, "per call, native ÷ CasADi (SX, its VM)", native, median_time(by_casadi, repeat))
        )

    points = POINTS
    ks, cs = np.linspace(2.5, 3.5, points), np.linspace(0.3, 0.7, points)
    xs = np.linspace(0.5, 1.0, points)
    batched = vmap(f)
    batched(ks, cs, xs)  # numba compiles the batched pass once per machine

    def one_by_one() -> None:
        for point in zip(ks.tolist(), cs.tolist(), xs.tolist()):
            f(*point)

    ours = median_time(lambda: batched(ks, cs, xs), repeat, least=0.2)
    separate = median_time(one_by_one, max(1, repeat // 2), least=0.2)
    lines.append(row(steps, f"vmap of {points:,} points ÷ {points:,} calls", ours, separate))
    jax_name = f"vmap of {points:,} points ÷ JAX jit(vmap(value_and_grad))"
    if has_jax:
        stacked = jax.numpy.stack([jax.numpy.array(ks), jax.numpy.array(cs), jax.numpy.array(xs)], axis=1)
        jax.block_until_ready(scan_vmap(stacked, data))
        theirs = median_time(lambda: jax.device_get(scan_vmap(stacked, data)), repeat, least=0.2)
        lines.append(row(steps, jax_name, ours, theirs))
    else:
        lines.append(absent(steps, jax_name, "jax"))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="T = 500 and 5,000 only, 3 repeats")
    parser.add_argument("--steps", type=int, nargs="+", help="the grid of T (default 500 5000 50000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats; the median is shown")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc run of the first call")
    report.add_option(parser, "scale")
    args = parser.parse_args(argv)
    grid = args.steps or ([500, 5_000] if args.quick else [500, 5_000, 50_000])
    repeat = 3 if args.quick else args.repeat
    with report.markdown(args.markdown, argv):
        print(
            f"{programs.versions()}. The damped oscillator (14 nodes a step, gradient in k, c, x0); each "
            "ratio is two times measured side by side in this run, medians of the repeats."
        )
        print("| T | row | ratio | times |")
        print("| ---: | --- | ---: | --- |")
        for steps in grid:
            for line in rows_for(steps, repeat, memory=not args.no_memory):
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
