"""Time chainrule's engine, chainrule.jit, micrograd, PyTorch and hand-derived gradients side by side.

    python benchmarks/run.py                # the full run: minutes, most of them JAX compiling unrolled loops
    python benchmarks/run.py --skip-scalar  # XOR and moons alone (about a minute)
    python benchmarks/run.py --help         # smaller sizes, fewer contenders

Two workloads, the same initial weights and the same SGD loop for every contender:
  xor    the reference run: MLP(2, [4, 1]) tanh, Σ(p - y)², lr 0.1, 2000 steps;
  moons  micrograd's demo: MLP(2, [16, 16, 1]) ReLU hidden, linear out, 100 points,
         mean hinge + 1e-4·Σp², lr 1.0 → 0.1 over 100 steps.
Slow contenders run fewer steps on moons; their time is scaled per step to the full run, and their
last loss is compared with the loss the fast contenders had at the same step.
micrograd and torch are optional (pip install "chainrule[bench]"): without them their rows are skipped.
Then the scalar-program table of benchmarks/scalar_programs.py (--skip-scalar leaves it out; that script
has more options of its own), with the contenders of --contenders that it knows.
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

import report
import scalar_programs

from chainrule import Value, jit
from chainrule.demos import moons, xor
from chainrule.nn import MLP

CONTENDERS = ("engine", "jit", "native", "micrograd", "torch", "hand")
# one Python object per scalar: also timed with the cyclic collector off (see chainrule/runtime/collector.py)
GC_SENSITIVE = ("engine", "micrograd")
# contenders of the scalar-program table alone (xor and moons have no runner for them)
SCALAR_ONLY = tuple(name for name in scalar_programs.CONTENDERS if name not in CONTENDERS)


@dataclass
class Workload:
    """One training run: the network's initial weights, the data, the loss and the lr of each step."""

    name: str
    model: MLP  # chainrule's network: its weights are every contender's starting point
    activations: list[str]  # per layer: "tanh", "relu" or "linear"
    points: list[list[float]]
    targets: list[float]
    loss: str  # "sse" (Σ(p - y)²) or "hinge" (mean max(0, 1 - y·s) + alpha·Σp²)
    lrs: list[float]
    alpha: float = 0.0
    objective: Callable[[MLP], Callable] = field(default=lambda model: None)

    def weights(self) -> list[tuple[list[list[float]], list[float]]]:
        """Per layer: (rows of weights, one per neuron; biases)."""
        return [
            ([[w.data for w in n.w] for n in layer.neurons], [n.b.data for n in layer.neurons])
            for layer in self.model.layers
        ]


def xor_workload(steps: int) -> Workload:
    config = xor.XorConfig(steps=steps)
    model = xor.build(config)
    return Workload(
        "xor",
        model,
        ["tanh", "tanh"],
        xor.CORNERS.points,
        [float(label) for label in xor.CORNERS.labels],
        "sse",
        [config.lr] * steps,
        objective=xor.objective,
    )


def moons_workload(steps: int, points: int) -> Workload:
    config = moons.MoonsConfig(steps=steps, n=points)
    model, dataset = moons.build(config)
    return Workload(
        "moons",
        model,
        ["relu", "relu", "linear"],
        dataset.points,
        [float(label) for label in dataset.labels],
        "hinge",
        [moons.learning_rate(config, step) for step in range(steps)],
        alpha=config.alpha,
        objective=lambda model: moons.objective(model, config.alpha),
    )


# --- contenders: each trains a fresh copy of the weights for len(lrs) steps and returns the losses ----


def _chainrule_model(work: Workload) -> MLP:
    model = MLP(
        2, [len(layer.neurons) for layer in work.model.layers], work.activations[0], work.activations[-1]
    )
    for mine, theirs in zip(model.parameters(), work.model.parameters()):
        mine.data = theirs.data
    return model


def _sgd(params: list, loss_fn: Callable, work: Workload, lrs: Sequence[float]) -> list[float]:
    """The training loop of every graph-based contender (micrograd's demo loop): zero, backward, step."""
    losses = []
    for lr in lrs:
        loss = loss_fn(work.points, work.targets)
        losses.append(loss.data)
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
    return losses


def run_engine(work: Workload, lrs: Sequence[float]) -> list[float]:
    model = _chainrule_model(work)
    return _sgd(model.parameters(), work.objective(model), work, lrs)


def run_jit(work: Workload, lrs: Sequence[float]) -> list[float]:
    model = _chainrule_model(work)
    return _sgd(model.parameters(), jit(work.objective(model)), work, lrs)


