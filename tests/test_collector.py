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
