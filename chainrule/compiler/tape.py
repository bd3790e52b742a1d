"""The tape: a traced graph flattened into lists a backend reads, one entry per node in the engine's order.

Node i has an op (a row of the table of local derivatives, None for a leaf), the indices of its parents,
its number exponent (x ** n), and whether a gradient must flow into it. Leaves are of two kinds: the
inputs (the numbers the compiled function is called with) and the Values fn closed over (a model's
parameters: read at every call, and given their gradients by backward). A function that returns a tuple
of Values (a gradient, say) has its outputs' indices in `outputs`.
"""

from __future__ import annotations

import functools
import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, compress, islice
from operator import attrgetter
from typing import Any

from chainrule.derivatives.forward import joint_order
from chainrule.engine import Value
from chainrule.rules import Rule, rule_of


@dataclass(frozen=True)
class Tape:
    rules: tuple[Rule | None, ...]  # per node: its op's row; None for a leaf
    arities: array[int]  # per node: how many parents it has (int64; 0 for a leaf)
    parent_nodes: array[int]  # each node's parents in turn, flat (int64: 8 bytes a parent, not a tuple)
    exponents: tuple[float | None, ...]
    labels: tuple[str, ...]
    inputs: tuple[int | None, ...]  # per argument number: its node, None if fn never used it
    leaves: tuple[Value | float, ...]  # the leaf Values, in node order (a recording's constants: floats)
    leaf_nodes: tuple[int, ...]  # the node of each of those leaves
    outputs: Any = (
        None  # fn returned a tuple: the same nesting of node indices; None: one root, the last node
    )
    # a gradient's tape (the graph of f alone, for a backend with a backward pass of its own): the nodes
    # whose d(root)/d(node) the program returns, after the root's value when with_value (None: a node f
    # never used, whose gradient is 0)
    gradients_of: tuple[int | None, ...] | None = None
    with_value: bool = False

    def __len__(self) -> int:
        return len(self.rules)

    @functools.cached_property
    def parents(self) -> tuple[tuple[int, ...], ...]:
        """Per node: its parents (the python backend reads them so; the native one, flat)."""
        flat = iter(self.parent_nodes)
        return tuple(tuple(islice(flat, n)) for n in self.arities)

    @functools.cached_property
    def needs_grad(self) -> tuple[bool, ...]:
        """Per node: a closed-over leaf, or a node that leads to one (the python backend's backward
        pass reads it; the native one finds its own)."""
        needs: list[bool] = []
        needs_of, note = needs.__getitem__, needs.append
        leaf = dict.fromkeys(self.leaf_nodes, True)
        for i, its_parents in enumerate(self.parents):
            note(any(map(needs_of, its_parents)) if its_parents else i in leaf)
        return tuple(needs)


def _roots(output: Any) -> list[Value]:
    return [output] if isinstance(output, Value) else [v for item in output for v in _roots(item)]


def record(
    root: Any, inputs: list[Value], gradients_of: list[Value] | None = None, with_value: bool = False
) -> Tape:
    """The tape of the graph behind root (a Value, or a nested tuple of them); inputs are the leaves that
    stand for the call's numbers; gradients_of and with_value, for a gradient's tape (see Tape)."""
    order = joint_order(_roots(root))  # the engine's order: the sums run as backward() runs them
    # keyed by the Values themselves: their hash is their identity, so no comparison is ever called
    index = dict(zip(order, range(len(order))))
    prevs = list(map(attrgetter("_prev"), order))
    ops, arities = list(map(attrgetter("_op"), order)), array("q", map(len, prevs))
    leaf_at = [i for i, n in enumerate(arities) if not n]
    # a row looked up once an op (rule_of refuses an op the table lacks); a node given another op's
    # number of parents by hand is then found by comparing the arities, and refused by rule_of too
    one_of_each = dict(zip(compress(ops, arities), compress(order, arities)))
    rule_of_op = {op: rule_of(node) for op, node in one_of_each.items()}
    rules: list[Rule | None] = list(map(rule_of_op.get, ops))
    for i in leaf_at:
        rules[i] = None
    arity_of = {op: rule.arity for op, rule in rule_of_op.items()}
    if list(map(arity_of.__getitem__, compress(ops, arities))) != list(filter(None, arities)):
        for node in compress(order, arities):
            rule_of(node)
    is_input = set(inputs)
    leaf_nodes = tuple(i for i in leaf_at if order[i] not in is_input)
    return Tape(
        rules=tuple(rules),
        arities=arities,
        parent_nodes=array("q", map(index.__getitem__, chain.from_iterable(prevs))),
        exponents=tuple(map(attrgetter("_exponent"), order)),
        labels=tuple(map(attrgetter("label"), order)),
        inputs=tuple(map(index.get, inputs)),
        leaves=tuple(order[i] for i in leaf_nodes),
        leaf_nodes=leaf_nodes,
        outputs=None if isinstance(root, Value) else _nesting(root, index),
        gradients_of=None if gradients_of is None else tuple(map(index.get, gradients_of)),
        with_value=with_value,
    )


def _nesting(output: Any, index: dict[Value, int]) -> Any:
    return index[output] if isinstance(output, Value) else tuple(_nesting(x, index) for x in output)


def nested(outputs: Any, value: Callable[[int], Any]) -> Any:
    """value(i) for each index in outputs (an index, or a nested tuple of them), nested the same way."""
    return value(outputs) if isinstance(outputs, int) else tuple(nested(item, value) for item in outputs)


def flat_outputs(outputs: Any) -> list[int]:
    """The slots of a nesting of output slots, in order."""
    return [outputs] if isinstance(outputs, int) else [i for item in outputs for i in flat_outputs(item)]


def held_elsewhere(leaves: tuple[Value | float, ...]) -> list[bool]:
    """For each leaf, whether it is a Value anything besides this tuple refers to.

    A leaf only the tape holds is a number fn lifted to a Value while tracing (the 0.01 in `0.01 * v`):
    nobody can change its .data or read its .grad, so it is a constant of the program, written once,
    and backward sends it nothing. Each count is compared with that of a fresh Value held the same way.
    A recording's tape (recording_tape.py) has such a number as the float itself.
    """
    (alone,) = map(sys.getrefcount, (Value(0.0),))
    counts = list(map(sys.getrefcount, leaves))  # before anything else holds a leaf
    return [count > alone and type(leaf) is not float for leaf, count in zip(leaves, counts)]
