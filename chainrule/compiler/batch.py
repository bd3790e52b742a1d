"""vmap: a function applied to a batch of points, its results stacked, as JAX's vmap shapes it.

`vmap(f)(xs, ys)` is `[f(xs[0], ys[0]), f(xs[1], ys[1]), …]` with the results stacked: each argument has a
leading batch axis (a list, a tuple or a numpy array, one entry per point, each entry what f takes), and
each number of f's result becomes a list (a numpy array if any argument was one) of that number at every
point, nested as f nests its result. For `f = jit(g, backend="native")` the whole batch runs natively,
spread over the machine's cores (chunks of points through batch_kernel.py's passes and the loops'
batch bodies on a thread per core, or point by point if a chunk would not fit in the cache): the
numbers are those of the calls one by one, to the bit. Any
other f, or a point the batched pass cannot take (another argument shape, an op Python computes, a
number where floatmath would raise), is called point by point: the same numbers and errors.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chainrule.compiler.python_code import Restructure
from chainrule.runtime import trees

__all__ = ["Batched", "vmap"]

# batches from several threads take turns: each already uses every core
_ONE_BATCH_AT_A_TIME = threading.Lock()
# node-points (nodes × points) of a batch below which its chunks run in the calling thread: measured
# on 2 cores, 1,000 points of a 10-node f took 0.9 ms so, 2.2 ms on two threads; of the oscillator
# at 500 steps (7 million) 5.6 ms against 8.4; at 1,500 steps (21 million) 24 ms against 18
SHARED_WORK = 1 << 23


def _length(arg: Any, position: int) -> int:
    if hasattr(arg, "shape") and hasattr(arg, "tolist"):  # a numpy array
        if not arg.shape:
            raise ValueError(f"vmap: argument {position} is a 0-d array: it has no batch axis to map over")
        return int(arg.shape[0])
    if isinstance(arg, list | tuple):
        return len(arg)
    raise TypeError(
        f"vmap: argument {position} has no batch axis: give a list, tuple or numpy array with one entry "
        f"per point (got {type(arg).__name__}); close over what every point shares instead"
    )


def _points(args: tuple) -> tuple[list[tuple], bool]:
    """The arguments of each point, and whether any argument was a numpy array."""
    if not args:
        raise TypeError("vmap: the mapped function needs at least one argument with a batch axis")
    lengths = [_length(arg, i) for i, arg in enumerate(args)]
    if len(set(lengths)) > 1:
        shown = ", ".join(f"argument {i}: {n}" for i, n in enumerate(lengths))
        raise ValueError(f"vmap: the arguments' batch axes differ in length ({shown}): give each point once")
    if lengths[0] == 0:
        raise ValueError("vmap: an empty batch (length 0): there is no point to call the function at")
    arrays = [hasattr(arg, "tolist") for arg in args]
    # an array's points: its rows as arrays (f sees the shape it is written for), or its numbers as floats
    columns = [_rows(arg) if array else list(arg) for arg, array in zip(args, arrays)]
    return list(zip(*columns)), any(arrays)


def _rows(array: Any) -> list[Any]:
    return list(array) if array.ndim > 1 else array.tolist()


def _stacked(results: Sequence[Any], as_array: bool) -> Any:
    """The points' results, stacked: each number becomes the list (array) of it over the points."""
    first = results[0]
    if isinstance(first, list | tuple):  # a namedtuple's fields too (jit returns f's own tree)
        items = [_stacked([r[i] for r in results], as_array) for i in range(len(first))]
        return type(first)(*items) if hasattr(first, "_fields") else type(first)(items)
    if isinstance(first, dict):
        return {key: _stacked([r[key] for r in results], as_array) for key in first}
    if trees.is_array(first):
        import numpy as np

        return np.stack(results)
    column = [float(r) for r in results]
    if as_array:
        import numpy as np

        return np.array(column)
    return column


