"""A differentiable backward pass: gradients as graphs of Values, so that they can be differentiated again.

The engine's backward() runs each node's closure, which adds floats. This walk visits the same nodes in the
same order (reverse topological order) but, for each one, runs the table's partials on Values (VALUES):
what arrives at each parent is then a node, and a gradient is a graph built from the same Values as the
function. The engine is untouched; its closures stay float closures, as the specification teaches.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext

from chainrule.engine import Value, topological_order
from chainrule.grad_mode import enable_grad
from chainrule.math.values import VALUES, Number
from chainrule.rules import rule_of
from chainrule.runtime import tracing


def _accumulate(total: Number | None, term: Number) -> Number:
    """total + term; the first term alone, as the jit's generated code starts a sum."""
    return term if total is None else total + term


def gradient_graphs(out: Value, sources: Sequence[Value]) -> list[Value]:
    """∂out/∂s for each s in sources, each a Value whose graph computes it: reverse mode, run with Values.

    Only nodes on a path from a source to out fire (the others add nothing to a source), in the engine's
    order, and each parent's terms are summed in the order the engine adds them. A source is not walked
    through: what lies behind it (the Values a source was made from) is a constant to this derivative."""
    with tracing.unwatched():  # chainrule's own walk: jit's .data watch has nothing to see here
        order = topological_order(out)
        source_set = set(sources)
        live: set[Value] = set()
        for node in order:
            if node in source_set or any(parent in live for parent in node._prev):
                live.add(node)
        users_ops = any(node._prev and rule_of(node).python is not None for node in live)
    grads: dict[Value, Number] = {}
    # the table's partials need no watch either; a user's op's partials (its own code) do
    with enable_grad(), nullcontext() if users_ops else tracing.unwatched():
        if out in live:
            grads[out] = Value(1.0)  # d(out)/d(out)
        for node in reversed(order):
            if node not in live or node in source_set or node not in grads:
                continue
            rule, grad = rule_of(node), grads[node]
            for i, parent in enumerate(node._prev):
                if parent in live:
                    term = rule.share(i, VALUES, node._prev, node._exponent, node, grad)
                    # a source's sum starts at 0.0, as its .grad does: 0.0 + -0.0 is 0.0, the engine's zero
                    total = grads.get(parent, 0.0 if parent in source_set else None)
                    grads[parent] = _accumulate(total, term)
        return [g if isinstance(g, Value) else Value(g) for g in (grads.get(s, 0.0) for s in sources)]
