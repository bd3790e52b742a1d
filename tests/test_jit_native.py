"""jit(fn, backend="native") against the engine: the same values and gradients, to the bit, on every op
of the table (at thousands of points, edges and all), the fuzzer's random graphs and the demos; the same
errors; and the jit's contract (leaves read at every call, gradients accumulate, new shapes retrace).

On Linux (glibc) every op is bit-identical: numba calls the libm functions CPython's math calls. On
another platform the transcendental ops are held to 1 ulp (EXACT says which ops are exact everywhere).
"""

from __future__ import annotations

import math
import random
import struct
import sys
from pathlib import Path

import pytest
from hypothesis import given
from op_cases import apply, exponents
from test_fuzz_gradients import programs

from chainrule import MLP, Value, jit, no_grad, value_and_grad
from chainrule.cli import main
from chainrule.demos import moons
from chainrule.rules import RULES
from chainrule.runtime.extras import MissingExtraError

needs_numba = pytest.mark.usefixtures("numba")
EXACT = {"+", "-", "*", "/", "neg", "relu"}  # IEEE arithmetic: the same bits on any machine
SAME_LIBM = sys.platform == "linux"  # numba and CPython call the same glibc functions
EDGES = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, math.inf, -math.inf, math.nan, 1e-310, 709.8, 710.0, -746.0]


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def ulps(x: float, y: float) -> int:
    """How many doubles apart x and y are (0 for the same bits)."""
    ix, iy = (struct.unpack("<q", bits(v))[0] for v in (x, y))
    ix, iy = (v if v >= 0 else -(1 << 63) - v for v in (ix, iy))  # sign-magnitude to a line
    return abs(ix - iy)


def assert_agrees(op: str, got: float, want: float) -> None:
    """The same bits; a NaN is any NaN (IEEE leaves its sign open, and compilers commute a * b)."""
    if math.isnan(want):
        assert math.isnan(got), (op, got, want)
    elif op in EXACT or SAME_LIBM:
        assert bits(got) == bits(want), (op, got, want)
    else:
        assert ulps(got, want) <= 1, (op, got, want)


def number(rng: random.Random) -> float:
    if rng.random() < 0.1:
        return rng.choice(EDGES)
    return rng.choice([-1, 1]) * 10 ** rng.uniform(-6, 2.5)


def engine_run(build, data):
    """(value, grads) or the raised exception, of the graph build(*leaves) on fresh engine leaves."""
    leaves = [Value(x) for x in data]
    try:
        root = build(*leaves)
    except (ValueError, ZeroDivisionError) as error:
        return error
    root.backward()
    return root.data, [leaf.grad for leaf in leaves]


def native_run(step, leaves, data):
    for leaf, x in zip(leaves, data):
        leaf.data, leaf.grad = x, 0.0
    try:
        out = step()
    except (ValueError, ZeroDivisionError) as error:
        return error
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def assert_same_run(op, got, want):
    if isinstance(want, Exception):
        assert type(got) is type(want) and str(got) == str(want)
        return
    assert not isinstance(got, Exception), got
    for g, w in zip([got[0], *got[1]], [want[0], *want[1]]):
        assert_agrees(op, g, w)


CASES = [(rule, n) for rule in RULES if rule.python is None for n in exponents(rule)]


@needs_numba
@pytest.mark.parametrize(("rule", "n"), CASES, ids=[f"{r.name}{'' if n is None else n}" for r, n in CASES])
def test_every_op_of_the_table_at_many_points(rule, n):
    """Each op inside a graph (times a third leaf, so the gradient arriving is not 1), at 600 points
    that include 0, -0, ±inf, NaN, subnormals and the overflow edges: values, gradients, errors."""

    def build(a, b, c):
        return apply(rule, a, b, n=n) * c

    leaves = [Value(1.0), Value(1.0), Value(1.0)]
    step = jit(lambda: build(*leaves), backend="native")
    rng = random.Random(f"{rule.name} {n}")
    for _ in range(600):
        data = [number(rng), number(rng), rng.uniform(-3, 3)]
        assert_same_run(rule.name, native_run(step, leaves, data), engine_run(build, data))


@needs_numba
@given(programs())
def test_random_graphs_match_the_engine(program):
    """The fuzzer's graphs (every op, shared nodes, numbers lifted to constants), called twice: the
    second time off the traced point, where an op may leave its domain. The engine builds every node
    and a compiled graph only those behind the root, so an error there is held to the python backend's."""
    leaves = [Value(x) for x in program.inputs]
    step = jit(lambda: program(*leaves), backend="native")
    python_leaves = [Value(x) for x in program.inputs]
    python_step = jit(lambda: program(*python_leaves), backend="python")
    for shift in (0.0, 0.25):  # both traced at the first
        data = [x + shift for x in program.inputs]
        expected, compiled = engine_run(program, data), native_run(python_step, python_leaves, data)
        got = native_run(step, leaves, data)
        assert_same_run("a graph", got, compiled if isinstance(expected, Exception) else expected)


