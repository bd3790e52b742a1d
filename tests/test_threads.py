"""Threads and asyncio tasks: grad mode and the tracer's state belong to the thread (or task) that set them.

Real threads, real races: a training loop beside a no_grad() evaluator gives the lone run's numbers to
the bit, two traces at once give two correct programs, and no order of leaving blocks leaves grad mode off.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from chainrule import MLP, Value, enable_grad, grad, grad_mode, jit, no_grad, value_and_grad
from chainrule.compiler import JitTraceWarning
from chainrule.demos import xor
from chainrule.demos.objective import one

WAIT = 30  # seconds: a step that takes longer has deadlocked


def _records() -> bool:
    return bool((Value(1.0) * 2.0)._prev)


def _in_threads(*targets: Callable[[], object]) -> list[object]:
    """Run each target in a thread of its own, all at once; their results, or the first error raised."""
    results: list[object] = [None] * len(targets)
    errors: list[BaseException] = []

    def run(i: int, target: Callable[[], object]) -> None:
        try:
            results[i] = target()
        except BaseException as error:  # re-raised in the test's thread below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, target)) for i, target in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
        assert not thread.is_alive(), "a thread did not finish"
    if errors:
        raise errors[0]
    return results


def _wait(event: threading.Event) -> None:
    assert event.wait(WAIT), "the other thread never got there"


@contextmanager
def _switching_often() -> Iterator[None]:
    """Threads take turns every microsecond instead of every 5 ms: races that can happen, happen."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def test_training_beside_a_no_grad_evaluator_gives_the_lone_runs_numbers_to_the_bit():
    config = xor.XorConfig(steps=400, every=100)
    lone: list[float] = []
    lone_log = list(xor.run(config, lone))
    evaluator, started, done = MLP(2, [4, 1]), threading.Event(), threading.Event()
    evaluated: list[bool] = []

    def evaluate() -> None:
        while not done.is_set():
            with no_grad():
                output = one(evaluator([0.5, -0.5]))
                started.set()
                evaluated.append(bool(output._prev))

    def train() -> tuple[list[str], list[float]]:
        _wait(started)
        losses: list[float] = []
        try:
            return list(xor.run(config, losses)), losses
        finally:
            done.set()

    with _switching_often():
        _, (log, losses) = _in_threads(evaluate, train)
    assert losses == lone and log == lone_log
    assert len(evaluated) > 1 and not any(evaluated)  # the evaluator ran throughout, recording nothing


def test_an_op_records_its_graph_while_another_thread_is_inside_no_grad():
    inside, leave = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def evaluator() -> None:
        with no_grad():
            inside.set()
            _wait(leave)
            seen["evaluator records"] = _records()
        seen["evaluator records after"] = _records()

    def trainer() -> None:
        _wait(inside)
        seen["trainer records"] = _records()
        with no_grad():
            seen["trainer records in its own block"] = _records()
        leave.set()

    _in_threads(evaluator, trainer)
    assert seen == {
        "trainer records": True,
        "trainer records in its own block": False,
        "evaluator records": False,  # the trainer's block ending did not end the evaluator's
        "evaluator records after": True,
    }


def test_blocks_left_in_the_other_order_leave_grad_mode_on_everywhere():
    # with one flag for the process this order leaves it off for good: B saves "off" (A's) and restores it
    a_inside, b_inside, a_left = threading.Event(), threading.Event(), threading.Event()
    after: dict[str, bool] = {}

    def a() -> None:
        with no_grad():
            a_inside.set()
            _wait(b_inside)
        a_left.set()
        after["a"] = grad_mode.is_enabled()

    def b() -> None:
        _wait(a_inside)
        with no_grad():
            b_inside.set()
            _wait(a_left)
            after["b inside"] = grad_mode.is_enabled()
        after["b"] = grad_mode.is_enabled()

    _in_threads(a, b)
    assert after == {"a": True, "b inside": False, "b": True}
    assert _records() and _in_threads(_records) == [True]  # this thread, and a new one


def test_grad_mode_is_never_left_off_after_racing_threads_finish():
    def race() -> bool:
        for _ in range(2000):
            with no_grad():
                Value(1.0) * 2.0
                with enable_grad():
                    Value(1.0) * 2.0
        return grad_mode.is_enabled()

    with _switching_often():
        for _ in range(10):
            assert _in_threads(race, race, race) == [True, True, True]
            assert _records() and _in_threads(_records) == [True]


