"""A native jit of grad or value_and_grad traces f alone and takes its gradients by the program's own
backward pass (loops walked backwards by their bodies' run_back), or for a small f compiles the
gradient's graph (paths.SMALL_GRAPH): both held here to the engine's numbers, to the bit, for every way
a user hands it arguments and every shape f's graph takes."""

from __future__ import annotations

import math
import pickle
import struct

import numpy as np
import pytest

from chainrule import Value, grad, jit, primitive, value_and_grad
from chainrule import math as cmath
from chainrule.compiler import native_loops, paths

pytestmark = pytest.mark.usefixtures("numba")


@pytest.fixture(autouse=True, params=["f alone", "the gradient's graph"])
def compiled_as(request, monkeypatch):
    monkeypatch.setattr(paths, "SMALL_GRAPH", 0 if request.param == "f alone" else 10**9)
    return request.param


def bits(tree):
    """A tree of numbers as its leaves' bytes, so that -0.0 and NaN compare as what they are."""
    if isinstance(tree, dict):
        return {key: bits(item) for key, item in tree.items()}
    if isinstance(tree, list | tuple):
        return [bits(item) for item in tree]
    if hasattr(tree, "tolist"):
        return bits(tree.tolist())
    if math.isnan(tree):
        return "nan"  # a NaN's sign bit is not kept (native.py says why)
    return struct.pack("<d", float(tree))


def agree(fn, *args, argnums=0, **kwargs):
    """fn's value_and_grad and grad, jitted natively, against the engine's, at args."""
    for transform in (value_and_grad, grad):
        compiled = jit(transform(fn, argnums=argnums), backend="native")
        for _ in range(2):  # the second call reuses the program's arrays
            assert bits(compiled(*args, **kwargs)) == bits(transform(fn, argnums=argnums)(*args, **kwargs))
        alone = compiled._last.program.gradients
        assert alone == (paths.SMALL_GRAPH == 0), "the program is not of the kind the test is for"
    return compiled


def test_arguments_of_every_kind_and_argnums():
    agree(lambda x, y: x * y + (x - y).tanh(), 0.7, -1.3, argnums=(0, 1))
    agree(lambda x, y: x * y + (x - y).tanh(), 0.7, -1.3, argnums=1)
    agree(lambda xs, w: sum((x * w).exp() for x in xs), [0.1, 0.2, 0.3], 0.5, argnums=(0, 1))
    agree(lambda d: d["a"] ** 2 * d["b"].sigmoid(), {"a": 1.5, "b": -0.25})
    agree(lambda a: (a * a).sum().log(), np.array([[1.0, 2.0], [3.0, 4.0]]))
    agree(lambda x, scale=2.0: (x * scale).sin(), 0.3, scale=3.0)


def test_unused_arguments_constants_and_f_returning_its_argument():
    agree(lambda x, y: x * 3.0, 2.0, 5.0, argnums=(0, 1))  # y unused: 0.0
    agree(lambda x: x, 2.5)
    agree(lambda x: Value(4.0) + 0.0 * x, 1.0)


def test_closed_over_parameters_keep_their_grad_as_the_python_backend_does():
    w = Value(0.3)
    agree(lambda x: (x * w).tanh() + w, 1.2)  # (the eager calls add into w.grad, as backward() does)
    for backend in ("python", "native"):
        w.grad = 7.0
        jit(value_and_grad(lambda x: (x * w).tanh() + w), backend=backend)(1.2)
        assert w.grad == 7.0, backend


def test_a_branch_on_the_data_is_guarded():
    def huber(x):
        return x * x * 0.5 if x < 1.0 and x > -1.0 else abs(x) - 0.5

    for x in (0.3, 2.0, -3.0, 0.9):
        agree(huber, x)


def test_nodes_python_computes_fire_in_the_backward_pass():
    agree(lambda x, y: cmath.gamma(x) * cmath.hypot(x, y) + cmath.lgamma(y), 2.5, 1.5, argnums=(0, 1))


@primitive(lambda a, b, c, out: b * c, lambda a, b, c, out: a * c, lambda a, b, c, out: a * b)
def product_of_three(a, b, c):
    return a * b * c


def test_a_primitive_of_three_arguments_sends_its_middle_parent_its_share():
    """The only path to x runs through the middle argument of a user's primitive (Python fires it)."""

    def f(x):
        s = x * 1.0
        for _ in range(400):
            s = s * 0.999 + 0.001
        return product_of_three(2.0, s, 5.0)

    agree(f, 1.5)
    w = Value(0.7)
    out = jit(lambda x: product_of_three(x, w * 1.0, x), backend="native")(2.0)
    out.backward()
    assert w.grad == 4.0 == 2.0 * 2.0  # d(x · w · x)/dw at x = 2


