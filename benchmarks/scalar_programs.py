"""Scalar programs: simulations where every operation is one number, differentiated by every contender.

    python benchmarks/scalar_programs.py                       # the full run: minutes (JAX compiling)
    python benchmarks/scalar_programs.py --steps 20 --repeat 1 --budget 0   # a smoke run, seconds
    python benchmarks/scalar_programs.py --help

Two workloads, each a loss Σ_t (position_t - data_t)² over T time steps of dt = 0.01 (T = 500) and its
gradient with respect to three parameters, all as Python floats at the end of a call:
  oscillator  x'' = -k·x - c·x', explicit Euler from x0 with velocity 0; gradient w.r.t. k, c, x0.
  ball        a ball dropped from h0 onto a springy floor: y'' = -g - b·y', plus K·(-y) while y < 0
              (below the floor); semi-implicit Euler, as explicit Euler gains energy at every bounce;
              gradient w.r.t. K, b, h0. The floor is a branch on the state: a Python `if` in the eager
              libraries, jnp.where in JAX, and relu in chainrule and micrograd (chainrule.jit guards an
              `if y < 0:` on Values too, but a path per bounce retraces: relu is one op for every call).
The data are the same program at other parameters plus seeded Gaussian noise, so every run sees the
same numbers. Every contender's loss and gradients are checked against chainrule's engine.

Contenders (all but chainrule's optional: a missing library's rows are skipped with a note):
  engine, jit (python), jit native (once jit(fn, backend="native") exists), hand (the adjoint
  derived by hand in plain floats), micrograd 0.1.0, torch eager on float64 scalar tensors, HIPS
  autograd, JAX jit(value_and_grad) over lax.scan, and over the unrolled Python loop (compiled in a
  child process with a time cap, as XLA's compile cannot be interrupted from Python), and CasADi (the
  loop run on its SX symbols, casadi.gradient, a Function run by its virtual machine).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.metadata
import importlib.util
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

from chainrule import Value, jit

CONTENDERS = (
    "engine", "jit", "native", "hand", "micrograd", "torch", "autograd", "jax", "jax-unrolled", "casadi",
)  # fmt: skip
WORKLOADS = ("oscillator", "ball")
MODULES = {
    "micrograd": "micrograd",
    "torch": "torch",
    "autograd": "autograd",
    "jax": "jax",
    "jax-unrolled": "jax",
    "casadi": "casadi",
}
GRAVITY = 9.81
NOISE = 0.01  # the standard deviation of the noise added to the data
AGREE = 1e-9  # the largest relative difference from the engine that counts as agreement
MAX_CALLS = 100_000  # calls in one timed repeat, however fast the call
MICROGRAD_RECURSION = 100_000  # micrograd's topological sort recurses once per level of the graph

Result = tuple[float, float, float, float]  # the loss, then the gradient w.r.t. each parameter


class Skipped(Exception):  # noqa: N818 (not an error: a contender that cannot run here, and why)
    pass


# --- the programs, written once for anything with + - * and relu, then each library's other way ---------


def oscillator(k: Any, c: Any, x0: Any, data: Sequence[float], dt: float) -> Any:
    """Σ (x_t - data_t)², x'' = -k·x - c·x' by explicit Euler: for Values, tensors, boxes or tracers."""
    x, v, total = x0, 0.0, 0.0
    for d in data:
        a = -k * x - c * v
        x, v = x + dt * v, v + dt * a
        r = x - d
        total = total + r * r
    return total


def ball(stiffness: Any, drag: Any, h0: Any, data: Sequence[float], dt: float, depth: Callable) -> Any:
    """Σ (y_t - data_t)² for the ball; depth(y) is how far below the floor y is, 0 above it."""
    y, v, total = h0, 0.0, 0.0
    for d in data:
        a = -GRAVITY - drag * v + stiffness * depth(y)
        v = v + dt * a
        y = y + dt * v
        r = y - d
        total = total + r * r
    return total


def ball_relu(stiffness: Any, drag: Any, h0: Any, data: Sequence[float], dt: float) -> Any:
    """The ball for chainrule and micrograd: the floor as relu, which chainrule.jit runs at every call."""
    return ball(stiffness, drag, h0, data, dt, lambda y: (-y).relu())