@needs_numba
def test_chainrule_xor_backend_native_prints_the_reference_log(capsys):
    assert main(["xor", "--backend", "native"]) == 0
    assert capsys.readouterr().out == (Path(__file__).parent / "data" / "reference_xor.txt").read_text()


@needs_numba
def test_chainrule_moons_says_which_backend_it_used(capsys):
    assert main(["moons", "--n", "8", "--steps", "2", "--backend", "native"]) == 0
    native = capsys.readouterr()
    assert native.err == "chainrule moons: backend native\n"
    assert main(["moons", "--n", "8", "--steps", "2", "--backend", "engine"]) == 0
    engine = capsys.readouterr()
    assert engine.out == native.out
    assert main(["moons", "--n", "8", "--steps", "2"]) == 0
    assert capsys.readouterr().err == "chainrule moons: backend native\n"  # numba is here: the default


@needs_numba
def test_a_short_moons_run_matches_the_engine():
    config = moons.MoonsConfig(n=12, steps=3)
    results = []
    for backend in (None, "native"):
        model, dataset = moons.build(config)
        loss_fn = moons.objective(model, config.alpha)
        compiled = jit(loss_fn, backend=backend) if backend else None
        progress = list(moons.train(config, model, dataset, compiled))
        results.append(([p.loss for p in progress], [bits(p.data) for p in model.parameters()]))
    assert results[0] == results[1]


def test_without_numba_the_error_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now fails
    monkeypatch.delitem(sys.modules, "chainrule.compiler.native", raising=False)
    with pytest.raises(MissingExtraError, match=r'pip install "chainrule\[native\]"'):
        jit(lambda x: x * 2, backend="native")


@needs_numba
@pytest.mark.parametrize(
    ("fn", "bad"),
    [
        (lambda x: (x * 1).log(), -1.0),
        (lambda x: (x * 1).log(), 0.0),
        (lambda x: 1 / (x * 1), 0.0),
        (lambda x: 1 / (x * 1), -0.0),
        (lambda x: (x * 1) ** 0.5, -4.0),
        (lambda x: (x * 1) ** math.inf, -0.5),
        (lambda x: (x * 1) ** -1, 0.0),
        (lambda x: (x * 1) ** Value(2.0), -1.0),
        (lambda x: Value(0.0) ** (x * 1), -2.0),
    ],
)
def test_domain_errors_are_the_engines_at_every_call(fn, bad):
    step = jit(fn, backend="native")
    assert step(2.0).data == fn(Value(2.0)).data
    with pytest.raises((ValueError, ZeroDivisionError)) as engine_error:
        fn(Value(bad))
    with pytest.raises(engine_error.type) as native_error:
        step(bad)
    assert str(native_error.value) == str(engine_error.value)
    assert step(3.0).data == fn(Value(3.0)).data  # and the program still runs


@needs_numba
@pytest.mark.parametrize(("fn", "x"), [(lambda x: (x * 1).exp(), 710.0), (lambda x: (x * 1) ** 3, -1e200)])
def test_overflow_gives_infinity_as_floatmath_does(fn, x):
    a = Value(1.0)
    out = jit(lambda x: fn(x) * a, backend="native")(x)
    out.backward()
    engine_a = Value(1.0)
    (fn(Value(x)) * engine_a).backward()
    assert math.isinf(out.data) and (out.data, a.grad) == (fn(Value(x)).data, engine_a.grad)


@needs_numba
def test_gradients_accumulate_and_an_older_result_keeps_its_values():
    results = []
    for backend in (None, "native"):
        a, b = Value(0.3), Value(-0.4)

        def fn(x, a=a, b=b):
            return (a * x + b).tanh() * a

        step = jit(fn, backend=backend) if backend else fn
        first = step(0.5)
        first.backward()
        second = step(1.5)
        first.backward()  # after a later call: its own values, not the later call's
        second.backward()
        results.append((first.data, second.data, a.grad, b.grad))
    assert results[0] == results[1]


@needs_numba
def test_leaves_are_read_at_every_call_even_ones_made_inside_fn():
    w, kept = Value(2.0), []

    def fn(x):
        made = Value(3.0)  # a Value fn makes and keeps: a leaf like any closed-over one
        kept.append(made)
        return w * x + made * 0.5  # 0.5 becomes a constant nobody else holds

    step = jit(fn, backend="native")
    assert step(1.0).data == 3.5
    w.data, kept[0].data = 4.0, 10.0
    out = step(1.0)
    out.backward()
    assert (out.data, w.grad, kept[0].grad) == (9.0, 1.0, 0.5)


