"""Grad mode: whether operations record the graph. The engine reads `enabled` for every new node."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

enabled = True


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block operations record no parents and keep no closures: for evaluation and inference.

    The switch is process-wide (one flag, not one per thread), which is all a scalar engine needs.
    """
    global enabled
    previous, enabled = enabled, False
    try:
        yield
    finally:
        enabled = previous
