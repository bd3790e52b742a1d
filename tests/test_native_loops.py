"""Loops in native programs (compiler/native_loops.py): a repeating stretch of the tape is run by code
written for its body, and must give the interpreter's numbers, hence the engine's, to the bit.

Random loop bodies run their loop's text as plain Python (the numba function's py_func), so that each
example costs no compile; the fixed programs below run it compiled, as a user's call does.
"""

from __future__ import annotations

import functools
import math
import pickle
import struct
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz_gradients import OPS, programs

from chainrule import Value, jit, value_and_grad
from chainrule import math as cmath
from chainrule.floatmath import DomainError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import scalar_programs  # the benchmark's oscillator, as a user writes it

pytestmark = pytest.mark.usefixtures("numba")


def bits(numbers):
    return [struct.pack("<d", x) if not math.isnan(x) else "nan" for x in numbers]


def engine(fn, at):
    """fn's value and gradient by the engine."""
    leaves = [Value(x) for x in at]
    out = fn(*leaves)
    out.backward()
    return [out.data, *(leaf.grad for leaf in leaves)]


def compiled(fn, at):
    """jit(value_and_grad(fn), backend="native")'s value and gradient, and its program."""
    f = jit(value_and_grad(fn, argnums=tuple(range(len(at)))), backend="native")
    value, grads = f(*at)
    return [value, *grads], f._last.program


def coverage(program):
    """The share of the program's op nodes its loops run."""
    ops = len(program._values) - program._start
    return sum(loop.period * loop.count for loop in program._loops) / ops


def oscillator(k, c, x0, steps=300):
    data = [math.sin(0.01 * t) for t in range(steps)]
    return scalar_programs.oscillator(k, c, x0, data, 0.01)


def with_calls(x, y, steps=200):
    """A body that calls functions (tanh, exp, log), raises to a power and takes a branch-free max."""
    total = 0.0
    for _ in range(steps):
        x, y = cmath.tanh(x * 1.01 + 0.1 * y), y + 0.01 * cmath.exp(-x * x) * cmath.log(2.0 + x**2)
        total = total + (x - 0.3) ** 3 + (y * 0.5).relu()
    return total


def reads_its_first_pass(x, steps=200):
    """Every pass reads a node the loop's first pass made (a stride of 0 inside the loop)."""
    anchor = None
    for _ in range(steps):
        x = x * 0.99 + (0.0 if anchor is None else anchor * 0.01)
        anchor = x if anchor is None else anchor
    return x


def two_loops(x, y, steps=400):
    for _ in range(steps):
        x = x * 0.9 + y * 0.1
    for _ in range(steps):
        y = cmath.sin(y) * x + 0.5
    return x * y


PROGRAMS = [
    (oscillator, (1.5, 0.3, 1.0)),
    (with_calls, (0.2, -0.4)),
    (reads_its_first_pass, (0.7,)),
    (two_loops, (0.3, 0.8)),
]


@pytest.mark.parametrize("fn, at", PROGRAMS, ids=[fn.__name__ for fn, _ in PROGRAMS])
def test_loops_give_the_engines_numbers_to_the_bit(fn, at):
    numbers, program = compiled(fn, at)
    assert program._loops, "no loop was found"
    assert coverage(program) > 0.8
    assert bits(numbers) == bits(engine(fn, at))


@pytest.mark.parametrize("fn, at", PROGRAMS[:2], ids=[fn.__name__ for fn, _ in PROGRAMS[:2]])
def test_loops_give_the_interpreters_numbers(fn, at, monkeypatch):
    rolled, _ = compiled(fn, at)
    from chainrule.compiler import native_loops

    monkeypatch.setattr(native_loops, "MIN_NODES", 10**12)  # no loop is worth its compile: all interpreted
    interpreted, program = compiled(fn, at)
    assert not program._loops
    assert bits(rolled) == bits(interpreted)


def test_a_loop_over_closed_over_parameters_gives_their_gradients():
    """jit(f)(...).backward(): the forward pass runs the loops, the backward pass is the interpreter's."""
    k, c = Value(1.5), Value(0.3)
    f = jit(lambda x0: oscillator(k, c, x0), backend="native")
    out = f(1.0)
    out.backward()
    assert f._last.program._loops
    k2, c2 = Value(1.5), Value(0.3)
    expected = oscillator(k2, c2, Value(1.0))
    expected.backward()
    assert bits([out.data, k.grad, c.grad]) == bits([expected.data, k2.grad, c2.grad])


def test_an_error_inside_a_loop_is_the_engines():
    def falls(x, steps=200):
        for _ in range(steps):
            x = cmath.log(x) + 1.5  # from x = 0.1, log's argument goes below 0 after a few passes
            x = x - 1.0
        return x

    with pytest.raises(DomainError) as from_engine:
        falls(Value(3.0))
    with pytest.raises(DomainError) as from_jit:
        jit(falls, backend="native")(3.0)
    assert str(from_jit.value) == str(from_engine.value)


