"""Grad mode: whether operations record the graph. The engine asks `is_enabled()` for every new node.

The mode is a contextvars.ContextVar, so it belongs to the thread (or asyncio task) that set it, as
PyTorch's grad mode is per thread: an evaluator under no_grad() in one thread never turns off the
graph a training loop builds in another. A new thread starts with grad mode on; an asyncio task starts
with the mode of the code that created it, and what it sets stays inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar

_enabled: ContextVar[bool] = ContextVar("chainrule_grad_mode", default=True)

# Whether operations record the graph here and now (the bound method itself: one C call per node)
is_enabled: Callable[[], bool] = _enabled.get


@contextmanager
def _recording(mode: bool) -> Iterator[None]:
    # reset(token) restores the mode this block found, in this context only: blocks nest, and two
    # threads leaving theirs in either order cannot leave the other's mode behind
    token = _enabled.set(mode)
    try:
        yield
    finally:
        _enabled.reset(token)


def no_grad() -> AbstractContextManager[None]:
    """Inside this block operations record no parents and keep no closures: for evaluation and inference.

    The switch is per thread and per asyncio task (see above). Works as a decorator too: `@no_grad()`.
    """
    return _recording(False)


def enable_grad() -> AbstractContextManager[None]:
    """Record the graph inside this block even within `no_grad()`: what `grad` and `value_and_grad` use."""
    return _recording(True)
