"""The recording trace (compiler/recorder.py): the tape it writes is, field for field, the one tape.record
makes of the engine's graph of the same function, or it gives way to the trace on Values."""

from __future__ import annotations

import functools
import inspect
import math
import struct
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz_gradients import programs

from chainrule import Value, grad, jit, nn, no_grad, value_and_grad
from chainrule import math as cmath
from chainrule.compiler import JitTraceWarning, paths, recorder, trace
from chainrule.compiler.tape import held_elsewhere, record
from chainrule.rules import BY_NAME, FLOATS, RULES

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import scalar_programs  # the benchmark's oscillator, as a user writes it

FIELDS = ("rules", "arities", "parent_nodes", "exponents", "labels", "inputs", "leaf_nodes", "outputs")
FIELDS += ("gradients_of", "with_value")


def bits(x):
    return "nan" if math.isnan(x) else struct.pack("<d", x)


@pytest.fixture(autouse=True)
def every_size(monkeypatch):
    monkeypatch.setattr(paths, "SMALL_GRAPH", 0)  # small functions too, which jit gives to Values
    monkeypatch.setattr(recorder, "_ROOM", 2)  # a recording grows its arrays many times over


def tapes(fn, *args, argnums=0):
    """(the recording's tape or None, record's tape of the engine's graph) of value_and_grad(fn)'s f."""
    vg = value_and_grad(fn, argnums=argnums)
    normalized = tuple(trace.normalize(arg)[0] for arg in args)
    recorded_outputs, outputs, alone = [], [], []
    recorded = paths._recorded(vg, recorded_outputs, normalized, {})
    root, inputs, _ = trace.trace(functools.partial(paths._f_alone, vg, outputs, alone), normalized, {})
    expected = record(root, inputs, alone[0], with_value=True)
    del root, inputs  # the graph: the leaves only the tapes hold are constants then
    if recorded is not None:
        assert recorded_outputs == outputs
    return recorded, expected


def assert_same(recorded, expected):
    for field in FIELDS:
        assert getattr(recorded, field) == getattr(expected, field), field
    # a constant is the number itself on the recording's tape, a Value only the tape holds on record's
    numbers = [bits(leaf if isinstance(leaf, float) else leaf.data) for leaf in recorded.leaves]
    assert numbers == [bits(leaf.data) for leaf in expected.leaves]
    assert held_elsewhere(recorded.leaves) == held_elsewhere(expected.leaves)
    for mine, theirs, held in zip(recorded.leaves, expected.leaves, held_elsewhere(expected.leaves)):
        assert mine is theirs or not held  # a Value fn closed over is that Value itself


MODEL = nn.MLP(2, [4, 1])


def mlp(x, y):
    out = MODEL([x, y])
    return (out[0] if isinstance(out, list) else out) ** 2


def every_op_form(x, y, unused):
    """Reflected ops lift their number first; a node read twice; a label; a Value made inside fn."""
    start = Value(0.5, label="start")
    z = (2**x + x**3 + x**y - 1 / x + (3 - y) * y * y - -x).tanh() * start
    z.label = "z"
    return (z.exp() + z.sigmoid() + (x * 0.5).log() + x.sin() * y.cos() + (z - 0.1).relu()) / 4


@pytest.mark.parametrize(
    "fn, args, argnums",
    [
        (
            functools.partial(scalar_programs.oscillator, data=[0.1 * t for t in range(40)], dt=0.01),
            (1.5, 0.3, 1.0),
            (0, 1, 2),
        ),
        (mlp, (0.3, -0.7), (0, 1)),
        (every_op_form, (1.3, 0.7, 2.0), (0, 1)),
        (lambda point: point["x"] * point["y"] + point["x"], ({"x": 1.5, "y": 2.0},), 0),
    ],
    ids=["oscillator", "a model's parameters", "every op's form", "a dict"],
)
def test_the_recording_is_records_tape_of_the_engines_graph(fn, args, argnums):
    recorded, expected = tapes(fn, *args, argnums=argnums)
    assert recorded is not None, "the recording gave way: the path this test is for was not taken"
    assert_same(recorded, expected)


