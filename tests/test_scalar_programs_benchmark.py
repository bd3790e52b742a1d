"""benchmarks/scalar_programs.py at tiny sizes: every contender here agrees with chainrule's engine, and
the engine agrees with central differences. Nothing about time is asserted: the machines are shared."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import chainrule

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("scalar_programs", ROOT / "benchmarks" / "scalar_programs.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # dataclasses look their module up by name
_spec.loader.exec_module(bench)

STEPS = 80  # long enough for the ball to reach the floor (about step 50) and bounce
TINY = bench.Settings(steps=STEPS, repeat=1, budget=0.0, timeout=120.0)


@pytest.fixture(scope="module", params=bench.WORKLOADS)
def work(request):
    return bench.make_workload(request.param, STEPS)


def _rows_or_skip(work, contender: str) -> list:
    try:
        return bench.measure(work, contender, TINY)
    except bench.Skipped as skip:
        pytest.skip(f"{contender}: {skip}")


def _assert_agree(rows: list, work) -> None:
    expected, _ = bench.reference(work)
    assert rows
    for row in rows:
        assert row.result is not None, row.note
        assert bench.difference(row.result, expected) <= bench.AGREE, (row.contender, row.result, expected)


def test_engine_gradients_match_central_differences(work):
    assert chainrule.gradcheck(lambda a, b, c: work.program(a, b, c, work.observed, work.dt), work.at)


def test_the_ball_reaches_the_floor_at_the_tiny_size():
    """Otherwise the branch (and the gradient with respect to the floor's stiffness) would go untested."""
    _, grad_stiffness, _, _ = bench.reference(bench.make_workload("ball", STEPS))[0]
    assert grad_stiffness != 0.0


@pytest.mark.parametrize("contender", [name for name in bench.CONTENDERS if name != "torch"])
def test_contender_agrees_with_the_engine(work, contender):
    _assert_agree(_rows_or_skip(work, contender), work)


def test_torch_agrees_with_the_engine(work, torch):
    _assert_agree(_rows_or_skip(work, "torch"), work)


def test_the_oscillator_is_about_seven_thousand_nodes():
    _, nodes = bench.reference(bench.make_workload("oscillator", 500))
    assert 6_500 <= nodes <= 7_500


def test_the_script_prints_one_agreeing_row_per_contender(capsys):
    argv = ["--steps", str(STEPS), "--repeat", "1", "--budget", "0", "--contenders", "engine,jit,hand"]
    assert bench.main(argv) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| oscillator")]
    assert [row.split("|")[2].strip() for row in rows] == ["engine", "jit python", "hand"]
    assert all(row.split("|")[-2].strip() == "yes" for row in rows)


def test_jax_unrolled_past_its_time_cap_is_a_row_that_says_so():
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed")
    settings = bench.Settings(steps=STEPS, repeat=1, budget=0.0, timeout=0.01)
    (row,) = bench.measure(bench.make_workload("oscillator", STEPS), "jax-unrolled", settings)
    assert row.result is None
    assert row.note == "did not compile in 0.01 s"