def ball_branching(stiffness: Any, drag: Any, h0: Any, data: Sequence[float], dt: float) -> Any:
    """The ball with a Python `if` on the state, as one writes it for an eager library (torch, autograd)."""
    y, v, total = h0, 0.0, 0.0
    for d in data:
        a = -GRAVITY - drag * v
        if y < 0:  # below the floor: it pushes back
            a = a + stiffness * (-y)
        v = v + dt * a
        y = y + dt * v
        r = y - d
        total = total + r * r
    return total


def oscillator_states(k: float, c: float, x0: float, steps: int, dt: float) -> tuple[list, list]:
    """Positions and velocities x_0 … x_steps, v_0 … v_steps in plain floats: the program's forward pass."""
    xs, vs = [x0], [0.0]
    for _ in range(steps):
        x, v = xs[-1], vs[-1]
        a = -k * x - c * v
        xs.append(x + dt * v)
        vs.append(v + dt * a)
    return xs, vs


def ball_states(stiffness: float, drag: float, h0: float, steps: int, dt: float) -> tuple[list, list]:
    ys, vs = [h0], [0.0]
    for _ in range(steps):
        y, v = ys[-1], vs[-1]
        a = -GRAVITY - drag * v
        if y < 0:
            a = a + stiffness * (-y)
        v = v + dt * a
        ys.append(y + dt * v)
        vs.append(v)
    return ys, vs


def oscillator_by_hand(k: float, c: float, x0: float, data: Sequence[float], dt: float) -> Result:
    """The loss and its gradient by the adjoint recurrence derived by hand: plain floats, no graph."""
    xs, vs = oscillator_states(k, c, x0, len(data), dt)
    residuals = [x - d for x, d in zip(xs[1:], data)]
    gx = gv = gk = gc = 0.0  # adjoints of x_t+1 and v_t+1, walking back from the last step
    for t in range(len(data) - 1, -1, -1):
        gx += 2 * residuals[t]
        ga = dt * gv
        gk -= xs[t] * ga
        gc -= vs[t] * ga
        gx, gv = gx - k * ga, dt * gx + gv - c * ga
    return sum(r * r for r in residuals), gk, gc, gx


def ball_by_hand(stiffness: float, drag: float, h0: float, data: Sequence[float], dt: float) -> Result:
    ys, vs = ball_states(stiffness, drag, h0, len(data), dt)
    residuals = [y - d for y, d in zip(ys[1:], data)]
    gy = gv = gk = gb = 0.0  # adjoints of y_t+1 and v_t+1 (the latter from later steps only)
    for t in range(len(data) - 1, -1, -1):
        gy += 2 * residuals[t]
        gv += dt * gy  # y_t+1 = y_t + dt·v_t+1
        ga = dt * gv
        gb -= vs[t] * ga
        if ys[t] < 0:
            gk -= ys[t] * ga
            gy -= stiffness * ga
        gv -= drag * ga
    return sum(r * r for r in residuals), gk, gb, gy


@dataclass(frozen=True)
class Workload:
    name: str
    parameters: tuple[str, str, str]
    at: tuple[float, float, float]  # where the gradient is taken
    truth: tuple[float, float, float]  # what made the data
    dt: float
    observed: list[float]
    program: Callable[..., Any]  # for chainrule and micrograd
    eager: Callable[..., Any]  # for torch, autograd
    jax_program: Callable[..., Any]  # the unrolled loop for JAX: jnp for the branch
    by_hand: Callable[..., Result]


