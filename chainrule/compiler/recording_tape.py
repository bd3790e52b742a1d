"""A recording's tape (compiler/recorder.py): the engine's order found on its flat arrays by numba, the
tape tape.record makes of the engine's graph of the same fn, field for field, and, for a small fn,
that graph made again of Values."""

from __future__ import annotations

from array import array
from typing import Any

from chainrule.compiler.recorder import Recorded, Recording
from chainrule.compiler.tape import Tape
from chainrule.engine import Value


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


_COMPILED: list[Any] = []


def engine_order(first: Any, second: Any, arity: Any, root: int) -> Any:
    """The nodes behind root in the engine's order, by _engine_order compiled by numba (once per machine):
    10 ms at 700,000 nodes."""
    from chainrule.compiler.native import np

    if not _COMPILED:
        from numba import njit

        _COMPILED.append(njit(cache=True, nogil=True)(_engine_order))
    order = np.empty(len(first), np.int64)
    done = _COMPILED[0](first, second, arity, root, np.zeros((3, len(first)), np.int64), order)
    return order[:done]


def rebuilt(recording: Recording, inputs: list[Any]) -> list[Value]:
    """The engine's graph of the recorded fn, made again node for node (per recorded node, its Value):
    an op by values.node (the row's forward value, the engine's bits), a leaf the Value fn read, a
    constant's Value, an input's. For a small fn, whose gradient's graph is compiled."""
    from chainrule.math.values import node

    numbers = {x.node: x.data for x in inputs}
    made: list[Value] = []
    for i, rule in enumerate(recording.rules):
        if rule is not None:
            parents = [made[recording.first[i]]]
            if recording.second[i] >= 0:
                parents.append(made[recording.second[i]])
            made.append(node(rule, *parents, n=recording.exponents.get(i)))
        elif i in recording.leaves:
            made.append(recording.leaves[i])
        else:
            made.append(Value(recording.constants[i] if i in recording.constants else numbers[i]))
    for i, text in recording.labels.items():
        made[i].label = text
    return made


def taped(
    recording: Recording, root: Recorded, inputs: list[Any], sources: list[Any], with_value: bool
) -> Tape:
    """The tape `tape.record(root, inputs, sources, with_value)` makes of the same graph."""
    from chainrule.compiler.native import np

    first, second = np.frombuffer(recording.first, np.int64), np.frombuffer(recording.second, np.int64)
    arity_made = (first >= 0).astype(np.int8) + (second >= 0)
    order = engine_order(first, second, arity_made, root.node)
    at = np.full(len(first), -1, np.int64)
    at[order] = np.arange(len(order))
    arities = arity_made[order].astype(np.int64)
    pairs = np.stack((at[first[order]], at[second[order]]), axis=1)
    parents = pairs[np.stack((arities >= 1, arities == 2), axis=1)]
    rules = tuple(map(recording.rules.__getitem__, order.tolist()))
    exponents: list[float | None] = [None] * len(order)
    labels = [""] * len(order)
    for made, n in recording.exponents.items():
        if at[made] >= 0:
            exponents[at[made]] = n
    for made, text in recording.labels.items():
        if at[made] >= 0:
            labels[at[made]] = text
    is_input = {x.node for x in inputs}
    leaf_made = [made for made in order[arities == 0].tolist() if made not in is_input]
    leaves = tuple(
        recording.leaves[made] if made in recording.leaves else Value(recording.constants[made])
        for made in leaf_made
    )
    for made, leaf in recording.leaves.items():
        if at[made] >= 0:
            labels[at[made]] = leaf.label
            exponents[at[made]] = leaf._exponent  # a Value made by x ** n under no_grad() keeps its n

    def node_of(x: Any) -> int | None:
        return int(at[x.node]) if at[x.node] >= 0 else None

    return Tape(
        rules=rules,
        arities=array("q", arities.tobytes()),
        parent_nodes=array("q", parents.tobytes()),
        exponents=tuple(exponents),
        labels=tuple(labels),
        inputs=tuple(map(node_of, inputs)),
        leaves=leaves,
        leaf_nodes=tuple(at[leaf_made].tolist()),
        gradients_of=tuple(map(node_of, sources)),
        with_value=with_value,
    )