def run_native(work: Workload, lrs: Sequence[float]) -> list[float]:
    model = _chainrule_model(work)
    return _sgd(model.parameters(), jit(work.objective(model), backend="native"), work, lrs)


def run_micrograd(work: Workload, lrs: Sequence[float]) -> list[float]:
    from micrograd.engine import Value as MicroValue

    if not hasattr(MicroValue, "tanh"):  # micrograd has no tanh: the specification's three lines

        def tanh(self):
            t = math.tanh(self.data)
            out = MicroValue(t, (self,), "tanh")

            def _backward():
                self.grad += (1 - t * t) * out.grad

            out._backward = _backward
            return out

        MicroValue.tanh = tanh
    layers = [
        ([[MicroValue(w) for w in row] for row in rows], [MicroValue(b) for b in biases])
        for rows, biases in work.weights()
    ]
    params = [p for rows, biases in layers for row, b in zip(rows, biases) for p in (*row, b)]

    def model(x):
        for (rows, biases), activation in zip(layers, work.activations):
            sums = [sum((w * xi for w, xi in zip(row, x)), b) for row, b in zip(rows, biases)]
            x = [s.tanh() if activation == "tanh" else s.relu() if activation == "relu" else s for s in sums]
        return x[0]

    def loss_fn(points, targets):
        scores = [model(x) for x in points]
        if work.loss == "sse":
            return sum(((s - y) ** 2 for s, y in zip(scores, targets)), MicroValue(0.0))
        hinge = sum(((1 - y * s).relu() for s, y in zip(scores, targets)), MicroValue(0.0)) / len(scores)
        return hinge + work.alpha * sum((p * p for p in params), MicroValue(0.0))

    return _sgd(params, loss_fn, work, lrs)


def run_torch(work: Workload, lrs: Sequence[float]) -> list[float]:
    import torch

    dtype = torch.float64
    layers = [
        (
            torch.tensor(rows, dtype=dtype, requires_grad=True),
            torch.tensor(biases, dtype=dtype, requires_grad=True),
        )
        for rows, biases in work.weights()
    ]
    params = [p for layer in layers for p in layer]
    x, y = torch.tensor(work.points, dtype=dtype), torch.tensor(work.targets, dtype=dtype)
    activation = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda z: z}
    losses = []
    for lr in lrs:
        a = x
        for (weight, bias), name in zip(layers, work.activations):
            a = activation[name](a @ weight.T + bias)
        scores = a[:, 0]
        if work.loss == "sse":
            loss = ((scores - y) ** 2).sum()
        else:
            loss = torch.relu(1 - y * scores).mean() + work.alpha * sum((p * p).sum() for p in params)
        losses.append(loss.item())
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
    return losses


def run_hand(work: Workload, lrs: Sequence[float]) -> list[float]:
    """Backpropagation derived by hand for dense layers, in plain Python floats: no graph at all."""
    layers = work.weights()
    n = len(work.points)
    losses = []
    for lr in lrs:
        grads = [([[0.0] * len(row) for row in rows], [0.0] * len(biases)) for rows, biases in layers]
        total = 0.0
        for x, y in zip(work.points, work.targets):
            inputs, sums = [x], []
            a = x
            for (rows, biases), activation in zip(layers, work.activations):
                z = []
                for row, b in zip(rows, biases):
                    s = b
                    for w, ai in zip(row, a):
                        s += w * ai
                    z.append(s)
                sums.append(z)
                if activation == "tanh":
                    a = [math.tanh(s) for s in z]
                elif activation == "relu":
                    a = [s if s > 0 else 0.0 for s in z]
                else:
                    a = z
                inputs.append(a)
            score = a[0]
            if work.loss == "sse":
                total += (score - y) ** 2
                upstream = [2 * (score - y)]  # dL/dscore
            else:
                margin = 1 - y * score
                total += margin if margin > 0 else 0.0
                upstream = [-y / n if margin > 0 else 0.0]
            for k in range(len(layers) - 1, -1, -1):
                activation, (rows, _), (grad_rows, grad_biases) = work.activations[k], layers[k], grads[k]
                if activation == "tanh":
                    delta = [g * (1 - t * t) for g, t in zip(upstream, inputs[k + 1])]
                elif activation == "relu":
                    delta = [g if s > 0 else 0.0 for g, s in zip(upstream, sums[k])]
                else:
                    delta = upstream
                below = inputs[k]
                for j, d in enumerate(delta):
                    grad_biases[j] += d
                    grad_row = grad_rows[j]
                    for i, ai in enumerate(below):
                        grad_row[i] += d * ai
                if k:
                    upstream = [
                        sum(rows[j][i] * delta[j] for j in range(len(delta))) for i in range(len(below))
                    ]
        if work.loss == "hinge":
            penalty = sum(v * v for rows, biases in layers for row, b in zip(rows, biases) for v in (*row, b))
            total = total / n + work.alpha * penalty
        losses.append(total)
        for (rows, biases), (grad_rows, grad_biases) in zip(layers, grads):
            for row, grad_row in zip(rows, grad_rows):
                for i, g in enumerate(grad_row):
                    row[i] -= lr * (g + 2 * work.alpha * row[i])
            for j, g in enumerate(grad_biases):
                biases[j] -= lr * (g + 2 * work.alpha * biases[j])
    return losses