def make_workload(name: str, steps: int) -> Workload:
    """The workload with `steps` time steps; its data depend on the name and the steps alone."""
    dt = 0.01
    if name == "oscillator":
        truth, at = (4.0, 0.3, 1.0), (3.0, 0.5, 0.8)
        clean = oscillator_states(*truth, steps, dt)[0][1:]
        parts = (oscillator, oscillator, oscillator, oscillator_by_hand)
        parameters = ("k", "c", "x0")
    elif name == "ball":
        # At `at` (and at `truth`) the ball is below the floor on 6 stretches of steps in 500, never within
        # 3e-4 of it: the branch pattern, and so the relu kinks, stay put under a central difference.
        truth, at = (600.0, 0.2, 1.0), (400.0, 0.3, 1.2)
        clean = ball_states(*truth, steps, dt)[0][1:]
        parts = (ball_relu, ball_branching, _ball_jnp, ball_by_hand)
        parameters = ("K", "b", "h0")
    else:
        raise ValueError(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")
    noise = random.Random(f"{name} {steps}")
    data = [x + noise.gauss(0.0, NOISE) for x in clean]
    return Workload(name, parameters, at, truth, dt, data, *parts)


def _ball_jnp(stiffness: Any, drag: Any, h0: Any, data: Sequence[float], dt: float) -> Any:
    import jax.numpy as jnp

    return ball(stiffness, drag, h0, data, dt, lambda y: jnp.where(y < 0, -y, 0.0))


def count_nodes(root: Value) -> int:
    """Nodes in chainrule's graph under root, leaves (constants included) and all."""
    seen, stack = {id(root)}, [root]
    while stack:
        for parent in stack.pop()._prev:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


# --- measuring ----------------------------------------------------------------------------------------


@dataclass
class Settings:
    steps: int = 500
    repeat: int = 5
    budget: float = 0.2  # seconds of calls in one timed repeat
    timeout: float = 120.0  # seconds for the child that compiles JAX's unrolled loop


@dataclass
class Row:
    workload: str
    contender: str
    first: float | None  # seconds of the first call: tracing or compiling, and the call itself
    per_call: float | None  # median seconds of a later call
    calls: int  # calls in each timed repeat
    repeats: int
    result: Result | None
    note: str = ""
    gap: float | None = None  # the largest relative difference from the engine's loss and gradients


def _per_call(call: Callable[[], object], settings: Settings) -> tuple[float, int]:
    """The median over settings.repeat repeats of the mean time of a call, with enough calls a repeat."""
    gc.collect()
    gc.freeze()  # what earlier contenders left alive stays out of the cyclic collector's passes
    calls = 1
    while True:  # one call alone is a poor estimate of a 50 µs call: double until a tenth of the budget
        start = time.perf_counter()
        for _ in range(calls):
            call()
        elapsed = time.perf_counter() - start
        if elapsed >= settings.budget / 10 or calls >= MAX_CALLS:
            break
        calls *= 2
    calls = max(1, min(MAX_CALLS, round(calls * settings.budget / max(elapsed, 1e-9))))
    times = []
    for _ in range(settings.repeat):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times), calls


def _measure(
    work: Workload, name: str, call: Callable[[], Result], settings: Settings, note: str = ""
) -> Row:
    gc.collect()
    gc.freeze()
    start = time.perf_counter()
    result = call()
    first = time.perf_counter() - start
    per_call, calls = _per_call(call, settings)
    result = tuple(float(x) for x in result)
    return Row(work.name, name, first, per_call, calls, settings.repeat, result, note)


def _require(contender: str) -> None:
    module = MODULES.get(contender)
    if module and importlib.util.find_spec(module) is None:
        raise Skipped(f"{module} is not installed (pip install {module}, or: pip install '.[bench]')")


def _values_call(params: list, loss_fn: Callable[[], Any]) -> Callable[[], Result]:
    """One call for a Value-style library: zero the parameters' grads, forward, backward, read them."""

    def call() -> Result:
        for p in params:
            p.grad = 0.0
        loss = loss_fn()
        loss.backward()
        return (loss.data, params[0].grad, params[1].grad, params[2].grad)

    return call


def run_engine(work: Workload, settings: Settings) -> list[Row]:
    params = [Value(p) for p in work.at]
    call = _values_call(params, lambda: work.program(*params, work.observed, work.dt))
    return [_measure(work, "engine", call, settings)]


def run_jit(work: Workload, settings: Settings) -> list[Row]:
    params = [Value(p) for p in work.at]  # closed over: jit reads them at every call
    step = jit(lambda: work.program(*params, work.observed, work.dt))  # backend python, the default
    return [_measure(work, "jit python", _values_call(params, step), settings)]


def run_native(work: Workload, settings: Settings) -> list[Row]:
    params = [Value(p) for p in work.at]
    try:
        step = jit(lambda: work.program(*params, work.observed, work.dt), backend="native")
        return [_measure(work, "jit native", _values_call(params, step), settings)]
    except ImportError as error:  # without numba: chainrule's MissingExtraError names the pip command
        raise Skipped(str(error)) from error
    except (TypeError, ValueError) as error:  # no backend= keyword, or no "native" among the backends
        if "backend" not in str(error):
            raise
        raise Skipped(
            f"no native backend in chainrule.jit yet ({error}); the row appears once there is"
        ) from error


