"""Grad mode: whether operations record the graph. The engine reads `enabled` for every new node."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

enabled = True


@contextmanager
def _recording(mode: bool) -> Iterator[None]:
    global enabled
    previous, enabled = enabled, mode
    try:
        yield
    finally:
        enabled = previous


def no_grad() -> AbstractContextManager[None]:
    """Inside this block operations record no parents and keep no closures: for evaluation and inference.

    The switch is process-wide (one flag, not one per thread), which is all a scalar engine needs.
    Works as a decorator too: `@no_grad()`.
    """
    return _recording(False)


def enable_grad() -> AbstractContextManager[None]:
    """Record the graph inside this block even within `no_grad()`: what `grad` and `value_and_grad` use."""
    return _recording(True)
