"""Control flow (issue 15): a Value behaves like its float, and jit is never silently wrong.

The issue's programs (Heron's square root, a Huber loss, a bouncing ball, relu's slope) under jit on both
backends, called in orders whose paths differ from the traced one, give the engine's numbers to the bit;
their gradients agree with central differences and with PyTorch in float64.
"""

from __future__ import annotations

import math
import random
import struct
import subprocess
import sys
import warnings

import pytest

import chainrule
import chainrule.math as cm
from chainrule import Value, equal, grad, hessian, hvp, jit, where
from chainrule.compiler import JitFallbackWarning, JitTraceWarning
from chainrule.derivatives.gradcheck import numerical_gradient
from chainrule.runtime import tracing


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def engine(fn, *xs):
    """fn on the engine: its value and its gradient in each argument."""
    leaves = [Value(x) for x in xs]
    out = fn(*leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


# --- the programs ---------------------------------------------------------------------------------


def heron(x):
    y = x
    while abs(y * y - x) > 1e-12 * x:
        y = (y + x / y) / 2
    return y


def huber(x):
    if abs(x) <= 1.0:
        return 0.5 * x * x
    return abs(x) - 0.5


def huber_where(x):
    return where(abs(x) <= 1.0, 0.5 * x * x, abs(x) - 0.5)


def bouncing_ball(height, restitution):
    """Height after 60 steps of 0.05 s from rest; each bounce reverses and damps the velocity."""
    y, v = height, 0.0 * height
    for _ in range(60):
        v = v - 9.81 * 0.05
        y = y + v * 0.05
        if y < 0:
            y, v = -y * restitution, -v * restitution
    return y


def relu_slope(x):
    return x.relu() + (-x).relu()


PROGRAMS = [
    (heron, [(2.0,), (1e6,), (2.0,), (0.04,), (9.0,), (1e6,)]),
    (huber, [(0.5,), (3.0,), (-3.0,), (0.5,), (-0.2,), (1.0,)]),
    (huber_where, [(0.5,), (3.0,), (-3.0,), (-0.2,)]),
    (bouncing_ball, [(10.0, 0.8), (2.0, 0.5), (10.0, 0.8), (30.0, 0.9), (0.5, 0.7)]),
    (relu_slope, [(3.0,), (-2.0,), (0.0,), (3.0,)]),
]
IDS = [fn.__name__ for fn, _ in PROGRAMS]


@pytest.mark.parametrize(("fn", "calls"), PROGRAMS, ids=IDS)
def test_jit_gives_the_engines_value_and_gradient_on_every_path_in_any_order(backend, fn, calls):
    for order in (calls, calls[::-1], random.Random(fn.__name__).sample(calls, len(calls))):
        compiled, compiled_grad = jit(fn, backend), jit(grad(fn, tuple(range(len(calls[0])))), backend)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # guarded branches: nothing to warn of
            for xs in order:
                value, gradient = engine(fn, *xs)
                assert bits(compiled(*xs)) == bits(value)
                assert list(map(bits, compiled_grad(*xs))) == list(map(bits, gradient))
                assert list(map(bits, grad(fn, tuple(range(len(xs))))(*xs))) == list(map(bits, gradient))


def test_herons_square_root_traced_at_2_is_right_at_a_million():
    compiled = jit(heron)
    assert compiled(2.0) == pytest.approx(math.sqrt(2.0), rel=1e-15)
    assert compiled(1e6) == pytest.approx(1000.0, rel=1e-12)  # was 31260.66: the loop ran as traced
    assert jit(grad(heron))(1e6) == pytest.approx(1 / (2 * 1000.0), rel=1e-9)  # d√x/dx


@pytest.mark.parametrize(("fn", "calls"), PROGRAMS, ids=IDS)
def test_gradients_agree_with_central_differences(fn, calls):
    compiled = jit(grad(fn, tuple(range(len(calls[0])))))
    for xs in calls:
        if fn is relu_slope and xs == (0.0,):
            continue  # the kink
        numeric = numerical_gradient(fn, xs, eps=1e-6)
        assert compiled(*xs) == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def test_gradients_agree_with_torch_float64(torch):
    def torch_huber(x):
        return torch.where(x.abs() <= 1.0, 0.5 * x * x, x.abs() - 0.5)

    for ours, theirs, points in (
        (huber_where, torch_huber, [(0.5,), (3.0,), (-3.0,)]),
        (huber, huber, [(0.5,), (-3.0,)]),  # the same function, run by torch
        (bouncing_ball, bouncing_ball, [(10.0, 0.8), (2.0, 0.5), (30.0, 0.9)]),
    ):
        compiled = jit(grad(ours, tuple(range(len(points[0])))))
        for xs in points:
            leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
            theirs(*leaves).backward()
            assert compiled(*xs) == pytest.approx([leaf.grad.item() for leaf in leaves], rel=1e-12)


def test_the_relu_slope_case_is_right_everywhere_with_one_trace(backend):
    compiled = jit(grad(relu_slope), backend)
    assert [compiled(x) for x in (3.0, -2.0, 0.0, -0.5)] == [1.0, -1.0, 0.0, -1.0]
    assert len(next(iter(compiled._programs.values()))) == 1  # one path: the slope is a select


# --- a Value behaves like its float -----------------------------------------------------------------------


def test_comparisons_bool_min_max_sorted_as_floats():
    x, y = Value(3.0), Value(-1.5)
    for a, b in ((x, y), (x, 2), (2, x), (y, -1.5), (x, math.nan)):
        fa, fb = (v.data if isinstance(v, Value) else v for v in (a, b))
        assert [bool(a < b), bool(a <= b), bool(a > b), bool(a >= b)] == [
            fa < fb,
            fa <= fb,
            fa > fb,
            fa >= fb,
        ]
        assert bool(equal(a, b)) == (fa == fb) and bool(chainrule.not_equal(a, b)) == (fa != fb)
    assert [bool(Value(v)) for v in (0.0, -0.0, 2.0, math.nan)] == [False, False, True, True]
    assert max(x, y) is x and min(x, y) is y and min(x, 5) is x
    assert [v.data for v in sorted([x, y, Value(0.5)])] == [-1.5, 0.5, 3.0]
    assert x == x and x != y and len({x, y, x}) == 2  # == between Values is identity, as dict keys need


def test_max_min_and_abs_send_the_gradient_to_the_branch_taken(torch):
    def f(a, b):
        return max(a, b) * 2 + min(a * a, b) + abs(a - b)

    for point in ((3.0, -1.5), (-1.5, 3.0), (0.2, 0.7)):
        leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
        a, b = leaves
        (torch.maximum(a, b) * 2 + torch.minimum(a * a, b) + (a - b).abs()).backward()
        expected = [leaf.grad.item() for leaf in leaves]
        assert engine(f, *point)[1] == pytest.approx(expected, rel=1e-15)
        assert engine(f, *point)[1] == pytest.approx(numerical_gradient(f, point, eps=1e-6), rel=1e-6)
        assert list(jit(grad(f, (0, 1)))(*point)) == engine(f, *point)[1]


@pytest.mark.parametrize(("a", "b"), [(7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (-0.3, 0.25), (5.0, 1.5)])
def test_mod_floordiv_round_are_pythons_with_their_slopes(torch, a, b):
    x, y = Value(a), Value(b)
    assert ((x % y).data, (x // y).data, (a % y).data, (a // y).data) == (a % b, a // b, a % b, a // b)
    assert (divmod(x, b)[0].data, divmod(x, b)[1].data) == divmod(a, b)
    assert round(Value(a)).data == round(a) and round(Value(a), 1).data == round(a, 1)
    _, gradient = engine(lambda u, v: u % v + u // v * 3, a, b)
    assert gradient == [1.0, -(a // b)]  # d(a % b)/db = -floor(a/b); // has slope 0
    ta, tb = (torch.tensor(t, dtype=torch.float64, requires_grad=True) for t in (a, b))
    torch.remainder(ta, tb).backward()
    assert [ta.grad.item(), tb.grad.item()] == gradient
    assert gradient == pytest.approx(numerical_gradient(lambda u, v: u % v, (a, b), eps=1e-7), rel=1e-6)


def test_where_selects_without_branching_and_the_side_not_taken_gets_exactly_zero(backend):
    def f(x):
        return where(x > 0, cm.sqrt(abs(x)), 0.0) + where(x > 0, 0.0, x * x)  # sqrt(-3) would raise

    compiled = jit(grad(f), backend)
    for x in (4.0, -3.0, 0.0, 0.25):
        assert compiled(x) == grad(f)(x)
        expected = 0.5 / math.sqrt(x) if x > 0 else 2 * x
        assert grad(f)(x) == pytest.approx(expected, rel=1e-15)  # at 0: 0.0, not 0·∞ = NaN
    assert len(next(iter(compiled._programs.values()))) == 1  # one trace for both sides
    assert bits(where(Value(1.0) > 0, Value(-0.0), 5.0).data) == bits(-0.0)  # the side taken, to the bit
    assert where(True, 1.0, 2.0) == 1.0 and where(Value(0.0), 1.0, 2.0).data == 2.0


def test_a_guard_is_checked_before_the_path_so_a_wrong_paths_domain_error_never_shows(backend):
    def f(x):
        return cm.sqrt(x) if x > 0 else cm.sqrt(-x)

    compiled = jit(f, backend)
    assert [compiled(x) for x in (4.0, -4.0, 9.0, -1.0)] == [2.0, 2.0, 3.0, 1.0]
    with pytest.raises(ValueError, match="sqrt"):
        jit(lambda x: cm.sqrt(x - 1.0) if x > 0 else x, backend)(0.5)  # the path taken raises: as eager


# --- the fall-back and the warnings -----------------------------------------------------------------------


def test_a_path_that_changes_at_every_call_falls_back_to_the_engine_once_warned(backend):
    def bounce_at(height):  # the step of the bounce changes with the height: a new path at nearly every call
        return bouncing_ball(height, 0.8)

    compiled = jit(bounce_at, backend, max_paths=3)
    heights = [1.0 + 0.7 * k for k in range(12)]
    with pytest.warns(JitFallbackWarning, match=r"bounce_at .*max_paths=3") as caught:
        results = [compiled(h) for h in heights]
    assert len([w for w in caught if w.category is JitFallbackWarning]) == 1  # once
    assert [bits(r) for r in results] == [bits(bounce_at(Value(h)).data) for h in heights]
    w = Value(0.8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JitFallbackWarning)
        through = jit(lambda h: bouncing_ball(h, w), backend, max_paths=1)
        for h in heights[:4]:
            w.grad = 0.0
            out = through(h)
            out.backward()  # the engine's backward, on the engine's graph
            value, (_, expected) = engine(bouncing_ball, h, 0.8)
            assert (out.data, w.grad) == (value, expected)


def test_a_branch_on_data_is_warned_of_naming_the_file_and_line():
    def sign(x):
        if x.data > 0:  # the line the warning names
            return x
        return -x

    line = sign.__code__.co_firstlineno + 1
    with pytest.warns(JitTraceWarning, match=rf"test_control_flow.py:{line} \(decides control flow\)"):
        jit(sign)(1.0)
    with pytest.warns(JitTraceWarning, match="frozen as a constant"):
        jit(lambda x: x * x.data)(2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jit(lambda x: x * 2.0)(2.0)  # no .data: nothing to say
        assert jit(lambda x: x, backend="python")(5.0).data == 5.0  # .data outside the traced lambda


def _frozen(x):
    return x * x.data  # the line the warnings name


def test_every_trace_sees_the_code_it_runs_though_an_earlier_trace_saw_it_first():
    """From Python 3.12 the watch stops hearing from a function once it has seen it (sys.monitoring's
    DISABLE); the next trace hears it again."""
    line = _frozen.__code__.co_firstlineno + 1
    for offset in (1.0, 2.0):
        with pytest.warns(JitTraceWarning, match=rf"test_control_flow.py:{line}"):
            jit(lambda x, offset=offset: _frozen(x) + offset)(2.0)


def _frozen_too(x):
    return _shared(x) * 3.0 * x.data  # the other thread's line


def _shared(x):
    return x + 1.0


def test_two_threads_tracing_at_once_each_hear_their_own_reads():
    """From Python 3.12 the watch is one sys.monitoring tool for the process: while two threads watch,
    each hears the functions it runs, every time, and none of the other's."""
    import threading

    from chainrule.compiler import data_reads

    barrier = threading.Barrier(2)
    heard: dict[str, list[bool]] = {"a": [], "b": []}

    def watch(name, mine, theirs):
        barrier.wait()
        for _ in range(200):
            with data_reads.watching() as ran:
                x = Value(2.0)
                for _ in range(50):  # time for the other thread to run _shared meanwhile
                    x = x * 1.0
                mine(_shared(x))  # both threads run _shared: neither may switch it off for the other
            heard[name].append(
                mine.__code__ in ran and _shared.__code__ in ran and theirs.__code__ not in ran
            )

    threads = [
        threading.Thread(target=watch, args=("a", _frozen, _frozen_too)),
        threading.Thread(target=watch, args=("b", _frozen_too, _frozen)),
    ]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # the threads take turns often, inside each other's watches
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert heard == {"a": [True] * 200, "b": [True] * 200}


def _inner(x):
    return x * 2.0


def _outer(x):
    with tracing.unwatched():
        y = _inner(x)
    return y + 1.0


def test_the_watch_is_off_inside_chainrules_own_walks_and_on_again_after():
    """Before 3.12 the watch is cProfile's profiler: unwatched() turns it off and on again. From 3.12
    sys.monitoring's watch costs nothing once a function has started, and unwatched() leaves it be."""
    from chainrule.compiler import data_reads

    with data_reads.watching() as ran:
        _outer(Value(1.0))
        _shared(Value(1.0))  # after the walk: heard again
    assert _outer.__code__ in ran and _shared.__code__ in ran
    assert (_inner.__code__ in ran) == (sys.version_info >= (3, 12))
    assert sys.getprofile() is None  # nothing left behind


def test_a_profiler_the_user_runs_is_left_running():
    """Before 3.12 one profiler a thread: a user's (cProfile here) is theirs, and the trace watches
    nothing; from 3.12 the watch is a sys.monitoring tool beside it, and still warns."""
    import cProfile

    theirs = cProfile.Profile()
    theirs.enable()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert jit(lambda x: x * x.data)(3.0).data == 9.0
        still = sys.getprofile()
    finally:
        theirs.disable()
    if sys.version_info < (3, 12):  # (from 3.12 cProfile is a sys.monitoring tool itself)
        assert still is theirs
    warned = any(issubclass(w.category, JitTraceWarning) for w in caught)
    assert warned == (sys.version_info >= (3, 12))
    assert any(getattr(entry.code, "co_name", "") == "<lambda>" for entry in theirs.getstats())


def test_a_read_of_data_in_a_users_ops_partial_is_warned_of_in_a_compiled_gradient():
    """The gradient's graph is built with the watch off (the table's partials are chainrule's own
    code), but not when a user's op is in it: its partials are the user's code, run on Values."""
    import chainrule

    def slope(x, out):
        return 2.0 * x.data if isinstance(x, Value) else 2.0 * x  # the line the warning names

    squared = chainrule.primitive(slope)(lambda x: x * x)
    line = slope.__code__.co_firstlineno + 1
    with pytest.warns(JitTraceWarning, match=rf"test_control_flow.py:{line}"):
        jit(grad(lambda x: squared(x) * 3.0))(2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert jit(grad(lambda x: x * x * 3.0))(2.0) == 12.0  # the table's partials alone: nothing to say


def test_a_branch_on_data_is_announced_where_the_source_cannot_be_read():
    program = (
        "from chainrule import jit\n"
        "def f(x):\n"
        "    y = x * 2\n"
        "    if x.data > 0: return y\n"
        "    return x * 3\n"
        "j = jit(f)\n"
        "print(j(1.0), j(-1.0))\n"
    )
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert "JitTraceWarning: jit: the traced function reads .data at <string>:4" in run.stderr


# --- second derivatives under jit --------------------------------------------------------------------------


def test_jit_of_hessian_and_hvp_agree_with_eager(backend):
    def f(x, y):
        return cm.sin(x) * y**3 + max(x, y) * x + where(x > y, x * y, y * y).exp()

    for point in ((0.3, -1.2), (-0.7, 2.0), (1.5, 0.5)):
        eager = hessian(f)(*point)
        assert jit(hessian(f), backend)(*point) == eager  # the same lists of lists
        assert jit(hessian(f, 0), backend)(*point) == hessian(f, 0)(*point)
        assert jit(hvp(f), backend)(point, (1.0, -2.0)) == hvp(f)(point, (1.0, -2.0))