def run_hand(work: Workload, settings: Settings) -> list[Row]:
    return [_measure(work, "hand", lambda: work.by_hand(*work.at, work.observed, work.dt), settings)]


def run_micrograd(work: Workload, settings: Settings) -> list[Row]:
    from micrograd.engine import Value as MicroValue

    params = [MicroValue(p) for p in work.at]
    call = _values_call(params, lambda: work.program(*params, work.observed, work.dt))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, MICROGRAD_RECURSION))
    note = f"recursion limit raised to {MICROGRAD_RECURSION:,} for its recursive topological sort"
    try:
        return [_measure(work, "micrograd", call, settings, note)]
    finally:
        sys.setrecursionlimit(limit)


def run_torch(work: Workload, settings: Settings) -> list[Row]:
    import torch

    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in work.at]

    def call() -> Result:
        for p in params:
            p.grad = None
        loss = work.eager(*params, work.observed, work.dt)
        loss.backward()
        # a parameter the `if` never reached has no .grad: its gradient is 0
        return (loss.item(), *(0.0 if p.grad is None else p.grad.item() for p in params))

    return [_measure(work, "torch eager", call, settings)]


def run_autograd(work: Workload, settings: Settings) -> list[Row]:
    from autograd import value_and_grad

    loss_and_grads = value_and_grad(work.eager, argnum=(0, 1, 2))

    def call() -> Result:
        loss, grads = loss_and_grads(*work.at, work.observed, work.dt)
        return (float(loss), float(grads[0]), float(grads[1]), float(grads[2]))

    return [_measure(work, "autograd", call, settings)]


def run_casadi(work: Workload, settings: Settings) -> list[Row]:
    """CasADi: the loop run once on SX symbols (its expression graph), then casadi.gradient and a Function,
    which every call runs in CasADi's virtual machine. Building both is the first call's work."""
    import casadi

    made: dict[str, Any] = {}

    def call() -> Result:
        if "f" not in made:
            params = [casadi.SX.sym(name) for name in work.parameters]
            if work.name == "ball":
                loss = ball(*params, work.observed, work.dt, lambda y: casadi.fmax(-y, 0.0))
            else:
                loss = work.program(*params, work.observed, work.dt)
            gradient = casadi.gradient(loss, casadi.vertcat(*params))
            made["f"] = casadi.Function("loss", params, [loss, gradient])
        loss, grads = made["f"](*work.at)
        return (float(loss), *(float(g) for g in grads.full().ravel()))

    return [_measure(work, "casadi (SX, its VM)", call, settings)]


def _jax() -> Any:
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def _scan_loss(name: str, dt: float) -> Callable[..., Any]:
    """The workload written the JAX way: one time step as a function, lax.scan over the data.

    The running loss rides in the carry: stacking the squares as scan's output and summing them after
    costs 7x more per call here (its backward pass keeps and reads back the stacked array)."""
    from jax import lax
    from jax import numpy as jnp

    def oscillator_loss(params: Any, data: Any) -> Any:
        k, c, x0 = params

        def step(state: tuple, d: Any) -> tuple:
            x, v, total = state
            a = -k * x - c * v
            x, v = x + dt * v, v + dt * a
            return (x, v, total + (x - d) ** 2), None

        zero = jnp.zeros_like(x0)
        return lax.scan(step, (x0, zero, zero), data)[0][2]

    def ball_loss(params: Any, data: Any) -> Any:
        stiffness, drag, h0 = params

        def step(state: tuple, d: Any) -> tuple:
            y, v, total = state
            a = -GRAVITY - drag * v + stiffness * jnp.where(y < 0, -y, 0.0)
            v = v + dt * a
            y = y + dt * v
            return (y, v, total + (y - d) ** 2), None

        zero = jnp.zeros_like(h0)
        return lax.scan(step, (h0, zero, zero), data)[0][2]

    return {"oscillator": oscillator_loss, "ball": ball_loss}[name]