def test_asyncio_tasks_have_their_own_grad_mode():
    async def scenario() -> dict[str, bool]:
        seen: dict[str, bool] = {}
        inside, leave = asyncio.Event(), asyncio.Event()

        async def evaluator() -> None:
            with no_grad():
                inside.set()
                await leave.wait()
                seen["evaluator, after the other task ran"] = _records()

        async def trainer() -> None:
            await inside.wait()
            seen["trainer, while the evaluator is in no_grad"] = _records()
            leave.set()

        await asyncio.gather(evaluator(), trainer())
        with no_grad():
            child = asyncio.create_task(_in_enable_grad())  # a task starts with its creator's mode...
            seen["a task made under no_grad, in enable_grad"] = await child
            seen["its creator, after"] = _records()  # ...and what it sets stays inside it
        seen["the event loop's code, after"] = _records()
        return seen

    async def _in_enable_grad() -> bool:
        started_off = not _records()
        with enable_grad():
            await asyncio.sleep(0)
            return started_off and _records()

    # in a thread of its own: Playwright's sync API (the page tests) keeps an event loop running in this one
    results: list[dict[str, bool]] = []
    runner = threading.Thread(target=lambda: results.append(asyncio.run(scenario())))
    runner.start()
    runner.join()
    assert results[0] == {
        "evaluator, after the other task ran": False,
        "trainer, while the evaluator is in no_grad": True,
        "a task made under no_grad, in enable_grad": True,
        "its creator, after": False,
        "the event loop's code, after": True,
    }


def test_two_traces_at_once_give_two_correct_programs_each_guarded_only_by_its_own_branches():
    w = Value(0.7)
    g_started, f_started, g_done, looked = (threading.Event() for _ in range(4))

    def f(x):  # traced second, finishing last: its bool() must still be heard after g's trace ended
        f_started.set()
        _wait(g_done)
        _wait(looked)
        y = (w * x).tanh()
        return y * 2 if y else y

    def g(x):  # traced first; its gradient selects (relu's slope): a node, not a guard
        g_started.set()
        _wait(f_started)
        return grad(lambda t: (t * w).relu() + t * t)(x)

    jitted_f, jitted_g = jit(f), jit(g)

    def trace_f() -> float:
        _wait(g_started)
        return jitted_f(3.0)

    def trace_g() -> tuple[float, ...]:
        try:
            return jitted_g(2.0)
        finally:
            g_done.set()

    def bystander() -> bool:  # not tracing: its bool() is no guard of f's, though f traces meanwhile
        _wait(f_started)
        try:
            return bool(Value(1.0))
        finally:
            looked.set()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f_result, g_result, _ = _in_threads(trace_f, trace_g, bystander)
    assert not [warning for warning in caught if warning.category is JitTraceWarning]
    ((f_path,),), ((g_path,),) = jitted_f._programs.values(), jitted_g._programs.values()
    assert f_path.expected == (1.0,)  # f's one bool(), heard by f's trace alone
    assert g_path.guards is None  # g branched on nothing
    engine_f = f(Value(3.0))  # the events are set: the engine runs straight through
    assert f_result == engine_f.data
    assert g_result == grad(lambda t: (t * w).relu() + t * t)(2.0)
    w.grad = 0.0
    f_result.backward()
    compiled_grad, w.grad = w.grad, 0.0
    engine_f.backward()
    assert compiled_grad == w.grad


def test_one_jitted_function_called_from_threads_with_many_shapes():
    w = Value(1.5)

    def loss(xs):
        return sum(((x * w - 1.0) ** 2 for x in xs), Value(0.0))

    jitted = jit(loss, max_programs=4)

    def calls(offset: int) -> Callable[[], list[float]]:
        return lambda: [jitted([0.5 + i] * (1 + (i + offset) % 7)) for i in range(60)]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the cache's limit is reached: retracing is the point here
        with _switching_often():
            results = _in_threads(calls(0), calls(3))
    for offset, got in zip((0, 3), results):
        expected = [loss([Value(0.5 + i)] * (1 + (i + offset) % 7)).data for i in range(60)]
        assert got == expected
    assert len(jitted._programs) <= 4


def test_one_compiled_program_called_from_threads_at_once_gives_each_call_its_own_numbers(backend):
    """Every call of a native program writes the same arrays: calls from two threads take turns."""

    def f(a, b):
        t = a
        for _ in range(200):
            t = (t * b).sin() + a
        return t

    jitted = jit(value_and_grad(f, argnums=(0, 1)), backend=backend)
    points = [(0.1 * i, 0.5 + 0.01 * i) for i in range(40)]
    expected = [value_and_grad(f, argnums=(0, 1))(*point) for point in points]
    results = _in_threads(*(lambda: [jitted(*point) for point in points * 30] for _ in range(4)))
    assert all(got == expected * 30 for got in results)


@pytest.mark.parametrize("mode", [no_grad, enable_grad])
def test_a_new_thread_starts_with_grad_mode_on(mode):
    with mode():
        assert _in_threads(_records) == [True]
