"""Keeping CPython's cyclic garbage collector off the engine's graphs while they are built and walked.

This is the one place the reason is written; the engine, the training loop of `chainrule moons` and the
jit's tracing point here. The engine's graphs hold no reference cycles (a closure never refers to its
own output node), so reference counting frees each step's graph the moment it is dropped. The cyclic
collector finds nothing to free in them, but it walks every live node, again and again as the graph
grows: each node is about six objects it tracks (the Value, its closure, the closure's cells and tuple,
the parents' tuple), and a full collection, which comes each time the tracked objects have grown by a
quarter, rescans them all. On a 700,000-node forward pass that was 8 of 9 seconds; on micrograd's moons
demo 80% of the plain engine's time; tracing the moons objective for the jit, 10 times slower.

Two tools, for two kinds of call:
- `paused()`: chainrule's own long calls (a backward walk, a moons step, a trace) turn the collector off
  for their duration, and put it back as they found it.
- `built()`: a user's loop is not chainrule's to pause, and a pause inside each op could not cover its
  first allocations (the cells of its closure exist before its first line runs). So while it builds a
  graph the engine switches nothing: every EVERY nodes it calls `built()`, which, once the collector's
  next run could be a full one, runs the young collection that run would otherwise start, a little
  before its threshold. Young cycles are freed as they would have been; the full collection waits until
  the collector's own schedule takes over again (an allocation of the user's past the threshold). Nothing
  is switched, so nothing can be left switched; a collector the user turned off is not touched.
"""

from __future__ import annotations

import gc
import itertools
import threading
from types import TracebackType

EVERY = 32  # nodes between two looks at the collector's counts
_MARGIN = EVERY * 8  # tracked objects EVERY nodes can make: node, closure, cells, tuples, a constant


def built() -> None:
    """EVERY more nodes exist: if the collector's next run could be a full one and will come soon, run the
    young collection it would run instead (a full one is considered only after `threshold[2]` of those)."""
    if not gc.isenabled():
        return
    young, aging, old = gc.get_count()
    first, second, third = gc.get_threshold()
    if old > third and first and young + _MARGIN > first:
        gc.collect(1 if aging > second else 0)


# The engine's clock: True at every EVERY-th node it makes (one C call a node, no arithmetic)
look_now = itertools.cycle((False,) * (EVERY - 1) + (True,)).__next__


class _Pause:
    """The collector's switch is one for the whole process, so the blocks of every thread are counted: the
    first in turns it off, the last out puts back what the first found (two threads each restoring what
    it saw could leave it off for good). A class, not a generator: a backward() enters one every call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._was_enabled = False

    def __enter__(self) -> None:
        with self._lock:
            if self._inside == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._inside += 1

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        with self._lock:
            self._inside -= 1
            if self._inside == 0 and self._was_enabled:
                gc.enable()
        built()  # what the block allocated must not start a full collection at the collector's next turn


_PAUSE = _Pause()


def paused() -> _Pause:
    """`with paused():` the cyclic collector does not run inside; as it was before, after (even on error)."""
    return _PAUSE