@given(programs())
def test_random_programs_are_recorded_as_the_engine_builds_them(program):
    """Over every op of the table: the ops the engine writes are recorded; a library op (a node of
    chainrule.math) leaves a Value with a graph among the operands, and the trace gives way."""
    recorded, expected = tapes(program, *program.inputs, argnums=tuple(range(len(program.inputs))))
    if recorded is not None:
        assert_same(recorded, expected)


W = Value(0.8)
W2 = W * W  # a Value with a graph behind it, closed over


def with_a_graph(x):
    return x * W2


def with_a_guard(x):
    return x * 2.0 if x > 0 else -x


def under_no_grad(x):
    with no_grad():
        y = x * 3.0
    return x * y


def nested_grad(x):
    return grad(lambda y: y * y * x)(x) * x


def backward_inside(x):
    y = x * x
    y.backward()
    return y * 2.0


def library_op(x):
    return cmath.atan2(x, 2.0) * x


def test_a_backward_pass_inside_fn_gives_way_and_is_refused_on_values(request):
    request.getfixturevalue("numba")
    vg = value_and_grad(backward_inside)
    assert paths._recorded(vg, [], (trace.normalize(1.25)[0],), {}) is None
    with pytest.raises(TypeError, match=r"jit: the traced function called backward\(\)"):  # J08
        jit(vg, backend="native")(1.25)


@pytest.mark.parametrize("fn", [with_a_graph, with_a_guard, under_no_grad, nested_grad, library_op])
def test_what_the_recording_cannot_be_sure_of_is_traced_on_values(fn):
    """Each gives way to the trace on Values, and the compiled function gives the engine's numbers."""
    assert tapes(fn, 1.25)[0] is None
    f = jit(value_and_grad(fn), backend="native")
    value, gradient = f(1.25)
    x = Value(1.25)
    out = fn(x)
    out.backward()
    assert (bits(value), bits(gradient)) == (bits(out.data), bits(x.grad))


def test_an_error_in_fn_is_the_engines():
    """fn raising while recorded is traced again on Values, which raise the engine's own error."""
    f = jit(value_and_grad(lambda x: (x - 2.0).log() * x), backend="native")
    with pytest.raises(ValueError) as recorded:
        f(1.0)
    with pytest.raises(ValueError) as on_values:
        (Value(1.0) - 2.0).log()
    assert str(recorded.value) == str(on_values.value)


def reads_data(x):
    return x * x.data


def test_a_data_read_is_warned_of_once():
    f = jit(value_and_grad(reads_data), backend="native")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f(1.5)
    assert [w.filename for w in caught if issubclass(w.category, JitTraceWarning)] == [__file__]
    with pytest.warns(JitTraceWarning):
        assert tapes(reads_data, 1.5)[0] is not None  # the path this test is for


def test_the_recorded_numbers_are_left_to_nobody():
    """The Recorded numbers hold their node and recording only: fn's dropped nodes are gone."""
    recording = recorder.Recording()
    x = recording.input(1.0)
    y = x * 2.0 + 1.0
    assert y.data == 3.0 and not recording.spoiled
    assert recording.size == 3 and recording.numbers.tolist() == [2.0, 1.0]
    with pytest.raises(recorder.GaveWay):
        y._prev  # noqa: B018 (a walk of the graph reads it)
    assert recording.spoiled


def catches_everything(x):
    """A guard inside `except Exception`: the recording gives way all the same."""
    try:
        y = x * 2.0 if x > 0 else x * 3.0
    except Exception:
        y = x * 5.0
    return y * x


def test_a_guard_gives_way_through_a_users_except():
    assert tapes(catches_everything, 1.25)[0] is None
    f = jit(value_and_grad(catches_everything), backend="native")
    assert f(1.25) == value_and_grad(catches_everything)(1.25)


def test_every_op_engine_py_writes_is_recorded():
    """An op the engine writes by hand (its method on Value) is Recorded's own: the engine's method on a
    Recorded would build a Value with a graph, and every function using it would give way."""
    import chainrule.engine

    written = [
        name
        for name, method in vars(Value).items()
        if callable(method) and getattr(method, "__module__", "") == chainrule.engine.__name__
    ]
    kept = {"__init__", "__float__", "__repr__", "_pow_value"}  # not ops, or the ** branch of __pow__
    assert {"__add__", "__rpow__", "tanh", "backward"} <= set(written)
    assert [name for name in written if name not in kept and name not in vars(recorder.Recorded)] == []


