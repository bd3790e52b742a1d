"""What this thread, or this asyncio task, is in the middle of: a grad's f, a jit trace.

Each is a contextvars.ContextVar, as grad mode is (grad_mode.py), so another thread never sees it:
a thread that traces does not change what one beside it computes or is warned about.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Listener = Callable[[Any], None]  # told of each comparison whose bool() a branch took

_graphs: ContextVar[bool] = ContextVar("chainrule_graphs", default=False)
_listeners: ContextVar[tuple[Listener, ...]] = ContextVar("chainrule_tracing_listeners", default=())


@contextmanager
def graphs() -> Iterator[None]:
    """Inside: grad and value_and_grad give graphs of Values even when called with numbers (jit's tracing)."""
    token = _graphs.set(True)
    try:
        yield
    finally:
        _graphs.reset(token)


def making_graphs() -> bool:
    """Whether a grad's f or a jit trace is running here: then gradients are graphs, to compile or nest."""
    return _graphs.get()


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Inside: jit is tracing here, and `listener(comparison)` is told of every comparison of Values whose
    bool() decided a branch (chainrule.math.floatlike.Comparison): the guards of the path traced."""
    token = _listeners.set((*_listeners.get(), listener))
    try:
        yield
    finally:
        _listeners.reset(token)


def tracing_listeners() -> tuple[Listener, ...]:
    """The listeners of the traces running here (innermost last); none outside tracing."""
    return _listeners.get()


WATCHES: set[Any] = set()  # the cProfile profilers of jit's .data watch, before 3.12 (data_reads.py)


@contextmanager
def unwatched() -> Iterator[None]:
    """Inside: this thread's .data watch, if one runs, is off (chainrule's own code, which it skips
    anyway, runs without a profile call per call); any other profiler is left as it is."""
    watch: Any = sys.getprofile()  # a cProfile.Profile when it is the watch
    if watch not in WATCHES:
        yield
        return
    watch.disable()
    try:
        yield
    finally:
        watch.enable()
