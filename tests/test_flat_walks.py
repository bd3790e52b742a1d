"""The walks numba runs on flat arrays (compiler/flat_walks.py) against the same walks written plainly:
the engine's own topological_order on a graph of Values, and a loop over the slots in Python."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainrule.engine import Value, topological_order

pytestmark = pytest.mark.usefixtures("numba")


@st.composite
def graphs(draw):
    """(first, second) parents per node, -1 for none: leaves first, then nodes of one or two earlier
    parents, a parent often read twice (x * x), so that the walk meets nodes it has seen."""
    leaves = draw(st.integers(1, 4))
    first, second = [-1] * leaves, [-1] * leaves
    for node in range(leaves, leaves + draw(st.integers(1, 40))):
        first.append(draw(st.integers(0, node - 1)))
        second.append(draw(st.sampled_from([-1, first[-1], draw(st.integers(0, node - 1))])))
    return first, second


@given(graphs(), st.data())
def test_the_engine_order_of_the_arrays_is_topological_orders_of_the_values(graph, data):
    import numpy as np

    from chainrule.compiler.flat_walks import engine_order

    first, second = graph
    values: list[Value] = []
    for a, b in zip(first, second):
        parents = tuple(values[p] for p in (a, b) if p >= 0)
        values.append(Value(0.0, parents, "+" if parents else ""))
    root = data.draw(st.integers(0, len(first) - 1))
    firsts, seconds = np.array(first, np.int64), np.array(second, np.int64)
    arity = (firsts >= 0).astype(np.int8) + (seconds >= 0)
    number = {id(value): node for node, value in enumerate(values)}
    expected = [number[id(value)] for value in topological_order(values[root])]
    assert engine_order(firsts, seconds, arity, root).tolist() == expected


@st.composite
def programs(draw):
    """A laid-out program's reads: per op node (slots from start on), its first and last parents' slots
    and, for some, parents between; and the slots that need their gradient to begin with."""
    start = draw(st.integers(1, 6))
    count = draw(st.integers(1, 40))
    parents = []
    for k in range(count):
        earlier = st.integers(0, start + k - 1)
        parents.append(draw(st.lists(earlier, min_size=1, max_size=5)))
    seeded = draw(st.lists(st.integers(0, start + count - 1), max_size=4))
    return start, parents, seeded


@given(programs())
def test_the_nodes_needing_a_gradient_are_the_plain_loops(program):
    import numpy as np

    from chainrule.compiler.flat_walks import mark_needing

    start, parents, seeded = program
    size = start + len(parents)
    expected = [False] * size
    for s in seeded:
        expected[s] = True
    for k, reads in enumerate(parents):  # in slot order: a node needs it when any parent does
        if any(expected[p] for p in reads):
            expected[start + k] = True
    flat = np.array([p for reads in parents for p in reads], np.int64)
    ends = np.cumsum([len(reads) for reads in parents]).astype(np.int64)
    begins = ends - [len(reads) for reads in parents]
    needs = np.zeros(size, bool)
    needs[seeded] = True
    at = np.arange(size, dtype=np.int64)  # slots are the nodes here
    mark_needing(needs, flat[begins], flat[ends - 1], at, flat, begins, ends, start)
    assert needs.tolist() == expected