def rolled(fn, *args, argnums=0):
    """agree(), after checking that the native program really rolled a loop."""
    compiled = agree(fn, *args, argnums=argnums)
    assert compiled._last.program._loops, "no loop was found: the test would not test run_back"
    return compiled


def oscillator(k, c, x0, steps=400):
    x, v, loss = x0, 0.0, 0.0
    for t in range(steps):
        a = -k * x - c * v
        v = v + 0.01 * a
        x = x + 0.01 * v
        loss = loss + (x - math.cos(0.01 * t)) ** 2
    return loss


def test_a_loop_walked_backwards_gives_the_engines_gradients():
    rolled(oscillator, 1.5, 0.3, 1.0, argnums=(0, 1, 2))
    rolled(lambda k: oscillator(k, 0.3, 1.0), 1.5)  # c and x0 constants: their shares are never sent


def test_a_list_argument_read_in_the_loop_gets_each_entrys_gradient():
    data = [0.01 * i for i in range(600)]
    rolled(lambda xs, w: sum(((x * w).tanh() for x in xs), Value(0.0)), data, 0.7, argnums=(0, 1))


def test_every_pass_reading_the_first_pass():
    def first_read(x, steps=300):
        first = x * 1.5
        y = first
        for _ in range(steps):
            y = y * 0.999 + first * 0.001
        return y

    rolled(first_read, 0.8)


