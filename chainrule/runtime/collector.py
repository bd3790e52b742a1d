"""Pausing CPython's cyclic garbage collector while a large graph is built and dropped.

This is the one place the reason is written; the training loop of `chainrule moons` and the jit's
tracing pause the collector, and point here. The engine's graphs hold no reference cycles (a closure
never refers to its own output node), so reference counting frees each step's graph the moment it is
dropped. The cyclic collector finds nothing to free in them, but it still walks every live node, again
and again as the graph grows: on micrograd's moons demo (about 65,000 nodes a step) that walking was
80% of the plain engine's time, and it made tracing the moons objective for the jit about 10 times slower.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# The collector's switch is one for the whole process, so the blocks of every thread are counted: the
# first in turns it off, the last out puts back what the first found (two threads each restoring what
# it saw could leave it off for good).
_lock = threading.Lock()
_inside = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    """Inside this block the cyclic collector does not run; as it was before, after it (even on error)."""
    global _inside, _was_enabled
    with _lock:
        if _inside == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _was_enabled:
                gc.enable()
