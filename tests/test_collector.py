"""collector.paused(): the cyclic collector is off inside, and back as it was after, errors included."""

from __future__ import annotations

import gc
import threading

import pytest

from chainrule.runtime import collector


def test_paused_switches_the_collector_off_and_back_on():
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_paused_restores_after_an_error():
    with pytest.raises(RuntimeError), collector.paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_paused_leaves_a_disabled_collector_disabled():
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_threads_pausing_at_once_keep_it_off_until_the_last_leaves():
    # each restoring what it found would turn it on while b is inside, or (entering between a's check and
    # a's switch) leave it off for good
    a_inside, b_inside, a_left = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with collector.paused():
            a_inside.set()
            assert b_inside.wait(30)
        a_left.set()

    def b():
        assert a_inside.wait(30)
        with collector.paused():
            b_inside.set()
            assert a_left.wait(30)
            seen["inside b, after a left"] = gc.isenabled()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert seen == {"inside b, after a left": False}
    assert gc.isenabled()


def test_a_training_step_leaves_nothing_for_the_collector():
    """The reason pausing is safe: the engine's graphs are acyclic, so nothing waits for the collector."""
    from chainrule.demos import moons

    config = moons.MoonsConfig(n=8, steps=2)
    model, dataset = moons.build(config)
    gc.collect()
    gc.disable()
    try:
        list(moons.train(config, model, dataset))
        assert gc.collect() == 0
    finally:
        gc.enable()


def _oscillator_loss(k, c, x0, steps):
    """A user's own loop, as benchmarks/scalar_programs.py writes it: 14 nodes a step."""
    x, v, total = x0, 0.0, 0.0
    for t in range(steps):
        a = -k * x - c * v
        x, v = x + 0.01 * v, v + 0.01 * a
        r = x - 0.001 * t
        total = total + r * r
    return total


def _gradients(steps):
    from chainrule import Value

    params = [Value(3.0), Value(0.5), Value(0.8)]
    loss = _oscillator_loss(*params, steps)
    loss.backward()
    return loss.data, [p.grad for p in params]


def _full_collections_during(work):
    generations = []

    def record(phase, info):
        if phase == "start":
            generations.append(info["generation"])

    gc.collect()
    gc.callbacks.append(record)
    try:
        result = work()
    finally:
        gc.callbacks.remove(record)
    return result, generations


def test_a_users_loop_gets_the_gradients_of_the_loop_without_the_collector():
    gc.disable()
    try:
        without = _gradients(2_000)
    finally:
        gc.enable()
    assert _gradients(2_000) == without


def test_a_users_loop_leaves_the_collector_on_and_runs_no_full_collection():
    # 100,000 nodes: the collector's own schedule would rescan the graph in full collections several times
    seen = []
    _, generations = _full_collections_during(lambda: (_gradients(7_000), seen.append(gc.isenabled())))
    assert seen == [True] and gc.isenabled()
    assert generations and 2 not in generations  # young collections ran, full ones did not


def test_young_cyclic_garbage_made_in_a_users_loop_is_still_freed_during_it():
    import weakref

    from chainrule import Value

    class Cyclic:
        pass

    x, gone = Value(1.0), []
    for step in range(20_000):
        if step == 100:
            garbage = Cyclic()
            garbage.itself = garbage
            gone.append(weakref.ref(garbage))
            del garbage
        x = x * 1.0 + 0.0
    assert gone[0]() is None  # collected by a young collection while the graph grew


def test_a_collector_the_user_turned_off_is_not_touched():
    gc.disable()
    try:
        gc.collect()
        _, generations = _full_collections_during(lambda: _gradients(3_000))
        assert generations == [] and not gc.isenabled()
    finally:
        gc.enable()
