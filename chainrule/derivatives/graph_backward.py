"""A differentiable backward pass: gradients as graphs of Values, so that they can be differentiated again.

The engine's backward() runs each node's closure, which adds floats. This walk visits the same nodes in the
same order (reverse topological order) but, for each one, runs the table's partials with Values (VALUES):
what arrives at each parent is then a node, and a gradient is a graph built from the same Values as the
function. The engine is untouched; its closures stay float closures, as the specification teaches.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from chainrule.derivatives.value_rules import VALUES, Number
from chainrule.engine import Value, topological_order
from chainrule.grad_mode import enable_grad
from chainrule.rules import Rule, function, rule_of, signed


@functools.cache
def _signed_partials(rule: Rule) -> tuple[tuple[str, Callable[..., Any]], ...]:
    """Per parent: the sign ('+', or '-' for a partial written -(...), the closure's -=) and the term."""
    return tuple((sign, function(term, VALUES)) for sign, term in map(signed, rule.partials))


def _accumulate(total: Number | None, sign: str, term: Number) -> Number:
    """total ± term; the first term alone (negated for '-'), as the jit's generated code starts a sum."""
    if total is None:
        return term if sign == "+" else -term
    return total + term if sign == "+" else total - term


def gradient_graphs(out: Value, sources: Sequence[Value]) -> list[Value]:
    """∂out/∂s for each s in sources, each a Value whose graph computes it: reverse mode, run with Values.

    Only nodes on a path from a source to out fire (the others add nothing to a source), in the engine's
    order, and each parent's terms are summed in the order the engine adds them. A source is not walked
    through: what lies behind it (the Values a source was made from) is a constant to this derivative."""
    order = topological_order(out)
    source_set = set(sources)
    live: set[Value] = set()
    for node in order:
        if node in source_set or any(parent in live for parent in node._prev):
            live.add(node)
    grads: dict[Value, Number] = {}
    with enable_grad():
        if out in live:
            grads[out] = Value(1.0)  # d(out)/d(out)
        for node in reversed(order):
            if node not in live or node in source_set or node not in grads:
                continue
            a, b, grad = node._prev[0], node._prev[-1], grads[node]
            for parent, (sign, partial) in zip(node._prev, _signed_partials(rule_of(node))):
                if parent in live:
                    term = partial(a, b, node._exponent, node, grad)
                    grads[parent] = _accumulate(grads.get(parent), sign, term)
        return [g if isinstance(g, Value) else Value(g) for g in (grads.get(s, 0.0) for s in sources)]