def _jax_rows(
    work: Workload,
    label: str,
    compiled: Callable,
    args: tuple,
    settings: Settings,
    report: Callable[[float], None] = lambda seconds: None,
) -> list[Row]:
    """Three rows: results left on the device, the loss read as a float, the loss and gradients as floats.

    report(seconds) is told the first call's time as soon as it is known."""
    jax = _jax()

    def on_device() -> Any:
        return jax.block_until_ready(compiled(*args))

    def loss_as_float() -> float:
        return float(compiled(*args)[0])

    def all_floats() -> Result:
        loss, grads = jax.device_get(compiled(*args))
        return (float(loss), *(float(g) for g in grads))

    gc.collect()
    gc.freeze()
    start = time.perf_counter()
    result = all_floats()
    first = time.perf_counter() - start
    report(first)
    rows = []
    for way, call in (
        ("on device", on_device),
        ("loss as float", loss_as_float),
        ("all as floats", all_floats),
    ):
        per_call, calls = _per_call(call, settings)
        rows.append(Row(work.name, f"{label}, {way}", first, per_call, calls, settings.repeat, result))
    return rows


def run_jax(work: Workload, settings: Settings) -> list[Row]:
    jax = _jax()
    compiled = jax.jit(jax.value_and_grad(_scan_loss(work.name, work.dt)))
    args = (jax.numpy.array(work.at), jax.numpy.array(work.observed))
    return _jax_rows(work, "jax scan", compiled, args, settings)


def jax_unrolled_rows(work: Workload, settings: Settings) -> list[Row]:
    """In this process: JAX's jit of value_and_grad of the unrolled Python loop (the child's work).

    Prints a JSON line with the first call's seconds as soon as it has compiled, so that a parent that
    ends this process while it is timing still knows how long compiling took."""
    jax = _jax()

    def loss(a: Any, b: Any, c: Any) -> Any:
        return work.jax_program(a, b, c, work.observed, work.dt)

    compiled = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))
    args = tuple(jax.numpy.float64(p) for p in work.at)

    def report(seconds: float) -> None:
        print(json.dumps({"compiled": seconds}), flush=True)

    return _jax_rows(work, "jax unrolled", compiled, args, settings, report)


def run_jax_unrolled(work: Workload, settings: Settings) -> list[Row]:
    """Compile and time the unrolled loop in a child process, ended after settings.timeout seconds."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        *("--jax-unrolled-child", work.name, "--steps", str(len(work.observed))),
        *("--repeat", str(settings.repeat), "--budget", str(settings.budget)),
    ]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = child.communicate(timeout=settings.timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        out, _ = child.communicate()
        lines = out.splitlines()
        if lines:
            seconds = json.loads(lines[0])["compiled"]
            cap = f"compiled in {seconds:.3g} s; timing unfinished at {settings.timeout:g} s"
        else:
            cap = f"did not compile in {settings.timeout:g} s"
        return [Row(work.name, "jax unrolled", None, None, 0, 0, None, cap)]
    if child.returncode != 0:
        raise RuntimeError(f"the JAX unrolled child failed:\n{err}")
    return [Row(**row) for row in json.loads(out.splitlines()[-1])]


RUNNERS: dict[str, Callable[[Workload, Settings], list[Row]]] = {
    "engine": run_engine,
    "jit": run_jit,
    "native": run_native,
    "hand": run_hand,
    "micrograd": run_micrograd,
    "torch": run_torch,
    "autograd": run_autograd,
    "jax": run_jax,
    "jax-unrolled": run_jax_unrolled,
    "casadi": run_casadi,
}


def measure(work: Workload, contender: str, settings: Settings) -> list[Row]:
    """The rows of one contender on one workload; Skipped when it cannot run here."""
    _require(contender)
    return RUNNERS[contender](work, settings)


def reference(work: Workload) -> tuple[Result, int]:
    """The engine's loss and gradients, and the number of nodes in its graph."""
    params = [Value(p) for p in work.at]
    loss = work.program(*params, work.observed, work.dt)
    loss.backward()
    return (loss.data, *(p.grad for p in params)), count_nodes(loss)


def difference(result: Result, expected: Result) -> float:
    """The largest relative difference, component by component."""
    return max(abs(a - b) / abs(b) if b else abs(a) for a, b in zip(result, expected))


# --- the table ----------------------------------------------------------------------------------------


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    ms = seconds * 1e3
    return f"{ms:.3g}" if ms < 1000 else f"{ms:,.0f}"


