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


def rebuilt(recording: Recording, inputs: list[Any]) -> list[Value]:
    """The engine's graph of the recorded fn, made again node for node (per recorded node, its Value):
    an op by values.node (the row's forward value, the engine's bits), a leaf the Value fn read, a
    constant's Value, an input's. For a small fn, whose gradient's graph is compiled."""
    from chainrule.math.values import node

    numbers = {x.node: x.data for x in inputs}
    made: list[Value] = []
    for i, code in enumerate(recording.codes):
        if code >= 0:
            rule = RULES[code]
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
    row_of = np.empty(len(RULES) + 1, object)  # a code's row; -1, a leaf's: None
    row_of[: len(RULES)] = RULES
    rules = tuple(row_of[np.frombuffer(recording.codes, np.int64)[order]].tolist())
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
    leaves: list[Any] = list(map(recording.constants.get, leaf_made))
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
        leaf_nodes=tuple(at[leaf_made].tolist()),
        gradients_of=tuple(map(node_of, sources)),
        with_value=with_value,
    )
