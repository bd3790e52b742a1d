"""The tape: a traced graph flattened into lists a backend reads, one entry per node in the engine's order.

Node i has an op (a row of the table of local derivatives, None for a leaf), the indices of its parents,
its number exponent (x ** n), and whether a gradient must flow into it. Leaves are of two kinds: the
inputs (the numbers the compiled function is called with) and the Values fn closed over (a model's
parameters: read at every call, and given their gradients by backward). A function that returns a tuple
of Values (a gradient, say) has its outputs' indices in `outputs`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from chainrule.derivatives.forward import joint_order
from chainrule.engine import Value
from chainrule.rules import Rule, rule_of


@dataclass(frozen=True)
class Tape:
    rules: tuple[Rule | None, ...]  # per node: its op's row; None for a leaf
    parents: tuple[tuple[int, ...], ...]
    exponents: tuple[float | None, ...]
    labels: tuple[str, ...]
    inputs: tuple[int | None, ...]  # per argument number: its node, None if fn never used it
    leaves: tuple[Value, ...]  # the closed-over leaf Values, in node order
    leaf_nodes: tuple[int, ...]  # the node of each of those leaves
    needs_grad: tuple[bool, ...]  # a closed-over leaf, or a node that leads to one
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


def _roots(output: Any) -> list[Value]:
    return [output] if isinstance(output, Value) else [v for item in output for v in _roots(item)]


def record(
    root: Any, inputs: list[Value], gradients_of: list[Value] | None = None, with_value: bool = False
) -> Tape:
    """The tape of the graph behind root (a Value, or a nested tuple of them); inputs are the leaves that
    stand for the call's numbers; gradients_of and with_value, for a gradient's tape (see Tape)."""
    order = joint_order(_roots(root))  # the engine's order: the sums run as backward() runs them
    index = dict(zip(map(id, order), range(len(order))))
    is_input = {id(leaf) for leaf in inputs}
    slot_of = index.__getitem__
    parents = tuple(tuple(map(slot_of, map(id, node._prev))) for node in order)
    rules = tuple(rule_of(node) if node._prev else None for node in order)
    needs_grad: list[bool] = []
    needs, note = needs_grad.__getitem__, needs_grad.append
    for node, its_parents in zip(order, parents):
        note(any(map(needs, its_parents)) if its_parents else id(node) not in is_input)
    leaf_nodes = tuple(i for i, node in enumerate(order) if not node._prev and id(node) not in is_input)
    return Tape(
        rules=rules,
        parents=parents,
        exponents=tuple(map(attrgetter("_exponent"), order)),
        labels=tuple(map(attrgetter("label"), order)),
        inputs=tuple(index.get(id(leaf)) for leaf in inputs),
        leaves=tuple(order[i] for i in leaf_nodes),
        leaf_nodes=leaf_nodes,
        needs_grad=tuple(needs_grad),
        outputs=None if isinstance(root, Value) else _nesting(root, index),
        gradients_of=None if gradients_of is None else tuple(index.get(id(node)) for node in gradients_of),
        with_value=with_value,
    )


def _nesting(output: Any, index: dict[int, int]) -> Any:
    return index[id(output)] if isinstance(output, Value) else tuple(_nesting(x, index) for x in output)


def nested(outputs: Any, value: Callable[[int], Any]) -> Any:
    """value(i) for each index in outputs (an index, or a nested tuple of them), nested the same way."""
    return value(outputs) if isinstance(outputs, int) else tuple(nested(item, value) for item in outputs)


def flat_outputs(outputs: Any) -> list[int]:
    """The slots of a nesting of output slots, in order."""
    return [outputs] if isinstance(outputs, int) else [i for item in outputs for i in flat_outputs(item)]


def held_elsewhere(leaves: tuple[Value, ...]) -> list[bool]:
    """For each leaf, whether anything besides this tuple refers to it.

    A leaf only the tape holds is a number fn lifted to a Value while tracing (the 0.01 in `0.01 * v`):
    nobody can change its .data or read its .grad, so it is a constant of the program, written once,
    and backward sends it nothing. Each count is compared with that of a fresh Value held the same way.
    """
    (alone,) = map(sys.getrefcount, (Value(0.0),))
    return [count > alone for count in map(sys.getrefcount, leaves)]
