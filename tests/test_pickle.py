"""A compiled program pickles (Dask and multiprocessing ship functions so) and gives the same numbers in
the process that unpickles it, without tracing again; a Dask sweep (examples/dask_sweep.py) runs on it."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule
from chainrule import Value, grad, jit, value_and_grad

ROOT = Path(__file__).resolve().parent.parent


def loss(a, b):
    """Module-level, so plain pickle finds it by name in the other process."""
    return chainrule.math.sin(a * b) + a**2 / b


def test_grad_and_value_and_grad_pickle_and_still_read_as_f():
    for made in (grad(loss, argnums=(0, 1)), value_and_grad(loss, argnums=1), grad(grad(loss))):
        copy = pickle.loads(pickle.dumps(made))
        assert copy(1.5, 2.0) == made(1.5, 2.0)
        assert copy.__name__ == "loss" and copy.__doc__ == loss.__doc__


_CHILD = """
import pickle, sys
sys.path[:0] = sys.argv[1:]
import chainrule.compiler as compiler
traced = []
compile_once = compiler.compile_path
compiler.compile_path = lambda *args: (traced.append(args), compile_once(*args))[1]
program = pickle.loads(sys.stdin.buffer.read())
print(repr(program(1.5, 2.0)), repr(program(-0.5, 3.0)), len(traced))
"""


@pytest.mark.parametrize("backend", ["python", "native"])
def test_a_shipped_program_gives_the_numbers_at_home_without_tracing_again(backend, request):
    if backend == "native":
        request.getfixturevalue("numba")
    program = jit(value_and_grad(loss, argnums=(0, 1)), backend=backend)
    at_home = f"{program(1.5, 2.0)!r} {program(-0.5, 3.0)!r}"
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(ROOT), str(ROOT / "tests")],
        input=pickle.dumps(program),
        capture_output=True,
        check=True,
    )
    assert child.stdout.decode().split() == [*at_home.split(), "0"]
    engine = [Value(1.5), Value(2.0)]
    out = loss(*engine)
    out.backward()
    assert program(1.5, 2.0) == (out.data, (engine[0].grad, engine[1].grad))


def test_a_program_shipped_before_its_first_call_traces_where_it_runs():
    copy = pickle.loads(pickle.dumps(jit(grad(loss))))
    assert copy(1.5, 2.0) == grad(loss)(1.5, 2.0)


def test_the_dask_sweep_example_gives_the_numbers_of_the_program_at_home(numba):
    pytest.importorskip("distributed", reason="pip install -e '.[test]' brings dask's distributed")
    script = ROOT / "examples" / "dask_sweep.py"
    run = subprocess.run(
        [sys.executable, str(script), "--grid", "3", "--workers", "2"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import dask_sweep
    finally:
        sys.path.remove(str(ROOT / "examples"))
    at_home = jit(value_and_grad(dask_sweep.loss, argnums=(0, 1)), backend="native")
    rows = [line for line in run.stdout.splitlines() if line.startswith("k = ")]
    assert run.stdout.startswith("9 points on 2 workers") and rows
    for line in rows:
        words = line.split()
        k, c, value, dk, dc = (float(words[i]) for i in (2, 5, 8, 11, 14))
        assert (value, (dk, dc)) == at_home(k, c)