def test_a_shipped_program_keeps_its_loops():
    f = jit(value_and_grad(oscillator, argnums=(0, 1, 2)), backend="native")
    at_home = f(1.5, 0.3, 1.0)
    shipped = pickle.loads(pickle.dumps(f))
    assert bits([shipped(1.5, 0.3, 1.0)[0], *shipped(1.5, 0.3, 1.0)[1]]) == bits([at_home[0], *at_home[1]])
    assert shipped._last.program._loops


@st.composite
def loops(draw):
    """A fuzzer's random program as a loop's body: its inputs are the state, fed back through tanh."""
    body = draw(programs(max_inputs=3, max_ops=8))
    steps = draw(st.integers(30, 60))
    return body, steps


def looped(body, steps):
    def fn(*state):
        state = list(state)
        for _ in range(steps):
            nodes = [*state]
            for ins in body.body:
                nodes.append(OPS[ins.op][0](nodes[ins.a], nodes[ins.b], ins.c))
            state = [cmath.tanh(nodes[-1 - i]) for i in range(len(state))]
        total = state[0]
        for s in state[1:]:
            total = total + s
        return total

    return fn


def outcome(run):
    """bits of the numbers run() returns, or the error it raises (its type and message)."""
    try:
        return bits(run())
    except (ArithmeticError, ValueError) as error:
        return type(error), str(error)


@given(loops())
def test_random_loops_give_the_engines_numbers(case):
    import numpy as np

    from chainrule import vmap
    from chainrule.compiler import batch_kernel, native_loops, paths

    body, steps = case
    fn = looped(body, steps)
    programs_made = []

    def jitted():
        numbers, program = compiled(fn, body.inputs)
        programs_made.append(program)
        return numbers

    points = [tuple(x * scale for x in body.inputs) for scale in (1.0, 0.9, 1.1, 0.95, 1.05, 0.5, 1.2)]

    def batched(f):
        values, grads = vmap(f)(*map(list, zip(*points)))
        return [x for column in (values, *grads) for x in column]  # column by column

    def one_by_one(f):
        calls = [[value, *gradient] for value, gradient in (f(*point) for point in points)]
        return [row[k] for k in range(len(calls[0])) for row in calls]

    expected = outcome(lambda: engine(fn, body.inputs))
    compile_loop = native_loops.function
    for small_graph in (paths.SMALL_GRAPH, 0):  # 0: f alone, its own backward pass (run_back)
        programs_made.clear()
        # (the loops run as Python on numpy floats, which warn of an inf or a NaN; numba's code does not)
        with pytest.MonkeyPatch.context() as patch, np.errstate(all="ignore"):
            patch.setattr(native_loops, "MIN_NODES", 16)
            patch.setattr(paths, "SMALL_GRAPH", small_graph)
            patch.setattr(batch_kernel, "CHUNK", batch_kernel.CHUNK_LEAST)  # 7 points: a chunk short
            patch.setattr(native_loops, "function", lambda loop, name="run": compile_loop(loop, name).py_func)
            assert outcome(jitted) == expected
            if programs_made and not programs_made[0]._in_python:  # a pass with a node Python computes
                assert programs_made[0]._loops  # stays on the interpreter
            f = jit(value_and_grad(fn, argnums=tuple(range(len(body.inputs)))), backend="native")
            # the same numbers, or the same error (the first point's that raises)
            assert outcome(functools.partial(batched, f)) == outcome(functools.partial(one_by_one, f))


@pytest.mark.parametrize("together", [True, False], ids=["chunks of points", "point by point"])
def test_vmap_of_a_program_with_loops_is_the_points_one_by_one(together, monkeypatch):
    """A small program's points run in chunks through the loops' batch bodies (a gradient's program
    through their backward batch bodies too); a big one's one at a time through their bodies for one
    point (batch_kernel.CACHED decides): each the calls' numbers."""
    from chainrule import vmap
    from chainrule.compiler import batch_kernel, batch_native

    if not together:
        monkeypatch.setattr(batch_kernel, "CACHED", 0)
    monkeypatch.setattr(batch_native, "SHARED_WORK", 0)  # the chunks on a thread per core, however small
    forward = jit(lambda k, c, x0: (oscillator(k, c, x0),), backend="native")
    both = jit(value_and_grad(oscillator, argnums=(0, 1, 2)), backend="native")
    # 151 points: on 2 cores or more, the last chunk is short
    points = [(1.5 + 0.01 * i, 0.3 - 0.002 * i, 1.0 + 0.03 * i) for i in range(151)]
    chunked, run_batch = [], batch_native._in_chunks
    monkeypatch.setattr(batch_native, "_in_chunks", lambda *args: chunked.append(run_batch(*args)))
    (values,) = vmap(forward)(*map(list, zip(*points)))
    assert bool(chunked) == together, "the batch did not run as its size says"
    assert forward._last.program._loops
    outputs, grads = vmap(both)(*map(list, zip(*points)))
    assert both._last.program._loops and len(chunked) == 2 * together  # (its gradient: f alone)
    for i, point in enumerate(points):
        value, grad = both(*point)
        assert bits([values[i], outputs[i], *(g[i] for g in grads)]) == bits([value, value, *grad])


