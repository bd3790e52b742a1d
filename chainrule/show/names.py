"""Reading a finished graph: its nodes in the engine's order, and short names a person can follow.

Only reads what every Value exposes (`_prev`, `_op`, `data`, `grad`, `label`); it never runs a closure.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from chainrule.engine import Value

__all__ = ["check_root", "number", "short_names"]


def check_root(root: object, reader: str) -> None:
    """TypeError naming what was given, where a reader of graphs was handed something other than a Value."""
    if not isinstance(root, Value):
        raise TypeError(
            f"{reader} reads the graph behind a Value (the result of Value arithmetic), "
            f"got {type(root).__name__}: {root!r}"
        )


def short_names(order: list[Value], root: Value) -> dict[Value, str]:
    """A distinct short name per node: its label if it has one, `out` for the root, n1, n2, … otherwise.

    A label used by several nodes gets #2, #3, … after the first; no made-up name equals a label.
    """
    labels = {node.label for node in order if node.label}
    taken: set[str] = set()

    def first_free(candidates: Iterator[str]) -> str:
        return next(name for name in candidates if name not in taken and name not in labels)

    names: dict[Value, str] = {}
    for node in order:
        if node.label:
            suffixed = (f"{node.label}#{k}" for k in itertools.count(2))
            name = node.label if node.label not in taken else first_free(suffixed)
        elif node is root and "out" not in labels | taken:
            name = "out"
        else:
            name = first_free(f"n{k}" for k in itertools.count(1))
        taken.add(name)
        names[node] = name
    return names


def number(x: float) -> str:
    """A float in six significant digits: short to read, and the same text wherever explain prints it."""
    return f"{x:.6g}"
