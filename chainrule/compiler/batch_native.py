"""A native program's batch: chunks of points through the chunk functions, on a thread per core.

batch.py (`vmap`) hands a NativeProgram and its points here. The points run in chunks: the
interpreter's stretches by batch_kernel.py's chunk passes, each loop by its chunk functions
(loop_chunks.py), forward and then backward; or point by point on threads, for a program too big for
a chunk in the cache. Each point gets the operations of its own call, in the same order: the same
bits. A point where floatmath raises gives None, and vmap calls the points one by one, which raise
the engine's own error.
"""

from __future__ import annotations

import mmap
import os
import threading
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chainrule.runtime import trees

# batches from several threads take turns: each already uses every core
_ONE_BATCH_AT_A_TIME = threading.Lock()
# node-points (nodes × points) of a batch below which its chunks run in the calling thread: measured
# on 2 cores, best of 25, the oscillator's value and gradient at 1,000 points: at 100 steps (1.4
# million) 1.2 ms so, 2.0 ms on two threads; at 500 steps (7 million) 2.6 ms against 2.1
SHARED_WORK = 1 << 22
# a chunk narrower than this runs its loop over the points as scalar code (LLVM vectorises the loop for
# 56 points and more): measured at 50,000 steps, 100 points in two chunks of 50 took 18.9 ms, of 64
# (the last points repeated) 15.4 ms; a chunk of more than half of it is faster widened to it
VECTOR_LEAST = 64


_POOL: list[tuple[int, ThreadPoolExecutor]] = []  # (the process that made it, a thread per core)


def _threads() -> ThreadPoolExecutor:
    """A thread per core, kept from batch to batch (starting two took 0.37 ms, a batch of the
    oscillator at 500 steps 3 ms); made again in a process forked from one that had it, where its
    threads are gone."""
    if not _POOL or _POOL[0][0] != os.getpid():
        _POOL[:] = [(os.getpid(), ThreadPoolExecutor(os.cpu_count() or 1, "chainrule-vmap"))]
    return _POOL[0][1]


