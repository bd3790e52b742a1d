"""A parameter sweep on Dask's distributed scheduler: one compiled program, shipped to every worker.

The damped oscillator x'' = -k·x - c·x' (explicit Euler, 500 steps of dt = 0.01, from x0 = 1) is fitted
to data made at k = 4, c = 0.3; the sweep evaluates the loss and its gradient in k and c on a grid of
(k, c). `jit(value_and_grad(loss), backend="native")` is traced once, here; Dask pickles it with its
program (the tape as arrays, not the trace) for each worker, which runs it without tracing again, in
batches by chainrule.vmap. The same code runs on a real cluster: give `Client` its scheduler's address.

Run: python examples/dask_sweep.py [--workers 2] [--grid 8]
"""

from __future__ import annotations

import argparse

import chainrule
from chainrule import jit, value_and_grad, vmap

STEPS, DT = 500, 0.01


def trajectory(k: float, c: float, x0: float = 1.0) -> list[float]:
    """Positions x_1 … x_STEPS in plain floats."""
    x, v, xs = x0, 0.0, []
    for _ in range(STEPS):
        x, v = x + DT * v, v + DT * (-k * x - c * v)
        xs.append(x)
    return xs


DATA = trajectory(4.0, 0.3)


def loss(k: chainrule.Value, c: chainrule.Value) -> chainrule.Value:
    """Σ (x_t - data_t)², the oscillator run with Values (traced once by jit)."""
    x, v, total = 1.0, 0.0, 0.0
    for d in DATA:
        a = -k * x - c * v
        x, v = x + DT * v, v + DT * a
        r = x - d
        total = total + r * r
    return total


def evaluate(program: chainrule.compiler.Jitted, ks: list[float], cs: list[float]) -> list[tuple]:
    """On a worker: (k, c, loss, dk, dc) at each point of a block of the grid."""
    values, (dk, dc) = vmap(program)(ks, cs)
    return list(zip(ks, cs, values, dk, dc))


def grid(size: int) -> list[tuple[float, float]]:
    return [
        (3.0 + 2.0 * i / (size - 1), 0.1 + 0.5 * j / (size - 1)) for i in range(size) for j in range(size)
    ]


def sweep(client: object, size: int, blocks: int = 4) -> list[tuple]:
    """Every point of the grid, computed by the workers of client (a distributed.Client)."""
    program = jit(value_and_grad(loss, argnums=(0, 1)), backend="native")
    program(4.0, 0.3)  # traced here, once: the workers get the program, not the function to trace
    points = grid(size)
    shipped = client.scatter(program, broadcast=True)  # type: ignore[attr-defined]
    futures = [
        client.submit(evaluate, shipped, [k for k, _ in part], [c for _, c in part])  # type: ignore[attr-defined]
        for part in (points[b::blocks] for b in range(blocks))
    ]
    return sorted(row for rows in client.gather(futures) for row in rows)  # type: ignore[attr-defined]


def main() -> None:
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--grid", type=int, default=8, help="points along k and along c")
    args = parser.parse_args()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1) as cluster, Client(cluster) as client:
        rows = sweep(client, args.grid)
    best = min(rows, key=lambda row: row[2])
    print(f"{len(rows)} points on {args.workers} workers; the least loss {best[2]:.6g}", end=" ")
    print(f"at k = {best[0]:.4g}, c = {best[1]:.4g}")
    for k, c, value, dk, dc in rows[:: max(1, len(rows) // 8)]:
        print(f"k = {k:.4f}  c = {c:.4f}  loss = {value!r}  dk = {dk!r}  dc = {dc!r}")


if __name__ == "__main__":
    main()