def made_then_read(x, steps=300):
    """A value each pass of one loop makes and only a later loop reads (never its own pass)."""
    ys = []
    for _ in range(steps):
        ys.append(x * 2.0)
        x = x * 0.999
    total = x
    for y in ys:
        total = total * 0.5 + y
    return total


def one_loop_into_another(x, steps=600):
    """A second loop whose first pass reads the first loop's last pass as its pass before."""
    for _ in range(steps):
        x = x * 0.999
    for _ in range(steps // 2):
        x = x * 0.998 + 0.001
    return x


def anchored(x, steps=60):
    """Every pass reads a node of the loop's first pass, far behind its reader (a stride of 0)."""
    first = None
    for _ in range(steps):
        a = x * 1.01
        for _ in range(5):
            a = a * 0.999
        w = a
        for _ in range(20):
            w = w * 0.999 + 0.001
        first = a if first is None else first
        x = w * 0.5 + first * 0.5
    return x


@pytest.mark.parametrize("fn", [made_then_read, one_loop_into_another, anchored])
def test_what_a_loop_stores_and_reads_gives_the_engines_numbers(fn):
    """A value gradient's program keeps only what is read: the values another loop reads from the array,
    a pass before carried in from another loop, a node of the first pass read by every later one."""
    numbers, program = compiled(fn, (0.7,))
    assert program._loops
    assert bits(numbers) == bits(engine(fn, (0.7,)))
    outputs = jit(lambda x: (fn(x),), backend="native")  # a tuple out: forward only, keeps its outputs
    assert bits([outputs(0.7)[0]]) == bits([fn(Value(0.7)).data])
    assert outputs._last.program._loops


def from_the_start(x0):
    """The oscillator's loss as a function of x0 alone: its velocity is carried from pass to pass and
    read by nothing else."""
    return oscillator(1.5, 0.3, x0)


@pytest.mark.parametrize("fn", [made_then_read, one_loop_into_another, from_the_start])
def test_vmap_of_loops_that_carry_only_in_locals(fn):
    """In a batch each point's pass before is read from the array: a value carried from pass to pass
    and read by no one else must be stored there too."""
    from chainrule import vmap

    f = jit(lambda x: (fn(x),), backend="native")
    points = [0.5 + 0.01 * i for i in range(70)]
    (batched,) = vmap(f)(points)
    assert f._last.program._loops
    assert bits(batched) == bits([f(x)[0] for x in points])


def test_a_compiled_loop_reads_the_parameters_as_they_are_at_each_call():
    """Nothing of a call stays behind for the next: parameters changed between calls, programs of two
    lengths sharing one compiled body, called in turn, each give the engine's numbers."""
    k, c = Value(1.5), Value(0.3)
    lengths = {
        steps: jit(lambda x0, n=steps: oscillator(k, c, x0, n), backend="native") for steps in (300, 450)
    }
    for k_data, x0, steps in [
        (1.5, 1.0, 300),
        (2.5, 0.5, 300),
        (2.5, 0.5, 450),
        (0.7, -1.0, 300),
        (0.7, 2.0, 450),
    ]:
        k.data = k_data
        k.grad = c.grad = 0.0
        f = lengths[steps]
        out = f(x0)
        out.backward()
        assert f._last.program._loops
        k2, c2 = Value(k_data), Value(0.3)
        expected = oscillator(k2, c2, Value(x0), steps)
        expected.backward()
        assert bits([out.data, k.grad, c.grad]) == bits([expected.data, k2.grad, c2.grad])
    texts = [{loop.text for loop in f._last.program._loops} for f in lengths.values()]
    assert texts[0] & texts[1], "the two lengths share no compiled body"


def overflowing(x, steps=400):
    """A loop whose values overflow to inf, then meet 0 (0 · inf is NaN) and a zero slope."""
    total = 0.0
    for _ in range(steps):
        x = x * 10.0
        total = total + x * 0.0 + (x - x).relu()
    return total + x


def test_infinities_and_nans_in_a_loop_are_the_engines():
    numbers, program = compiled(overflowing, (3.0,))
    assert program._loops
    assert bits(numbers) == bits(engine(overflowing, (3.0,)))
    assert any(math.isnan(x) for x in numbers) and any(math.isinf(x) for x in numbers)


@given(st.lists(st.booleans(), max_size=200), st.integers(1, 300))
def test_the_runs_too_short_for_a_loop_are_the_ones_its_check_refuses(flags, period):
    """_stretches skips a run shorter than _shortest(period) before it counts its passes and nodes:
    exactly the runs that count refuses (written out here as _stretches has it), whatever the period."""
    import numpy as np

    from chainrule.compiler import native_loops as loops

    shortest = loops._shortest(period)
    for length in range(0, shortest + 3 * period):
        count = (length + period) // period
        assert (length >= shortest) == (count * period >= loops.MIN_NODES and count >= loops.MIN_PASSES)
    every = loops._runs(np.array(flags, bool))
    assert loops._runs(np.array(flags, bool), 4) == [(low, high) for low, high in every if high - low >= 4]
