"""Walks over a graph kept as flat arrays, compiled by numba once per machine (cached on disk): the
engine's order of a recording's nodes (recording_tape.py), and which of a laid-out program's nodes need
their gradient (native.py). Each is a loop over every node in which a node depends on the ones before
it, which numpy cannot say; in Python they were a tenth of a second at 700,000 nodes."""

from __future__ import annotations

from typing import Any

_COMPILED: dict[str, Any] = {}


def _compiled(walk: Any) -> Any:
    if walk.__name__ not in _COMPILED:
        from numba import njit

        _COMPILED[walk.__name__] = njit(cache=True, nogil=True)(walk)
    return _COMPILED[walk.__name__]


def _engine_order(first: Any, second: Any, arity: Any, root: int, work: Any, order: Any) -> int:
    """topological_order's walk (engine.py) on the arrays: parents in operand order, a node after all
    of its parents, each node once. The nodes in that order go to order, and their count is returned;
    work holds three zeroed rows: the stack, the parents each node has tried, whether it was seen."""
    stack, tried, seen = work[0], work[1], work[2]
    top, done = 0, 0
    stack[0], seen[root] = root, 1
    while top >= 0:
        node = stack[top]
        pushed = False
        while tried[node] < arity[node]:
            parent = first[node] if tried[node] == 0 else second[node]
            tried[node] += 1
            if not seen[parent]:
                seen[parent] = 1
                top += 1
                stack[top] = parent
                pushed = True
                break
        if not pushed:
            order[done] = node
            done += 1
            top -= 1
    return done


def engine_order(first: Any, second: Any, arity: Any, root: int) -> Any:
    """The nodes behind root in the engine's order (10 ms at 700,000 nodes)."""
    import numpy as np

    order = np.empty(len(first), np.int64)
    done = _compiled(_engine_order)(first, second, arity, root, np.zeros((3, len(first)), np.int64), order)
    return order[:done]


def _needing(
    needs: Any, first: Any, last: Any, at: Any, flat: Any, begins: Any, ends: Any, start: int
) -> None:
    """Op node start + k needs its gradient when a parent's slot does: its first's, its last's, or, for a
    user's op of three or more arguments, one between's (the nodes flat[begins[k] + 1 : ends[k] - 1])."""
    for k in range(len(first)):
        if needs[first[k]] or needs[last[k]]:
            needs[start + k] = True
            continue
        for j in range(begins[k] + 1, ends[k] - 1):
            if needs[at[flat[j]]]:
                needs[start + k] = True
                break


def mark_needing(
    needs: Any, first: Any, last: Any, at: Any, flat: Any, begins: Any, ends: Any, start: int
) -> None:
    """needs (a bool per slot, the sources' or live leaves' True) made True, in slot order, for every op
    node from start on that reads a slot that needs it."""
    _compiled(_needing)(needs, first, last, at, flat, begins, ends, start)