def _chunk_width(points: int, threads: int, widest: int) -> int:
    """Points a chunk holds: as few chunks as `widest` allows, their number rounded up to a multiple of
    the threads (no more threads than the points fill chunks of VECTOR_LEAST, where a chunk may be that
    wide), as even as the points allow; then widened to VECTOR_LEAST if over half of it. Measured: at
    500 steps, 1,000 points in chunks of 64 took 2.3 ms, of 250 1.6."""
    if widest >= VECTOR_LEAST:
        threads = min(threads, -(-points // VECTOR_LEAST))
    chunks = threads * -(-points // (threads * widest))
    width = -(-points // chunks)
    return VECTOR_LEAST if VECTOR_LEAST // 2 < width < VECTOR_LEAST <= widest else width


def _nest(outputs: Any, columns: Iterator[Any]) -> Any:
    return next(columns) if isinstance(outputs, int) else tuple(_nest(item, columns) for item in outputs)


def native_batch(program: Any, numbers: list[list[float]], as_array: bool) -> Any:
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
    touched = _read_at_every_point(program)[1]
    in_cache = min(batch_kernel.CHUNK, batch_kernel.CACHED // (touched * (2 if program.gradients else 1)))
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


_READ_AT_EVERY_POINT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _read_at_every_point(program: Any) -> tuple[Any, int]:
    """(the slots below the op nodes, leaves, that a chunk reads at every point: the parents of the
    interpreter's nodes, the loops' leaves_read, the outputs; and the rows a chunk touches). The other
    leaves are read by the loops from `base`, once a pass for every point: at 50,000 steps the data's
    150,000 leaves were 77 MB a thread to copy to every point of a chunk."""
    found = _READ_AT_EVERY_POINT.get(program)
    if found is not None:
        return found
    from chainrule.compiler import native_kernel
    from chainrule.compiler.native import np

    start, size = program._start, len(program._values)
    outside = np.ones(size - start, bool)
    reads = [np.array([program._root, *program._output_slots], np.int64)]
    touched = size
    for loop in program._loops:
        outside[loop.start - start : loop.stop - start] = False
        touched -= (loop.count - 2) * loop.period  # a pass's rows, the last's; checkpoints are written once
        reads.append(loop.leaves_read)
    rows = dict(zip(native_kernel.PROGRAM_ROWS, program._program))
    reads += [rows[name][start:][outside].astype(np.int64) for name in ("FIRST", "SECOND")]
    every = np.unique(np.concatenate(reads))
    every = every[(every >= program._inputs) & (every < start)]
    touched -= start - program._inputs - len(every)
    _READ_AT_EVERY_POINT[program] = found = (every, touched)
    return found


# per program, a thread's buffers of a chunk's values and gradients, kept from batch to batch: a fresh
# array's pages are zeroed by the system as a pass first writes them (the checkpoints of a loop of
# 50,000 steps: 30 of a 36 ms forward pass). A batch at a time (_ONE_BATCH_AT_A_TIME): no two share them
_CHUNK_ARRAYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _sparse(count: int) -> Any:
    """count floats (stale) whose small pages the system gives only to the rows a batch writes. numpy
    asks for huge pages (2 MB) for a big array, and a chunk writes a few rows of every 2 MB of it: at
    50,000 steps, chunks of 250 points, that committed 2.3 GB instead of 66 MB, and the first batch
    took 6.6 s instead of 0.12. (Where there is no MADV_NOHUGEPAGE, numpy's own array.)"""
    from chainrule.compiler.native import np

    if not count or not hasattr(mmap, "MADV_NOHUGEPAGE"):
        return np.empty(count)
    memory = mmap.mmap(-1, count * 8)
    memory.madvise(mmap.MADV_NOHUGEPAGE)
    return np.frombuffer(memory, np.float64)


def _chunk_arrays(program: Any, thread: int, chunk: int) -> tuple[Any, Any]:
    """A thread's arrays of a chunk's values and gradients, a row per slot (what they hold is stale):
    views of buffers kept for the widest chunk yet, so that a batch of another size reuses them."""
    held = _CHUNK_ARRAYS.setdefault(program, {})
    size, arrays = len(program._values), 2 if program.gradients else 1
    if thread not in held or len(held[thread][0]) < size * chunk:
        held[thread] = tuple(_sparse(size * chunk) for _ in range(arrays))
    values, *grads = (buffer[: size * chunk].reshape(size, chunk) for buffer in held[thread])
    return values, grads[0] if grads else None


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

    list(_threads().map(run_points, range(threads)))


def _in_chunks(program: Any, module: Any, base: Any, points: Any, results: Any, chunk: int) -> None:
    """The batch of a program with loops or gradients: chunks of points together (the interpreter's
    stretches by batch_kernel's chunk functions, the loops by their chunk functions, each in turn),
    the chunks shared among threads. A gradient's program then runs its backward pass the
    same way and gives each point's value and its sources' gradients, as its calls do."""
    from chainrule.compiler import loop_chunks, native_kernel, native_loops
    from chainrule.compiler.native import np

    inputs, start, size = program._inputs, program._start, len(base)
    threads = os.cpu_count() or 1
    if size * len(points) < SHARED_WORK:  # a thread's start costs more than its share would take
        threads = 1
    chunk = _chunk_width(len(points), threads, chunk)
    threads = min(threads, -(-len(points) // chunk))
    forward_runs = [native_loops.function(loop, "run_batch") for loop in program._loops]
    back_runs = [native_loops.function(loop, "run_back_batch") for loop in program._loops]
    exponent = program._state[native_kernel.STATE_ROWS.index("EXPONENT")]
    code = program._program
    outputs = program._output_slots

    every = _read_at_every_point(program)[0]
    carried, summed = (max([loop.scratch[i] for loop in program._loops], default=0) for i in (0, 1))
    # the points in the order of i % chunks, so that each chunk (each thread's share) holds points from
    # all over the batch, whose cost may vary along it; the results go back to the points' own order
    order = np.argsort(np.arange(len(points)) % -(-len(points) // chunk), kind="stable")
    points, in_order = points[order], results
    results = np.empty_like(in_order)

    def run_chunks(first: int) -> None:
        # a thread's arrays: the leaves' rows each point reads are written once, the op nodes' rows are
        # written before they are read, and the gradients' rows a pass reads are zeroed at each chunk
        values, grads = _chunk_arrays(program, first, chunk)
        values[every] = base[every, None]
        flat = values.reshape(-1)  # the loops' chunk functions take their arrays flat (loop_chunks.py)
        hold = np.empty(carried * chunk)
        passes, sums = np.empty(loop_chunks.SEGMENT * carried * chunk), np.empty(summed * chunk)

        def forward(a: int, b: int) -> None:
            module.forward_chunk(code, exponent, values, a, b)

        def backward(low: int, stop: int) -> None:
            module.backward_chunk(code, exponent, values, grads, low, stop - 1)

        for lo in range(first * chunk, len(points), threads * chunk):
            hi = min(len(points), lo + chunk)
            values[:inputs, : hi - lo] = points[lo:hi].T
            values[:inputs, hi - lo :] = points[hi - 1, :, None]  # a short chunk: its last point again
            ahead = (flat, chunk, hold, base)
            native_loops.run_stretches(program._loops, forward_runs, start, size, forward, ahead)
            if not program.gradients:
                results[lo:hi] = values[outputs, : hi - lo].T
                continue
            program._seeded(grads)
            if program._backward_runs:
                back = (flat, grads.reshape(-1), chunk, hold, passes, sums, base)
                native_loops.run_stretches(program._loops, back_runs, start, size, backward, back, True)
            columns = np.array(program._gathered(values, grads, np.zeros(chunk)))
            results[lo:hi] = columns[:, : hi - lo].T

    if threads == 1:
        run_chunks(0)
    else:
        list(_threads().map(run_chunks, range(threads)))
    in_order[order] = results
