"""jit's compile cache: at most max_programs programs per function, the least recently used dropped
(and its memory freed), one warning naming the function when the limit is first reached."""

from __future__ import annotations

import gc
import warnings
import weakref

import pytest

from chainrule import Value, jit
from chainrule.compiler import MAX_PROGRAMS, JitCacheWarning

W = Value(0.5)


def _counting():
    """A function of a list and the list of the lengths it was traced for (fn runs only when traced)."""
    traced: list[int] = []

    def loss(xs):
        traced.append(len(xs))
        return sum(((x * W - 1.0) ** 2 for x in xs), Value(0.0))

    return loss, traced


def _engine(xs: list[float]) -> tuple[float, float]:
    W.grad = 0.0
    out = sum(((Value(x) * W - 1.0) ** 2 for x in xs), Value(0.0))
    out.backward()
    return out.data, W.grad


def _compiled(jitted, xs: list[float]) -> tuple[float, float]:
    W.grad = 0.0
    out = jitted(xs)
    out.backward()
    return out.data, W.grad


def _points(n: int) -> list[float]:
    return [0.25 * i - 1.0 for i in range(n)]


def test_the_least_recently_used_program_is_dropped_and_traced_again_when_met():
    loss, traced = _counting()
    jitted = jit(loss, max_programs=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JitCacheWarning)
        for n in [1, 2, 3, 1, 4, 2, 1, 3]:
            assert _compiled(jitted, _points(n)) == _engine(_points(n))
    # 4 drops 2 (1 was used after 3); 2 drops 3; 1 is held; 3 drops 4
    assert traced == [1, 2, 3, 4, 2, 3]
    assert len(jitted._programs) == 3


def test_one_warning_naming_the_function_when_the_limit_is_first_reached():
    loss, traced = _counting()
    jitted = jit(loss, max_programs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jitted(_points(1))
        jitted(_points(2))
        jitted(_points(1))  # a shape held: no trace, no warning
    with pytest.warns(JitCacheWarning, match=r"_counting.<locals>.loss .*max_programs=2") as caught:
        for n in range(3, 9):
            jitted(_points(n))
    assert len([w for w in caught if w.category is JitCacheWarning]) == 1
    assert traced == [1, 2, *range(3, 9)]


def test_the_default_limit_is_max_programs():
    loss, _ = _counting()
    jitted = jit(loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for n in range(1, MAX_PROGRAMS + 1):
            jitted(_points(n))
    with pytest.warns(JitCacheWarning):
        jitted(_points(MAX_PROGRAMS + 1))
    assert len(jitted._programs) == MAX_PROGRAMS


def _only_program(jitted) -> weakref.ref:
    ((path,),) = jitted._programs.values()  # one shape, one path through fn
    return weakref.ref(path)


def test_a_dropped_program_is_freed_unless_a_result_still_holds_it():
    loss, _ = _counting()
    jitted = jit(loss, max_programs=1)
    kept = jitted(_points(3))  # a result keeps its program: backward() still needs it
    held = _only_program(jitted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JitCacheWarning)
        jitted(_points(2))  # drops the program for 3 (kept holds it)
        dropped = _only_program(jitted)
        code = weakref.ref(dropped().program.forward)
        jitted(_points(4))  # drops the program for 2: nothing holds it
    gc.collect()  # the generated functions and their namespace refer to each other
    assert dropped() is None and code() is None
    assert held() is not None
    W.grad = 0.0
    kept.backward()
    assert (kept.data, W.grad) == _engine(_points(3))
    del kept
    gc.collect()
    assert held() is None
