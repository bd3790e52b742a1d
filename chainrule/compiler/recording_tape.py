"""A recording's tape (compiler/recorder.py): the engine's order found on its flat arrays (flat_walks.py), the
tape tape.record makes of the engine's graph of the same fn, field for field, and, for a small fn,
that graph made again of Values."""

from __future__ import annotations

from array import array
from typing import Any

from chainrule.compiler.flat_walks import engine_order
from chainrule.compiler.recorder import Recorded, Recording
from chainrule.compiler.tape import Tape
from chainrule.engine import Value
from chainrule.rules import RULES


def nodes(recording: Recording) -> tuple[Any, Any, Any]:
    """(first, second, codes) per node, each constant a leaf node after the recorded ones: constant k,
    the operand -2 - k, is node size + k."""
    from chainrule.compiler.native import np

    size, lifted = recording.size, len(recording.numbers)
    leaves = np.full(lifted, -1, np.int64)
    columns = (
        np.frombuffer(column, np.int64)[:size]
        for column in (recording.codes, recording.first, recording.second)
    )
    codes, first, second = columns
    first, second = (np.where(parents < -1, size - 2 - parents, parents) for parents in (first, second))
    return tuple(np.concatenate((column, leaves)) for column in (first, second, codes))


def rebuilt(recording: Recording, inputs: list[Any]) -> list[Value]:
    """The engine's graph of the recorded fn, made again node for node (per node, its Value): an op by
    values.node (the row's forward value, the engine's bits), a leaf the Value fn read, an input's, a
    constant's Value. For a small fn, whose gradient's graph is compiled."""
    from chainrule.math.values import node

    first, second, codes = (column.tolist() for column in nodes(recording))
    numbers = {x.node: x.data for x in inputs}
    numbers.update(enumerate(recording.numbers, recording.size))  # the constants'
    made: list[Any] = [None] * len(codes)  # the leaves first, as an op's constants come after it
    for i, code in enumerate(codes):
        if code < 0:
            made[i] = recording.leaves[i] if i in recording.leaves else Value(numbers[i])
    for i in range(recording.size):  # then the op nodes, in the order fn made them: parents first
        if codes[i] >= 0:
            parents = [made[first[i]]] if second[i] < 0 else [made[first[i]], made[second[i]]]
            made[i] = node(RULES[codes[i]], *parents, n=recording.exponents.get(i))
    for i, text in recording.labels.items():
        made[i].label = text
    return made


def taped(
    recording: Recording, root: Recorded, inputs: list[Any], sources: list[Any], with_value: bool
) -> Tape:
    """The tape `tape.record(root, inputs, sources, with_value)` makes of the same graph."""
    from chainrule.compiler.native import np

    first, second, codes = nodes(recording)
    arity_made = (first >= 0).astype(np.int8) + (second >= 0)
    order = engine_order(first, second, arity_made, root.node)
    at = np.full(len(first), -1, np.int64)
    at[order] = np.arange(len(order))
    arities = arity_made[order].astype(np.int64)
    pairs = np.stack((at[first[order]], at[second[order]]), axis=1)
    parents = pairs[np.stack((arities >= 1, arities == 2), axis=1)]
    row_of = np.empty(len(RULES) + 1, object)  # a code's row; -1, a leaf's: None
    row_of[: len(RULES)] = RULES
    rules = tuple(row_of[codes[order]].tolist())
    exponents: list[float | None] = [None] * len(order)
    labels = [""] * len(order)
    for made, n in recording.exponents.items():
        if at[made] >= 0:
            exponents[at[made]] = n
    for made, text in recording.labels.items():
        if at[made] >= 0:
            labels[at[made]] = text
    leaf_nodes = order[arities == 0]
    leaf_nodes = leaf_nodes[~np.isin(leaf_nodes, [x.node for x in inputs])]
    leaf_made = leaf_nodes.tolist()
    # a constant's number (the engine's Value of it would be the tape's alone); then, in their places,
    # the few Values fn closed over
    constant = np.maximum(leaf_nodes - recording.size, -1)  # -1: not a constant
    leaves: list[Any] = np.append(np.frombuffer(recording.numbers, np.float64), 0.0)[constant].tolist()
    for k in np.flatnonzero(np.isin(leaf_nodes, list(recording.leaves))).tolist():
        leaves[k] = recording.leaves[leaf_made[k]]
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
        leaves=tuple(leaves),
        leaf_nodes=tuple(at[leaf_nodes].tolist()),
        gradients_of=tuple(map(node_of, sources)),
        with_value=with_value,
    )