@needs_numba
def test_a_new_shape_traces_again_and_ints_become_floats():
    traces, w = [], Value(2.0)

    def fn(xs):
        traces.append(len(xs))
        return sum((w * x for x in xs), Value(0.0))

    step = jit(fn, backend="native")
    for xs in ([1.0, 2.0], [3, 4], [1.0, 2.0, 3.0], (5.0, 6.0)):
        w.grad = 0.0
        out = step(xs)
        out.backward()
        assert (out.data, w.grad) == (2.0 * sum(xs), float(sum(xs)))
    assert traces == [2, 3]
    with pytest.raises(TypeError, match="numbers"):
        step(["1", "2"])


@needs_numba
def test_no_grad_results_and_leaf_roots():
    w = Value(2.0)
    step = jit(lambda x: w * x, backend="native")
    with no_grad():
        out = step(4.0)
    out.backward()
    assert (out.data, w.grad) == (8.0, 0.0)
    identity = jit(lambda: w, backend="native")
    identity().backward()
    assert w.grad == 1.0
    assert jit(lambda x: x, backend="native")(5.0).data == 5.0


@needs_numba
def test_mlp_training_steps_match_the_engine():
    rng = random.Random(7)
    points = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(5)]
    targets = [rng.choice([-1.0, 1.0]) for _ in points]
    results = []
    for backend in (None, "native"):
        model = MLP(3, [5, 5, 1], "relu", "tanh", rng=random.Random(3))

        def loss(xs, ys, model=model):
            return sum(((model(x) - y) ** 2 for x, y in zip(xs, ys)), Value(0.0))

        step = jit(loss, backend=backend) if backend else loss
        for _ in range(3):
            out = step(points, targets)
            model.zero_grad()
            out.backward()
            results.append((bits(out.data), [bits(p.grad) for p in model.parameters()]))
            for p in model.parameters():
                p.data -= 0.1 * p.grad
    assert results[:3] == results[3:]


@needs_numba
def test_the_interpreter_has_a_branch_for_every_row_of_the_table():
    from chainrule.compiler import native_kernel

    source = jit(lambda x: x * 2, backend="native")
    source(1.0)
    computed = native_kernel.native_rows()
    for rule in computed:
        assert source.source.count(f"# {rule.name}:") >= 2  # one in forward, one in backward
    in_python = {rule.name for rule in RULES if rule not in computed}
    assert {"gamma", "lgamma", "hypot", "fmod", "cbrt", "polygamma"} <= in_python  # numba's differ


@needs_numba
def test_jit_of_grad_runs_natively_to_the_bit():
    """A function returning a tuple of Values (the gradient graphs of grad(f)): floats out, nested."""

    def f(x, y):
        return (x * y).tanh() + (x * x / (y * y + 1) + 0.1).log() * y.sigmoid() - (y**3 - x).exp() / (y + 3)

    both = jit(value_and_grad(f, (0, 1)), backend="native")
    nested = jit(lambda x, y: (x * y, (x + y, (x - y,))), backend="native")
    for point in [(0.7, -0.4), (1.3, 0.2), (-0.5, 1.1)]:
        value, gradient = both(*point)
        expected_value, expected = value_and_grad(f, (0, 1))(*point)
        assert [bits(x) for x in (value, *gradient)] == [bits(x) for x in (expected_value, *expected)]
    assert nested(3.0, 2.0) == (6.0, (5.0, (1.0,)))


@needs_numba
def test_the_interpreter_follows_the_table_and_is_cached_by_its_text(monkeypatch, tmp_path):
    from chainrule.compiler import native_kernel
    from chainrule.rules import Rule

    square = Rule("square", "square(a)", lambda o, a: a * a, (lambda o, a, out, g: 2.0 * a * g,), None)
    rows = native_kernel.native_rows()
    monkeypatch.setattr(native_kernel, "native_rows", lambda: [*rows, square])  # a row no engine op has
    source = native_kernel.source()
    assert f"op == {len(rows)}:  # square: square(a)" in source
    assert "values[j] = a * a" in source and "grads[to_first[j]] += 2.0 * a * grad" in source
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = native_kernel._write(source, "kernel_test.py")
    assert path == tmp_path / "chainrule" / "native" / "kernel_test.py" and path.read_text() == source
    before = path.stat().st_mtime_ns
    assert native_kernel._write(source, "kernel_test.py") == path
    assert path.stat().st_mtime_ns == before  # not rewritten: numba's cache of it stays valid