def _ratio(row: Row, base: Row | None) -> str:
    if row.per_call is None or base is None or base.per_call is None:
        return "n/a"
    return f"{row.per_call / base.per_call:.3g}"


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| workload | contender | first call (ms) | per call (ms) | calls × repeats | × JAX scan, loss as "
        "float | × torch eager | loss | agrees |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name in dict.fromkeys(row.workload for row in rows):
        group = [row for row in rows if row.workload == name]
        jax_row = next((row for row in group if row.contender == "jax scan, loss as float"), None)
        torch_row = next((row for row in group if row.contender == "torch eager"), None)
        for row in group:
            if row.result is None or row.gap is None:
                first, calls, loss, agrees = row.note, "—", "—", "—"
            else:
                first, calls, loss = _ms(row.first), f"{row.calls} × {row.repeats}", f"{row.result[0]:.9g}"
                agrees = "yes" if row.gap <= AGREE else f"NO ({row.gap:.1e})"
            lines.append(
                f"| {name} | {row.contender} | {first} | {_ms(row.per_call)} | {calls} "
                f"| {_ratio(row, jax_row)} | {_ratio(row, torch_row)} | {loss} | {agrees} |"
            )
    return lines


def versions() -> str:
    found = [f"Python {sys.version.split()[0]}"]
    for package in ("micrograd", "torch", "autograd", "jax", "jaxlib"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found.append(f"{package} {importlib.metadata.version(package)}")
    return ", ".join(found)


def choices(text: str, allowed: Sequence[str], option: str, parser: argparse.ArgumentParser) -> list[str]:
    """The comma-separated names of an option, each one of allowed (parser.error names the others)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown:
        parser.error(f"{option}: unknown {', '.join(unknown)}; choose from {', '.join(allowed)}")
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=500, help="time steps T of each simulation")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats; the median is shown")
    parser.add_argument(
        "--budget", type=float, default=0.2, help="seconds of calls in one repeat (at least one call)"
    )
    parser.add_argument(
        "--jax-timeout", type=float, default=120.0, help="seconds allowed to compile JAX's unrolled loop"
    )
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help=f"subset of {', '.join(WORKLOADS)}")
    parser.add_argument(
        "--contenders", default=",".join(CONTENDERS), help=f"subset of {', '.join(CONTENDERS)}"
    )
    parser.add_argument("--jax-unrolled-child", metavar="WORKLOAD", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.workloads = choices(args.workloads, WORKLOADS, "--workloads", parser)
    args.contenders = choices(args.contenders, CONTENDERS, "--contenders", parser)
    if args.steps < 1 or args.repeat < 1:
        parser.error(f"--steps and --repeat must be at least 1, got {args.steps} and {args.repeat}")
    if not args.budget >= 0 or not args.jax_timeout > 0:
        parser.error("--budget must be at least 0 and --jax-timeout more than 0")
    return args


def run(
    workloads: Sequence[str], contenders: Sequence[str], settings: Settings, out: Any = None
) -> list[Row]:
    """Measure, then print the table and its notes to `out` (stdout by default); progress to stderr."""
    out = out or sys.stdout
    rows, sizes, notes = [], [], []
    for name in workloads:
        work = make_workload(name, settings.steps)
        expected, nodes = reference(work)
        sizes.append(f"{name}: {settings.steps} steps, {nodes:,} nodes in chainrule's graph")
        for contender in contenders:
            try:
                found = measure(work, contender, settings)
            except Skipped as skip:
                notes.append(f"skipped {contender}: {skip}")
                continue
            for row in found:
                if row.result is not None:
                    row.gap = difference(row.result, expected)
                    if row.note:
                        notes.append(f"{row.contender}: {row.note}")
                print(
                    f"  {name:10} {row.contender:28} {_ms(row.per_call):>8} ms", file=sys.stderr, flush=True
                )
            rows += found
    print(
        f"{versions()}. Per call: the loss and 3 gradients, the median of the repeats; "
        "the first call (tracing, compiling) apart.",
        file=out,
    )
    print("\n".join(table(rows)), file=out)
    print("\n".join(f"- {note}" for note in [*sizes, *dict.fromkeys(notes)]), file=out)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings(args.steps, args.repeat, args.budget, args.jax_timeout)
    if args.jax_unrolled_child:
        rows = jax_unrolled_rows(make_workload(args.jax_unrolled_child, args.steps), settings)
        print(json.dumps([row.__dict__ for row in rows]))
        return 0
    rows = run(args.workloads, args.contenders, settings)
    return 0 if all(row.gap is None or row.gap <= AGREE for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