RUNNERS = {
    "engine": run_engine,
    "jit": run_jit,
    "native": run_native,
    "micrograd": run_micrograd,
    "torch": run_torch,
    "hand": run_hand,
}
MODULES = {"micrograd": "micrograd", "torch": "torch", "native": "numba"}


# --- memory: bytes per graph node, measured by tracemalloc while the graph is alive ----------------------


def bytes_per_node(make_value: Callable[[float], object], terms: int = 1000) -> tuple[float, float]:
    """Bytes per node of a sum of `terms` products, by tracemalloc while the graph is alive.

    (all nodes: the 2·terms + 1 leaves made while measuring, the zero included, plus the 2·terms
    interior nodes; interior nodes only: the leaves made before measuring, the zero still counted)."""
    xs = [0.5 + i / terms for i in range(terms)]  # the floats exist before, as a data set would
    figures = []
    for leaves_counted in (True, False):
        pairs = None if leaves_counted else [(make_value(x), make_value(x)) for x in xs]
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        if pairs is None:
            total = sum((make_value(x) * make_value(x) for x in xs), make_value(0.0))
        else:
            total = sum((a * b for a, b in pairs), make_value(0.0))
        used = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        del total, pairs
        figures.append(used / ((4 if leaves_counted else 2) * terms + 1))
    return figures[0], figures[1]


def jit_breakdown(work: Workload, backend: str, steps: int = 10) -> tuple[float, float]:
    """(seconds for the first call: trace, generate, compile, run; median seconds of a later step)."""
    model = _chainrule_model(work)
    step = jit(work.objective(model), backend=backend)
    gc.collect()
    start = time.perf_counter()
    step(work.points, work.targets)
    first = time.perf_counter() - start
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        loss = step(work.points, work.targets)
        model.zero_grad()
        loss.backward()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times)


# --- the run ---------------------------------------------------------------------------------------------


@dataclass
class Row:
    workload: str
    contender: str
    steps: int  # steps run
    seconds: float  # scaled to the full run
    losses: list[float]


def available(contender: str) -> bool:
    if contender not in MODULES:
        return True
    try:
        __import__(MODULES[contender])
    except ImportError:
        return False
    return True


def measure(work: Workload, contender: str, steps: int, repeat: int, collector_on: bool = True) -> Row:
    """The median time of `repeat` runs, scaled to the full number of steps.

    With collector_on=False the cyclic garbage collector is off during each run (gc.disable), as
    `chainrule moons` runs its steps: the row is then named "<contender>, gc off"."""
    times = []
    for _ in range(repeat):
        # Every run starts from the same heap: what earlier runs (and torch's import) left alive is
        # frozen out of the cyclic collector, whose full passes would otherwise scan it again and again.
        gc.collect()
        gc.freeze()
        if not collector_on:
            gc.disable()
        start = time.perf_counter()
        losses = RUNNERS[contender](work, work.lrs[:steps])
        times.append(time.perf_counter() - start)
        gc.enable()
    name = contender if collector_on else f"{contender}, gc off"
    return Row(work.name, name, steps, statistics.median(times) * len(work.lrs) / steps, losses)


def agreement(rows: list[Row]) -> dict[str, float]:
    """Per row, the relative difference of its last loss from the reference's loss at the same step."""
    reference = max(rows, key=lambda row: (row.steps, row.contender == "jit"))
    return {
        row.contender: abs(row.losses[-1] - reference.losses[row.steps - 1])
        / abs(reference.losses[row.steps - 1])
        for row in rows
    }