class Batched:
    """fn mapped over a leading batch axis of every argument. See `vmap`."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        if not callable(fn):
            raise TypeError(f"vmap: expected a function to map, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(
                f"vmap: keyword arguments are not mapped (got {', '.join(sorted(kwargs))}): pass them "
                "positionally with a batch axis, or close over them"
            )
        points, as_array = _points(args)
        stacked = self._native(points, as_array)
        if stacked is None:
            return _stacked([self.fn(*point) for point in points], as_array)
        return stacked

    def _native(self, points: list[tuple], as_array: bool) -> Any:
        """The stacked results of every point by the native batch; None where it cannot take them."""
        from chainrule.compiler import Jitted

        fn = self.fn
        if not isinstance(fn, Jitted) or fn.backend != "native":
            return None
        fn(*points[0])  # traces if need be, and makes the path of this shape the latest
        path = fn._last
        # guards (fn branches) would have to be checked point by point; a dict or an array out too
        if path is None or path.guards is not None or not _plain(path.outputs):
            return None
        program = path.program
        try:
            numbers = [program.unpack(point) for point in points]
        except Restructure:  # another shape, or numbers that are not floats: the calls one by one
            return None
        return _native_batch(program, numbers, as_array)


def _nest(outputs: Any, columns: Iterator[Any]) -> Any:
    return next(columns) if isinstance(outputs, int) else tuple(_nest(item, columns) for item in outputs)


def _native_batch(program: Any, numbers: list[list[float]], as_array: bool) -> Any:
    """A NativeProgram's outputs at every point, each a column over the points: chunks of points on a
    thread per core (_in_chunks), or the points one by one where a chunk would not stay in the cache;
    None if it has a node Python computes, or a point raised (the calls one by one then raise the
    engine's own error)."""
    if program._in_python:
        return None
    from chainrule.compiler import batch_kernel
    from chainrule.compiler.native import np

    module = batch_kernel.load(program.kernel)
    base = program._values.copy()
    base[program._inputs : program._live_end] = [leaf.data for leaf in program._live]
    points = np.array(numbers, dtype=np.float64).reshape(len(numbers), program._inputs)
    if program.gradients:  # a value and its gradients at each point: the program's own passes, per point
        outputs: Any = tuple(range(program._with_value + len(program._sources)))
    else:
        outputs = program._outputs if program.several else program._root
    results = np.empty((len(numbers), len(outputs) if program.gradients else len(program._output_slots)))
    # a chunk's columns stay in the cache (a gradient's program has a row of gradients too), or its
    # points run one by one: measured, a chunk of a big program's points out of the cache took longer
    in_cache = min(batch_kernel.CHUNK, batch_kernel.CACHED // (len(base) * (2 if program.gradients else 1)))
    try:
        with _ONE_BATCH_AT_A_TIME:
            if in_cache < batch_kernel.CHUNK_LEAST:
                _point_by_point(program, base, points, results)
            else:
                _in_chunks(program, module, base, points, results, in_cache)
    # a point where floatmath raises, in any thread (the pool hands its error on): the calls one by one
    # say which, with the engine's own error
    except (ArithmeticError, ValueError):
        return None
    columns = [results[:, k].copy() if as_array else results[:, k].tolist() for k in range(results.shape[1])]
    nested = _nest(outputs, iter(columns))
    return nested if program.outputs is None else trees.unflatten(program.outputs, nested)


def _point_by_point(program: Any, base: Any, points: Any, results: Any) -> None:
    """Each point's outputs by the program's own passes, as its calls compute them, on a thread per
    core (numba's code lets go of the GIL), each in a copy of the program's state."""
    from chainrule.compiler import native_kernel

    inputs, start, threads = program._inputs, program._start, os.cpu_count() or 1

    def run_points(first: int) -> None:
        state = program._state.copy()
        values = state[native_kernel.STATE_ROWS.index("VALUES")]
        values[:start] = base[:start]
        for p in range(first, len(points), threads):
            values[:inputs] = points[p]
            results[p] = program.outputs_at(state)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run_points, range(threads)))


def _in_chunks(program: Any, module: Any, base: Any, points: Any, results: Any, chunk: int) -> None:
    """The batch of a program with loops or gradients: chunks of points together (the interpreter's
    stretches by batch_kernel's chunk functions, the loops by their bodies' batch forms, each in
    turn), the chunks shared among threads. A gradient's program then runs its backward pass the
    same way and gives each point's value and its sources' gradients, as its calls do."""
    from chainrule.compiler import native_kernel, native_loops
    from chainrule.compiler.native import np

    inputs, start, size = program._inputs, program._start, len(base)
    threads = min(os.cpu_count() or 1, -(-len(points) // chunk))
    if size * len(points) < SHARED_WORK:  # a thread's start costs more than its share would take
        threads = 1
    forward_runs = [native_loops.function(loop, "run_batch") for loop in program._loops]
    back_runs = [native_loops.function(loop, "run_back_batch") for loop in program._loops]
    exponent = program._state[native_kernel.STATE_ROWS.index("EXPONENT")]
    code = program._program
    outputs = program._output_slots

    def run_chunks(first: int) -> None:
        # a thread's arrays: the leaves' rows are written once, the op nodes' rows are written before
        # they are read, and the gradients' rows a pass reads are zeroed at each chunk
        values = np.empty((size, chunk))
        grads = np.empty((size, chunk) if program.gradients else 0)
        values[:start] = base[:start, None]

        def forward(a: int, b: int) -> None:
            module.forward_chunk(code, exponent, values, a, b)

        def backward(low: int, stop: int) -> None:
            module.backward_chunk(code, exponent, values, grads, low, stop - 1)

        for lo in range(first * chunk, len(points), threads * chunk):
            hi = min(len(points), lo + chunk)
            values[:inputs, : hi - lo] = points[lo:hi].T
            values[:inputs, hi - lo :] = points[hi - 1, :, None]  # a short chunk: its last point again
            native_loops.run_stretches(program._loops, forward_runs, start, size, forward, (values,))
            if not program.gradients:
                results[lo:hi] = values[outputs, : hi - lo].T
                continue
            program._seeded(grads)
            if program._backward_runs:
                arrays = (values, grads)
                native_loops.run_stretches(program._loops, back_runs, start, size, backward, arrays, True)
            columns = np.array(program._gathered(values, grads, np.zeros(chunk)))
            results[lo:hi] = columns[:, : hi - lo].T

    if threads == 1:
        run_chunks(0)
        return
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run_chunks, range(threads)))


def _plain(spec: Any) -> bool:
    """Whether a tree's spec is tuples and lists only (the columns then nest as it does)."""
    if spec is None or spec is trees.LEAF:
        return True
    return spec.kind in (list, tuple) and all(_plain(item) for item in spec)


def vmap(fn: Callable[..., Any]) -> Batched:
    """fn over a batch: every argument has a leading batch axis; the results are stacked the same way.

    `vmap(f)(xs, ys)[i]` is `f(xs[i], ys[i])` (for a result that is a tuple, each of its numbers is a
    list, or a numpy array if any argument was one). For `jit(f, backend="native")` the batch runs
    natively in chunks of points over all cores, with the numbers of the calls one by one, to the bit.
    """
    return Batched(fn)