class Clamped(Value):
    """A user's Value subclass: its reflected op is the one Python calls first beside a plain Value."""

    __slots__ = ()

    def __rmul__(self, other):
        return other * self.relu()


CLAMPED = Clamped(-2.0)


def with_a_subclass(x):
    return x.tanh() * CLAMPED + x


with no_grad():
    CUBED = W**3  # a leaf that keeps the n it was made with


def with_a_cubed_leaf(x):
    return x * CUBED + x.tanh()


def test_a_users_value_subclass_gives_way_and_a_leaf_keeps_its_exponent():
    assert tapes(with_a_subclass, 1.25)[0] is None
    f = jit(value_and_grad(with_a_subclass), backend="native")
    x = Value(1.25)
    out = with_a_subclass(x)
    out.backward()
    assert [bits(v) for v in (f(1.25)[0], f(1.25)[1])] == [bits(out.data), bits(x.grad)]
    assert_same(*tapes(with_a_cubed_leaf, 1.25))


def test_a_small_f_runs_once_and_gets_its_gradients_graph(monkeypatch):
    """Under SMALL_GRAPH nodes, the engine's graph is made again from the recording (not by running
    f again), and its gradient's graph compiled, with the engine's numbers."""
    monkeypatch.setattr(paths, "SMALL_GRAPH", 1000)
    calls = []

    def small(x, y):
        calls.append(1)
        return (x * y + 2**x - y / x).tanh() * x

    vg = value_and_grad(small, argnums=(0, 1))
    made = paths._recorded(vg, [], (1.5, 0.5), {})
    assert isinstance(made, tuple) and len(calls) == 1  # the path this test is for, f run once
    f = jit(vg, backend="native")
    calls.clear()
    value, (dx, dy) = f(1.5, 0.5)
    assert len(calls) == 1
    x, y = Value(1.5), Value(0.5)
    out = small(x, y)
    out.backward()
    assert [bits(v) for v in (value, dx, dy)] == [bits(out.data), bits(x.grad), bits(y.grad)]


@given(programs())
def test_random_small_programs_compile_as_on_values(program):
    """The small path's rebuilt graph gives the bits of the path that traces f on Values."""
    argnums = tuple(range(len(program.inputs)))
    paths.SMALL_GRAPH = 1000
    try:
        recorded = jit(value_and_grad(program, argnums=argnums), backend="native")(*program.inputs)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(paths, "_recorded", lambda *args: None)
            on_values = jit(value_and_grad(program, argnums=argnums), backend="native")(*program.inputs)
    finally:
        paths.SMALL_GRAPH = 0
    assert [bits(v) for v in (recorded[0], *recorded[1])] == [bits(v) for v in (on_values[0], *on_values[1])]


def test_a_recorded_number_fn_kept_is_refused_after_the_trace():
    kept = []

    def keeps(x):
        y = x.tanh() * 2.0
        kept.append(y)
        return y * x

    jit(value_and_grad(keeps), backend="native")(0.5)
    (y,) = kept
    assert isinstance(y, recorder.Recorded)
    for use in (lambda: W * y, lambda: y.backward(), lambda: y.grad, lambda: y._prev):
        with pytest.raises(TypeError, match="used after the trace"):
            use()


def test_a_call_under_no_grad_is_recorded_all_the_same():
    """The inputs are made before fn runs, under the caller's grad mode; fn itself runs with grad on."""
    f = functools.partial(scalar_programs.oscillator, data=[0.1 * t for t in range(40)], dt=0.01)
    with no_grad():
        recorded, expected = tapes(f, 1.5, 0.3, 1.0, argnums=(0, 1, 2))
    assert recorded is not None
    assert_same(recorded, expected)


def swallows_everything(x):
    """A bare except swallows the recording's GaveWay: the spoiled mark still throws the tape away."""
    try:
        y = x * 2.0 if x > 0 else x * 3.0
    except:  # noqa: E722 (what this test is about)
        y = x * 5.0
    return y * x


def overflows(x, y):
    big = (x * 1e200) * (y * 1e200)  # inf for these points; then 0 · inf is nan
    return (big * 0.0 + x * y).tanh() + big / big


