"""A loop's chunk functions (loop_chunks.py) and the native batch around them (batch_native.py): every
point of a vmap gets the bits of its own call, whatever the loop reads and however its passes fall
into segments."""

from __future__ import annotations

import math
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainrule import Value, jit, value_and_grad, vmap

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import scalar_programs  # the benchmark's oscillator, as a user writes it

pytestmark = pytest.mark.usefixtures("numba")

START = Value(0.3)  # a leaf the loops below close over: where a loop's first pass may start from


def bits(numbers):
    return [struct.pack("<d", x) if not math.isnan(x) else "nan" for x in numbers]


def oscillator(k, c, x0, steps=300):
    """Data read at every pass (a leaf each, the same at every point), k and c read by each pass."""
    data = [math.sin(0.01 * t) for t in range(steps)]
    return scalar_programs.oscillator(k, c, x0, data, 0.01)


def parameter_twice(a, b, steps=300):
    """a read twice by each pass: two reads of one slot, whose gradients add up in one row."""
    x = b
    for _ in range(steps):
        x = x * a + a * 0.25
    return x


def from_a_leaf(a, b, steps=300):
    """Starts from a leaf fn closed over; each pass lifts its own two constants (read like a pass
    before's node: they move by the period)."""
    x = START
    for _ in range(steps):
        x = x * 0.998 + a * 0.001 + b
    return x * b