def table(rows: list[Row], full_steps: dict[str, int]) -> list[str]:
    lines = [
        "| workload | contender | steps run | seconds (full run) | ms a step | × micrograd | last loss "
        "| agrees |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name in full_steps:
        group = [row for row in rows if row.workload == name]
        micro = next((row.seconds for row in group if row.contender == "micrograd"), None)
        differences = agreement(group)
        for row in group:
            ratio = f"{row.seconds / micro:.3g}" if micro else "n/a"
            per_step = row.seconds / full_steps[name] * 1e3
            per_step_text = f"{per_step:.3g}" if per_step < 100 else f"{per_step:.0f}"
            scaled = "" if row.steps == full_steps[name] else f" (scaled from {row.steps})"
            ok = "yes" if differences[row.contender] <= 1e-9 else f"NO ({differences[row.contender]:.1e})"
            lines.append(
                f"| {name} | {row.contender} | {row.steps} | {row.seconds:.3f}{scaled} | {per_step_text} "
                f"| {ratio} | {row.losses[-1]:.9f} | {ok} |"
            )
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--xor-steps", type=int, default=2000, help="SGD steps on XOR")
    parser.add_argument("--moons-steps", type=int, default=100, help="SGD steps on moons")
    parser.add_argument("--moons-points", type=int, default=100, help="points in the moons data set")
    parser.add_argument("--slow-steps", type=int, default=10, help="moons steps for the engine and micrograd")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; the median time is shown")
    parser.add_argument(
        "--contenders",
        default=",".join(CONTENDERS + SCALAR_ONLY),
        help=f"comma-separated subset of {', '.join(CONTENDERS + SCALAR_ONLY)}",
    )
    parser.add_argument(
        "--skip-scalar", action="store_true", help="leave out the scalar-program table (scalar_programs.py)"
    )
    report.add_option(parser, "training")
    args = parser.parse_args(argv)
    known = CONTENDERS + SCALAR_ONLY
    args.contenders = scalar_programs.choices(args.contenders, known, "--contenders", parser)
    for option in ("xor_steps", "moons_steps", "moons_points", "slow_steps", "repeat"):
        minimum, value = (2 if option == "moons_points" else 1), getattr(args, option)
        if value < minimum:
            parser.error(f"--{option.replace('_', '-')} must be at least {minimum}, got {value}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with report.markdown(args.markdown, argv):
        measure_all(args)
    return 0


def measure_all(args: argparse.Namespace) -> None:
    contenders = []
    for name in (name for name in args.contenders if name in RUNNERS):
        if available(name):
            contenders.append(name)
        else:
            print(f"skipping {name}: not installed (pip install {MODULES[name]}, or: pip install '.[bench]')")
    workloads = [xor_workload(args.xor_steps), moons_workload(args.moons_steps, args.moons_points)]
    slow = {"moons": {"engine", "micrograd"}}
    rows = []
    for work in workloads:
        for name, collector_on in [(name, True) for name in contenders] + [
            (name, False) for name in contenders if name in GC_SENSITIVE
        ]:
            steps = min(args.slow_steps, len(work.lrs)) if name in slow.get(work.name, ()) else len(work.lrs)
            rows.append(measure(work, name, steps, args.repeat, collector_on))
            print(
                f"  {work.name:5} {rows[-1].contender:16} {rows[-1].seconds:8.3f} s",
                file=sys.stderr,
                flush=True,
            )
    print(
        f"Python {sys.version.split()[0]}; seconds for the whole run, the median of {args.repeat} "
        "(compiling included for jit)."
    )
    print("\n".join(table(rows, {work.name: len(work.lrs) for work in workloads})))
    for name, backend, done in (
        ("jit", "python", "trace, generate, compile"),
        ("native", "native", "trace, tape"),
    ):
        if name in contenders:
            print()
            for work in workloads:
                first, step = jit_breakdown(work, backend)
                compiled = f"first call ({done}) {first:.3f} s"
                print(
                    f"{name} on {work.name}: {compiled}; then a step (forward + backward) {step * 1e3:.3g} ms"
                )
    print()
    print("bytes per graph node (tracemalloc; a 1000-term sum of products): all nodes, interior nodes only")
    engine = bytes_per_node(Value)
    print(f"  chainrule engine: {engine[0]:.0f}, {engine[1]:.0f}")
    if available("micrograd"):
        from micrograd.engine import Value as MicroValue

        micro = bytes_per_node(MicroValue)
        ratios = f"{engine[0] / micro[0]:.2f}, {engine[1] / micro[1]:.2f}"
        print(f"  micrograd:        {micro[0]:.0f}, {micro[1]:.0f}   (chainrule / micrograd: {ratios})")
    if not args.skip_scalar:
        print()
        scalar = [name for name in args.contenders if name in scalar_programs.CONTENDERS]
        scalar_programs.run(scalar_programs.WORKLOADS, scalar, scalar_programs.Settings(repeat=args.repeat))


if __name__ == "__main__":
    sys.exit(main())