@pytest.mark.parametrize("points", [[(1.0, 2.0), (-1.0, 3.0)], [(1e-100, 1.0), (2.0, -1e150)]])
def test_recorded_programs_give_the_engines_bits_call_after_call(points):
    """Recorded once, then called at other numbers (infinities, 0 · inf, nan): each call is the
    engine's, the program the recording made and not a stale one; and a swallowed GaveWay gives way."""
    assert tapes(overflows, *points[0], argnums=(0, 1))[0] is not None  # the path this test is for
    assert tapes(swallows_everything, 1.25)[0] is None
    for fn, at in ((overflows, points), (swallows_everything, [(1.25,), (-0.5,)])):
        f = jit(value_and_grad(fn, argnums=tuple(range(len(at[0])))), backend="native")
        for point in at:
            value, gradient = f(*point)
            xs = [Value(p) for p in point]
            out = fn(*xs)
            out.backward()
            expected = [out.data, *(x.grad for x in xs)]
            assert [bits(v) for v in (value, *gradient)] == [bits(v) for v in expected]
    f = jit(value_and_grad(overflows, argnums=(0, 1)), backend="native")
    f(*points[0])
    with pytest.raises(ArithmeticError) as compiled:
        f(0.0, 1.0)  # big is 0: 0 / 0, which the engine refuses
    with pytest.raises(ArithmeticError) as engine:
        overflows(Value(0.0), Value(1.0))
    assert (type(compiled.value), str(compiled.value)) == (type(engine.value), str(engine.value))


def signed_and_tiny_constants(x):
    """Constants the recording keeps as plain numbers: -0.0, a subnormal, ints lifted by floatmath."""
    return x * -0.0 + x * 5e-324 + 3 * x + 2**x - x / 7


def infinite_constants(x):
    return (x * math.inf) * 0.0 + (x - math.nan) * 0.0 + x  # 0 · inf and a nan constant


@pytest.mark.parametrize("fn", [signed_and_tiny_constants, infinite_constants])
def test_a_recordings_constants_give_the_engines_bits(fn):
    """A number fn lifts is a plain number on the recording (recorder.Recording.numbers) and a node of
    its own on the tape: the same tape as record's, and the engine's bits at every point."""
    recorded, expected = tapes(fn, 1.5)
    assert recorded is not None  # the path this test is for
    assert_same(recorded, expected)
    f = jit(value_and_grad(fn), backend="native")
    for point in (1.5, -0.0, 0.0, -2.0, math.inf):
        x = Value(point)
        out = fn(x)
        out.backward()
        assert [bits(v) for v in f(point)] == [bits(out.data), bits(x.grad)]


# the rows of Recorded's ops, as each method holds its own (its row's place in RULES)
RECORDED_OPS = sorted(
    {
        RULES[inspect.getclosurevars(method).nonlocals["code"]].name
        for method in (*vars(recorder.Recorded).values(), recorder._NUMBER_POWER)
        if inspect.isfunction(method) and "code" in method.__code__.co_freevars
    }
)


def outcome(fn, *args):
    """A float function's result's bits, or the error it raised (its type and message)."""
    try:
        return bits(fn(*args))
    except (ArithmeticError, ValueError) as error:
        return type(error), str(error)


def test_the_float_functions_checked_are_every_recorded_ops():
    assert {"+", "-", "*", "/", "**", "pow", "neg", "tanh", "relu"} <= set(RECORDED_OPS)


@pytest.mark.parametrize("name", RECORDED_OPS)
@given(a=st.floats(), b=st.floats() | st.sampled_from([0.0, -0.0, 1.0, 2.0, 0.5, -3.0]))
def test_an_ops_float_function_is_its_rows_forward_on_floats(name, a, b):
    """The recording computes a node with the op's float function (recorder._on_floats: Python's
    operator, floatmath's function): the row's forward on FLOATS, to the bit and to the error."""
    rule = BY_NAME[name]
    args = (a, b)[: 2 if rule.arity == 2 or rule.exponent else 1]
    assert outcome(recorder._on_floats(rule), *args) == outcome(rule.forward, FLOATS, *args)


def test_a_recorded_constant_is_a_number_no_tape_holds_live():
    """A recording's tape has the numbers fn lifted as floats: constants, however many refer to the
    float (one dt in every step); a Value held elsewhere is live, one only the tuple holds is not."""
    dt, kept = 0.01, Value(2.0)
    assert held_elsewhere((dt, kept, Value(3.0), dt)) == [False, True, False, False]