def still_and_moving(x, steps=600):
    """A second loop reads the first's passes in turn and one of them at every pass: that one's
    gradient comes from both reads, so it cannot be summed apart from the array."""
    ys, y = [], x
    for _ in range(steps):
        y = y * 0.999
        ys.append(y)
    total = x
    for y in ys:
        total = total * 0.999 + y * ys[steps // 2]  # (0.5: the lost share fell below an ulp)
    return total


def carried_from_a_parameter(x, steps=60):
    """s, read by every pass, is also what the first pass reads as its pass before: its gradient
    gets shares from both reads (summed apart from the array, one was once lost)."""
    s = x + 0.5
    h = s
    for _ in range(steps):
        a = h * 0.999
        for _ in range(20):
            a = a * 0.999
        h = a + s
    return h


PROGRAMS = [
    (oscillator, (1.5, 0.3, 1.0)),
    (parameter_twice, (0.9, 0.4)),
    (from_a_leaf, (0.7, 0.2)),
    (still_and_moving, (0.8,)),
    (carried_from_a_parameter, (0.7,)),
]


def points_near(at, count=70):
    return [tuple(x * (1.0 + 0.003 * i) for x in at) for i in range(count)]


def one_by_one(f, points):
    return [f(*point) for point in points]


def flat(result):
    """A value_and_grad's (value, (gradients...)) as a flat list."""
    value, grads = result
    return [value, *grads]


@pytest.mark.parametrize("segment", [4, 32, 512], ids=["4 passes", "32 passes", "one segment"])
@pytest.mark.parametrize("fn, at", PROGRAMS, ids=[fn.__name__ for fn, _ in PROGRAMS])
def test_each_point_of_a_chunk_gets_its_calls_bits(fn, at, segment, monkeypatch):
    """Through checkpoints every `segment` passes (a loop of 300 passes: the last segment short), the
    parameters' gradients summed in rows of their own, the leaves read once a pass."""
    from chainrule.compiler import loop_chunks

    monkeypatch.setattr(loop_chunks, "SEGMENT", segment)  # the text is written at the first call
    f = jit(value_and_grad(fn, argnums=tuple(range(len(at)))), backend="native")
    points = points_near(at)
    value, grads = vmap(f)(*map(list, zip(*points)))
    assert f._last.program._loops, "no loop found: the chunk functions were not run"
    for i, point in enumerate(points):
        assert bits([value[i], *(g[i] for g in grads)]) == bits(flat(f(*point)))
    forward = jit(lambda *xs: (fn(*xs),), backend="native")  # forward only: what the last pass keeps
    (values,) = vmap(forward)(*map(list, zip(*points)))
    assert bits(values) == bits([forward(*point)[0] for point in points])


def test_the_loops_use_what_they_are_written_for():
    """The programs above reach the paths they are there for: a parameter's sum, shared reads, a
    parameter read both still and moving kept in the array."""
    made, programs = {}, {}
    for fn, at in PROGRAMS:
        f = jit(value_and_grad(fn, argnums=tuple(range(len(at)))), backend="native")
        f(*at)
        made[fn.__name__] = f._last.program._loops
        programs[fn.__name__] = f._last.program
    assert made["oscillator"][0].scratch[1] == 2  # k's and c's gradients
    assert made["parameter_twice"][0].scratch[1] == 1  # a, read twice: one row
    assert "shared[" in made["oscillator"][0].text  # the data, once a pass
    program = programs["from_a_leaf"]  # START read once, by a pass the loop leaves to the interpreter
    assert [leaf for leaf in program._live if leaf is START] and not made["from_a_leaf"][0].leaves_read.size
    # the passes before the one that reads ys[300] twice: ys[300] read still, and reached by the moving
    # read, so in the array; after it, the moving read has passed it, so summed apart
    before, after = made["still_and_moving"][-2:]
    assert (before.scratch[1], after.scratch[1]) == (0, 1)


def test_a_batch_again_and_another_size_reuse_the_arrays_and_keep_the_bits():
    """A chunk's arrays are kept from batch to batch (what they held is never read): a second batch of
    other points, and one of another size, give their calls' bits."""
    import mmap

    from chainrule.compiler import batch_native

    f = jit(value_and_grad(oscillator, argnums=(0, 1, 2)), backend="native")
    held = []
    for count, scale in ((70, 1.0), (70, 1.1), (5, 0.9), (130, 1.05)):
        points = [tuple(x * scale for x in p) for p in points_near((1.5, 0.3, 1.0), count)]
        value, grads = vmap(f)(*map(list, zip(*points)))
        for i, point in enumerate(points):
            assert bits([value[i], *(g[i] for g in grads)]) == bits(flat(f(*point)))
        held.append(batch_native._CHUNK_ARRAYS[f._last.program][0])
    assert held[0] is held[1] is held[2] is not held[3]  # 5 points in the 70's buffers; 130 need more
    if sys.platform == "linux":  # the system's small pages (batch_native._sparse)
        assert all(isinstance(buffer.base.obj, mmap.mmap) for buffer in held[3])


@pytest.mark.parametrize(
    "as_columns",
    [
        lambda xs: np.array(xs, np.float64),
        lambda xs: np.array(xs, np.float32),
        lambda xs: np.array(xs, np.float16),
        lambda xs: list(xs),
    ],
    ids=["float64 arrays", "float32 arrays", "float16 arrays", "lists"],
)
def test_columns_of_floats_go_in_as_their_calls_take_them(as_columns):
    """Arrays of floats go straight in as columns; every kind gives what its points called one by one
    give (a float32 is the float64 it widens to)."""
    f = jit(value_and_grad(oscillator, argnums=(0, 1, 2)), backend="native")
    columns = [as_columns(column) for column in zip(*points_near((1.5, 0.3, 1.0)))]
    value, grads = vmap(f)(*columns)
    points = zip(*(column.tolist() if hasattr(column, "tolist") else column for column in columns))
    for i, point in enumerate(points):
        assert bits([value[i], *(g[i] for g in grads)]) == bits(flat(f(*point)))


@pytest.mark.parametrize("count", [100, 7, 513], ids=["widened to 64", "one thread", "four chunks of 129"])
def test_chunks_on_two_threads_give_the_calls_bits(count, monkeypatch):
    """On two cores, the chunks as _chunk_width makes them: 100 points as two chunks of 64 on two
    threads (the last one's 28 repeats of its last point), 7 as one chunk on one thread (too few to
    fill two of 64), 513 as four chunks of 129 on two threads."""
    from chainrule.compiler import batch_kernel, batch_native

    monkeypatch.setattr(batch_native, "SHARED_WORK", 0)  # on the threads, however small
    monkeypatch.setattr(batch_native.os, "cpu_count", lambda: 2)
    width = batch_native._chunk_width(count, 2, batch_kernel.CHUNK)
    assert (width == batch_native.VECTOR_LEAST) == (count == 100)  # the widened chunk is reached
    f = jit(value_and_grad(oscillator, argnums=(0, 1, 2)), backend="native")
    points = points_near((1.5, 0.3, 1.0), count)
    value, grads = vmap(f)(*map(list, zip(*points)))
    for i, point in enumerate(points):
        assert bits([value[i], *(g[i] for g in grads)]) == bits(flat(f(*point)))


@given(st.integers(1, 5000), st.integers(1, 8), st.integers(1, 512))
def test_the_chunks_are_few_and_even(points, threads, widest):
    """No chunk wider than the widest; no more chunks than whole rounds of the threads need; fewer
    repeated points than chunks, unless a chunk was widened to VECTOR_LEAST."""
    from chainrule.compiler import batch_native

    width = batch_native._chunk_width(points, threads, widest)
    chunks = -(-points // width)
    assert 1 <= width <= widest
    assert chunks <= threads * -(-points // (threads * widest))
    assert width * chunks - points < chunks or width == batch_native.VECTOR_LEAST


def _batch_in_child(queue):
    from chainrule.compiler import batch_native

    batch_native.SHARED_WORK = 0  # on the threads, however small
    f = jit(value_and_grad(oscillator, argnums=(0, 1, 2)), backend="native")
    points = points_near((1.5, 0.3, 1.0), 130)
    value, _ = vmap(f)(*map(list, zip(*points)))
    queue.put(bits(value) == bits([f(*point)[0] for point in points]))


@pytest.mark.skipif(sys.platform != "linux", reason="fork is Linux's way to start a process")
def test_a_process_forked_after_a_batch_runs_its_own_threads(monkeypatch):
    """The threads of a batch are kept from batch to batch; a process forked from one that had them
    (multiprocessing's default on Linux) has none, and makes its own rather than wait on them."""
    import multiprocessing

    from chainrule.compiler import batch_native

    monkeypatch.setattr(batch_native, "SHARED_WORK", 0)
    f = jit(value_and_grad(oscillator, argnums=(0, 1, 2)), backend="native")
    vmap(f)(*map(list, zip(*points_near((1.5, 0.3, 1.0), 130))))  # the parent's threads, started
    assert batch_native._POOL
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_batch_in_child, args=(queue,))
    child.start()
    child.join(60)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive, "the forked process waited on threads it does not have"
    assert child.exitcode == 0 and queue.get(timeout=10)


WEIGHT = Value(0.97)  # a parameter the loop below closes over: its data read at every batch


def weighted(x, steps=300):
    for _ in range(steps):
        x = x * WEIGHT + 0.01
    return x


def test_a_batch_reads_what_the_closed_over_leaves_hold_now():
    """The chunk arrays and the leaves' rows are kept from batch to batch, the leaves' numbers never:
    a parameter changed between two batches gives the numbers of calls made after the change."""
    f = jit(value_and_grad(weighted), backend="native")
    points = [0.5 + 0.01 * i for i in range(70)]
    try:
        for data in (0.97, 0.5, 0.97):
            WEIGHT.data = data
            value, grad = vmap(f)(points)
            assert bits([*value, *grad]) == bits([*(f(x)[0] for x in points), *(f(x)[1] for x in points)])
    finally:
        WEIGHT.data = 0.97
    assert f._last.program._loops


def test_infinities_and_nans_in_a_batch_are_the_calls():
    """inf, nan and a number whose square overflows (then 0 * inf) through the chunk functions give
    the bits of the calls: no fast path that would make them a number."""
    f = jit(value_and_grad(oscillator, argnums=(0, 1, 2)), backend="native")
    points = points_near((1.5, 0.3, 1.0), 64)
    points[3] = (1.5, 0.3, math.inf)
    points[10] = (math.nan, 0.3, 1.0)
    points[20] = (1.5, 0.3, 1e200)  # its squares overflow to inf
    value, grads = vmap(f)(*map(list, zip(*points)))
    for i, point in enumerate(points):
        assert bits([value[i], *(g[i] for g in grads)]) == bits(flat(f(*point)))
    assert any(math.isnan(g[3]) for g in grads), "the infinite point did not reach a nan"


def test_a_loops_text_holds_no_user_text():
    """The loops' modules are imported as code: a label a user gave a Value the loop reads never
    reaches their text (slots, strides and the table's own names only)."""
    label = "__import__('os')._exit(3)"
    WEIGHT.label = label
    try:
        f = jit(value_and_grad(weighted), backend="native")
        points = [0.5 + 0.01 * i for i in range(70)]
        value, _ = vmap(f)(points)
        (loop,) = f._last.program._loops
        assert "run_back_batch" in loop.text and label not in loop.text and "__import__" not in loop.text
        assert bits(value) == bits([f(x)[0] for x in points])
    finally:
        WEIGHT.label = ""
