"""A native program's entry (compiler/native_entry.py): its whole call as one numba function, which
must give the numbers and the errors of the calls it replaces, to the bit."""

from __future__ import annotations

import pickle

import pytest

from chainrule import Value, grad, jit, primitive, value_and_grad
from chainrule.compiler import native_entry, paths
from tests.test_native_gradients import bits, oscillator, read_after_the_loop, three_back_then_another_loop

pytestmark = pytest.mark.usefixtures("numba")


@pytest.fixture(autouse=True)
def entry_at_once(monkeypatch):
    monkeypatch.setattr(native_entry, "ENTRY_AFTER", 0)
    monkeypatch.setattr(paths, "SMALL_GRAPH", 0)  # f alone, by its own backward pass


def through_entry(compiled, *args):
    """compiled(*args) once the program's entry is compiled, and the program."""
    first = compiled(*args)  # starts the entry's compile; this call runs through the interpreter
    program = compiled._last.program
    assert program._entry is not None, "the program has no entry: the test would not test it"
    assert program._entry.ready.wait(120) and program._entry.call is not None
    return first, compiled(*args), program


@pytest.mark.parametrize(
    "fn, args, argnums",
    [
        (oscillator, (1.5, 0.3, 1.0), (0, 1, 2)),
        (lambda k: oscillator(k, 0.3, 1.0), (1.5,), 0),  # c and x0 constants
        (three_back_then_another_loop, (0.7, 0.001), (0, 1)),  # two loops
        (read_after_the_loop, (0.9, 1.0), (0, 1)),
        (lambda x, y: (x * 2.0).log() + y, (0.5, 3.0), 0),  # no loop; y unused by the gradient
    ],
)
@pytest.mark.parametrize("transform", [value_and_grad, grad])
def test_the_entry_gives_the_interpreters_numbers_and_the_engines(fn, args, argnums, transform):
    compiled = jit(transform(fn, argnums=argnums), backend="native")
    first, second, program = through_entry(compiled, *args)
    engine = transform(fn, argnums=argnums)(*args)
    assert bits(second) == bits(first) == bits(engine)
    flat = program.forward(args, ())[0]  # a third call, straight to the program: nothing left over
    assert bits(compiled._last.shaped(flat)) == bits(second)


def test_a_forward_program_through_the_entry_then_backward():
    w, w_engine = Value(0.8), Value(0.8)
    compiled = jit(lambda k: oscillator(k, w, 1.0), backend="native")
    first, second, _ = through_entry(compiled, 1.5)
    engine = oscillator(Value(1.5), w_engine, 1.0)
    assert bits(first.data) == bits(second.data) == bits(engine.data)
    second.backward()
    engine.backward()
    assert bits(w.grad) == bits(w_engine.grad)


def test_an_error_inside_the_entry_is_the_engines():
    compiled = jit(grad(lambda x: (x - 1.0).log() * x), backend="native")
    through_entry(compiled, 3.0)
    with pytest.raises(ValueError) as native:
        compiled(1.0)
    with pytest.raises(ValueError) as engine:
        grad(lambda x: (x - 1.0).log() * x)(1.0)
    assert str(native.value) == str(engine.value)
    assert bits(compiled(3.0)) == bits(grad(lambda x: (x - 1.0).log() * x)(3.0))  # and calls go on


def test_a_program_python_computes_a_node_of_has_no_entry():
    @primitive(lambda x, out: 2.0 * x)
    def square(x):
        return x * x

    compiled = jit(grad(lambda x: oscillator(square(x), 0.3, 1.0)), backend="native")
    for _ in range(3):
        assert bits(compiled(1.2)) == bits(grad(lambda x: oscillator(square(x), 0.3, 1.0))(1.2))
    assert compiled._last.program._entry is None


def test_the_entry_is_not_pickled_and_is_made_again():
    compiled = jit(value_and_grad(oscillator, argnums=(0, 1, 2)), backend="native")
    _, second, _ = through_entry(compiled, 1.5, 0.3, 1.0)
    shipped = pickle.loads(pickle.dumps(compiled))
    assert shipped._last.program._entry is None
    _, again, _ = through_entry(shipped, 1.5, 0.3, 1.0)
    assert bits(again) == bits(second)


def test_one_entry_serves_two_lengths_of_a_loop_each_with_its_own_numbers():
    short = jit(grad(lambda k: oscillator(k, 0.3, 1.0, steps=150)), backend="native")
    long = jit(grad(lambda k: oscillator(k, 0.3, 1.0, steps=400)), backend="native")
    *_, one = through_entry(short, 1.5)
    *_, other = through_entry(long, 1.5)
    assert one._entry.text == other._entry.text  # one compiled function, each program's own plan
    for k in (1.5, 0.7, 2.5):  # alternating: neither keeps anything of the other
        assert bits(short(k)) == bits(grad(lambda k: oscillator(k, 0.3, 1.0, steps=150))(k))
        assert bits(long(k)) == bits(grad(lambda k: oscillator(k, 0.3, 1.0, steps=400))(k))


def branching(k, x0):
    """A loop whose body depends on a branch on the data: each side is a path of its own."""
    return oscillator(k, 0.3, x0) if x0 > 0 else oscillator(k * 2.0, 0.1, x0)


def test_each_path_of_a_branch_runs_its_own_entry():
    compiled = jit(value_and_grad(branching, argnums=(0, 1)), backend="native")
    for x0 in (1.0, -1.0):
        through_entry(compiled, 1.5, x0)
    entries = {id(path.program._entry) for path in compiled._last.siblings}
    assert len(compiled._last.siblings) == 2 and len(entries) == 2
    for x0 in (1.0, -1.0, 0.5, -0.25, 2.0):  # the guards choose the path, then its entry runs
        assert bits(compiled(1.5, x0)) == bits(value_and_grad(branching, argnums=(0, 1))(1.5, x0))


def test_zero_times_infinity_inside_the_entry_is_the_engines_nan():
    def f(k, x0):
        return oscillator(k, 0.3, x0) * 0.0

    compiled = jit(value_and_grad(f, argnums=(0, 1)), backend="native")
    through_entry(compiled, 1.5, 1.0)
    for x0 in (float("inf"), 1e308, 1.0):  # inf · 0 is NaN; 1e308 overflows to inf in the loop
        got, engine = compiled(1.5, x0), value_and_grad(f, argnums=(0, 1))(1.5, x0)
        assert bits(got) == bits(engine)
    assert "nan" in str(bits(compiled(1.5, float("inf"))))  # the case is really reached