def half_rate_read(x, steps=300):
    """Each pass reads the node of the pass half as far along: a read that moves by another stride
    than the loop's and lands inside the loop, so run_back keeps every pass's gradients in the array."""
    y = x * 1.0
    ys = [y]
    for i in range(steps):
        y = y * 0.999 + ys[i // 2] * 0.001
        ys.append(y)
    return y


def test_a_read_landing_inside_the_loop_keeps_the_gradients_in_the_array():
    compiled = (rolled if paths.SMALL_GRAPH == 0 else agree)(half_rate_read, 0.8)
    if paths.SMALL_GRAPH == 0:  # (the gradient's graph of it has no loop the finder rolls)
        assert any(loop.in_array for loop in compiled._last.program._loops), "no loop of the kind tested"


def test_a_gradient_program_pickles_and_gives_the_same_numbers():
    f = jit(value_and_grad(oscillator, argnums=(0, 1, 2)), backend="native")
    at = (1.5, 0.3, 1.0)
    home = f(*at)
    shipped = pickle.loads(pickle.dumps(f))
    assert bits(shipped(*at)) == bits(home)
    assert shipped._last.program._loops


def test_loops_on_the_interpreter_give_the_same_numbers(monkeypatch):
    f = jit(value_and_grad(oscillator, argnums=(0, 1, 2)), backend="native")
    rolled_numbers = f(1.5, 0.3, 1.0)
    monkeypatch.setattr(native_loops, "MIN_NODES", 10**12)
    interpreted = jit(value_and_grad(oscillator, argnums=(0, 1, 2)), backend="native")
    assert bits(interpreted(1.5, 0.3, 1.0)) == bits(rolled_numbers)
    assert not interpreted._last.program._loops


@pytest.mark.parametrize("together", [True, False], ids=["chunks of points", "point by point"])
def test_vmap_of_a_gradient_program_is_the_points_one_by_one(together, monkeypatch):
    """A gradient's program runs a batch in chunks of points through both passes (batch_kernel's
    chunk functions, the loops' batch bodies; the last chunk short), or, past batch_kernel.CACHED,
    point by point: either way each point's numbers are those of its own call, to the bit."""
    from chainrule import vmap
    from chainrule.compiler import batch_kernel, batch_native

    if not together:
        monkeypatch.setattr(batch_kernel, "CACHED", 0)
    monkeypatch.setattr(batch_native, "SHARED_WORK", 0)  # the chunks on a thread per core, however small
    chunked, in_chunks = [], batch_native._in_chunks
    monkeypatch.setattr(batch_native, "_in_chunks", lambda *args: chunked.append(in_chunks(*args)))
    cases = [
        (oscillator, (0, 1, 2), [(1.5 + 0.01 * i, 0.3 - 0.002 * i, 1.0 + 0.03 * i) for i in range(70)]),
        (three_back_then_another_loop, (0, 1), [(0.8 + 0.01 * i, 0.3 - 0.001 * i) for i in range(70)]),
        (read_after_the_loop, (0, 1), [(1.5 - 0.01 * i, 1.0 + 0.02 * i) for i in range(70)]),
        (half_rate_read, 0, [(0.8 + 0.01 * i,) for i in range(70)]),
        (lambda x, y: x * 3.0, (0, 1), [(0.1 * i, 2.0) for i in range(70)]),  # y unused: 0.0
        # rows that call functions, with a share for each parent: a / b, a ** b, atan2
        (
            lambda x, y: x / y + (x * x) ** y + cmath.atan2(x, y),
            (0, 1),
            [(1.0 + 0.1 * i, 0.5) for i in range(70)],
        ),
        (lambda x: Value(4.0) + 0.0 * x, 0, [(0.1 * i,) for i in range(70)]),
    ]
    for fn, argnums, points in cases:
        f = jit(value_and_grad(fn, argnums=argnums), backend="native")
        slope = jit(grad(fn, argnums=argnums), backend="native")
        for batch_points in (points, [tuple(0.9 * x for x in point) for point in points]):
            chunked.clear()  # (a second batch, at other points, must keep nothing of the first)
            values, grads = vmap(f)(*map(list, zip(*batch_points)))
            slopes = vmap(slope)(*map(list, zip(*batch_points)))
            program = f._last.program
            assert program.gradients == (paths.SMALL_GRAPH == 0)
            if program.gradients or program._loops:  # (else: batch_kernel's forward_batch)
                assert bool(chunked) == together, "the batch did not run as its size says"
            for i, point in enumerate(batch_points):
                value, gradient = f(*point)
                batched = [g[i] for g in grads] if isinstance(grads, tuple) else grads[i]
                alone = [g[i] for g in slopes] if isinstance(slopes, tuple) else slopes[i]
                assert bits([values[i], batched, alone]) == bits([value, gradient, gradient]), (fn, point)


def three_back_then_another_loop(x, w, steps=300):
    """Each pass reads the pass three back; a second loop reads the first's passes in reverse."""
    ys = [x * 1.0, x * 0.5, x * 0.25]
    for _ in range(steps):
        ys.append(ys[-1] * 0.998 + ys[-3] * w)
    total = x * 0.0
    for y in reversed(ys):
        total = (total + y).tanh()
    return total


def read_after_the_loop(k, x0, steps=300):
    """The last pass's nodes read again after the loop, and an earlier pass's read by a later one
    (their gradients reach the loop through the array), and f's value built from both."""
    x, v, xs = x0, 0.0, []
    for _ in range(steps):
        v = v - 0.01 * k * x
        x = x + 0.01 * v
        xs.append(x)
    return x * v + xs[steps // 2] * k + (x - v).tanh()


def test_a_second_call_at_another_point_keeps_nothing_of_the_first():
    """The backward pass zeroes only the gradient entries it reads: a call after another, at another
    point, must give what a call of its own gives, and the first point again its own numbers."""
    f = jit(value_and_grad(read_after_the_loop, argnums=(0, 1)), backend="native")
    first, second = (1.5, 1.0), (0.7, -2.0)
    for point in (first, second, first, second):
        assert bits(f(*point)) == bits(value_and_grad(read_after_the_loop, argnums=(0, 1))(*point))
    assert f._last.program._loops


def zero_times_infinity(x, steps=300):
    """d u ** 0.5/du is inf at u = 0, and the gradient reaching it is 0: the engine's 0 * inf is NaN,
    and so must the compiled loop's be, not a plausible 0."""
    y = x
    for _ in range(steps):
        y = y * 0.99 + (y * y - y * y) ** 0.5 * 0.0
    return y


def test_zero_times_infinity_in_a_loop_is_the_engines_nan():
    rolled(zero_times_infinity, 0.8)  # the engine's numbers, NaN for NaN
    assert math.isnan(value_and_grad(zero_times_infinity)(0.8)[1])  # what the engine says


@pytest.mark.parametrize("threads", [True, False], ids=["threads", "the calling thread"])
def test_zero_times_infinity_in_a_batch_is_the_engines_nan(threads, monkeypatch):
    """The batched backward passes (a chunk's loops and interpreter), not a plausible 0 either."""
    from chainrule import vmap
    from chainrule.compiler import batch_native

    if threads:
        monkeypatch.setattr(batch_native, "SHARED_WORK", 0)
    points = [0.8 + 0.01 * i for i in range(70)]
    values, grads = vmap(jit(value_and_grad(zero_times_infinity), backend="native"))(points)
    engine = [value_and_grad(zero_times_infinity)(x) for x in points]
    assert bits([values, grads]) == bits([[v for v, _ in engine], [g for _, g in engine]])
    assert all(math.isnan(g) for g in grads)
