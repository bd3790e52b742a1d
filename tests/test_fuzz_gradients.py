"""Random expression graphs over every op, checked against central differences and PyTorch float64.

A program is a list of instructions, each applying one op to earlier nodes (any earlier node, so
subexpressions are shared and nodes are used several times). The same program runs on engine Values
and on torch tensors: every op is spelled as Python operators and methods both understand.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from op_cases import FUZZED, KINKS, apply

import chainrule
from chainrule import Value, gradcheck, no_grad
from chainrule.derivatives.gradcheck import engine_gradient, numerical_gradient


def _ops() -> dict[str, tuple[Callable, str | None]]:
    """op name -> (how it applies to nodes a, b and a number c; which number c it takes), for every row of
    the table of local derivatives: a binary op on two nodes and with a number on either side."""
    ops: dict[str, tuple[Callable, str | None]] = {}
    for rule in FUZZED:
        if rule.exponent:  # x ** n: n a number
            ops[f"a {rule.symbol} c"] = (lambda a, b, c, r=rule: apply(r, a, n=c), "exponent")
        elif rule.arity == 2:
            ops[f"a {rule.symbol} b"] = (lambda a, b, c, r=rule: apply(r, a, b), None)
            number_left = "base" if rule.name == "pow" else "scale"
            ops[f"c {rule.symbol} a"] = (lambda a, b, c, r=rule: apply(r, c, a), number_left)
            if f"a {rule.symbol} c" not in ops and rule.name != "pow":  # a ** c is x ** n's row
                ops[f"a {rule.symbol} c"] = (lambda a, b, c, r=rule: apply(r, a, c), "scale")
        else:
            ops[rule.name] = (lambda a, b, c, r=rule: apply(r, a), None)
    return ops


OPS = _ops()
NUMBERS = {
    "scale": [-2, -0.5, 0.5, 1, 3.0],
    "exponent": [-2, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3],
    "base": [0.5, 2, 3.0],
    None: [None],
}
LARGEST = 1e3  # every node and its slopes stay within ±LARGEST, so central differences stay accurate
MARGIN = 0.25  # distance kept from each op's edge (log at 0, division by 0, 0 ** negative)


@dataclass(frozen=True)
class Instruction:
    op: str
    a: int
    b: int
    c: float | None


@dataclass(frozen=True)
class Program:
    inputs: tuple[float, ...]
    body: tuple[Instruction, ...]
    outputs: tuple[int, ...]  # the root is the sum of these nodes

    def __call__(self, *leaves):
        nodes = list(leaves)
        for ins in self.body:
            nodes.append(OPS[ins.op][0](nodes[ins.a], nodes[ins.b], ins.c))
        root = nodes[self.outputs[0]]
        for i in self.outputs[1:]:
            root = root + nodes[i]
        return root

    def ops(self) -> set[str]:
        return {ins.op for ins in self.body}


def _in_domain(op: str, a: float, b: float, c: float | None) -> bool:
    """Far enough from every edge that x ± ε (ε = 1e-6, scaled by the slopes) stays on the same side:
    the op and its slopes are finite at a ± MARGIN, b ± MARGIN, and at 0 where such an interval holds
    it (every edge of the table's ops is at 0); and no kink (relu's) is within reach."""
    if abs(a) < KINKS.get(op.split()[1] if " " in op else op, 0.0):  # "a hypot b": the row hypot
        return False
    fn = OPS[op][0]

    def around(x: float) -> list[float]:
        # the edges are whole numbers: 0 (log, /), ±1 (asin, acosh, atanh), the poles of Γ
        edges = [float(round(x))] if abs(x - round(x)) < MARGIN else []
        return [x - MARGIN, x + MARGIN, *edges]

    for u in around(a):
        for v in around(b) if "b" in op.split() else [b]:
            try:
                with no_grad():
                    value = fn(Value(u), Value(v), c).data
                slopes = engine_gradient(lambda x, y: fn(x, y, c), [u, v])
            except (ValueError, ZeroDivisionError):
                return False
            if not all(math.isfinite(x) for x in (value, *slopes)):
                return False
    return True


@st.composite
def programs(draw, max_inputs: int = 4, max_ops: int = 12) -> Program:
    inputs = draw(st.lists(st.floats(-2, 2), min_size=1, max_size=max_inputs))
    values = list(inputs)
    body = []
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(sorted(OPS)))
        a, b = (draw(st.integers(0, len(values) - 1)) for _ in range(2))
        c = draw(st.sampled_from(NUMBERS[OPS[op][1]]))
        ins = Instruction(op, a, b, c)
        value = _forward(ins, values) if _in_domain(op, values[a], values[b], c) else math.nan
        if not abs(value) <= LARGEST or not _steepest(inputs, [*body, ins]) <= LARGEST:
            # out of domain, too large, too steep or NaN: tanh is defined everywhere, and no steeper
            ins = Instruction("tanh", a, b, None)
            value = math.tanh(values[a])
        body.append(ins)
        values.append(value)
    extra = draw(st.lists(st.integers(0, len(values) - 1), max_size=3))
    return Program(tuple(inputs), tuple(body), (len(values) - 1, *extra))


def _steepest(inputs: list[float], body: list[Instruction]) -> float:
    """max |∂(last node)/∂xᵢ|: kept at most LARGEST, so x ± ε moves no node by more than 1e-3."""
    last = Program(tuple(inputs), tuple(body), (len(inputs) + len(body) - 1,))
    return max(map(abs, engine_gradient(last, inputs)))


def _forward(ins: Instruction, values: list[float]) -> float:
    with no_grad():
        return OPS[ins.op][0](Value(values[ins.a]), Value(values[ins.b]), ins.c).data


@given(programs())
def test_random_graph_gradients_match_central_differences(program):
    assert gradcheck(program, program.inputs, atol=1e-5, rtol=1e-4)


@given(program=programs())
def test_random_graph_values_and_gradients_match_pytorch(torch, program):
    leaves = [torch.tensor(x, requires_grad=True) for x in program.inputs]
    expected = program(*leaves)
    expected.backward()
    with no_grad():
        value = program(*map(Value, program.inputs)).data
    assert value == pytest.approx(expected.item(), rel=1e-12, abs=1e-12)
    assert engine_gradient(program, program.inputs) == pytest.approx(
        [leaf.grad.item() if leaf.grad is not None else 0.0 for leaf in leaves], rel=1e-9, abs=1e-9
    )


def _search(condition):
    """An example of the strategy meeting `condition`, found by generation alone (no shrinking needed)."""
    quick = settings(
        max_examples=5000, phases=[Phase.generate], database=None, suppress_health_check=list(HealthCheck)
    )
    return find(programs(), condition, settings=quick)


@pytest.mark.parametrize("op", sorted(OPS))
def test_generator_reaches_every_op(op):
    # the test is that find() succeeds: it raises NoSuchExample if no program uses the op
    assert op in _search(lambda program: op in program.ops()).ops()


def test_generator_shares_nodes():
    def uses(program, node):
        return sum((ins.a == node) + (ins.b == node and "b" in ins.op.split()) for ins in program.body)

    # the test is that find() succeeds: it raises NoSuchExample if no node is used three times
    program = _search(lambda p: any(uses(p, n) >= 3 for n in range(len(p.inputs) + len(p.body))))
    assert max(uses(program, n) for n in range(len(program.inputs) + len(program.body))) >= 3


@given(programs())
def test_grad_of_random_graph_matches_central_differences(program):
    everything = tuple(range(len(program.inputs)))
    value, gradient = chainrule.value_and_grad(program, argnums=everything)(*program.inputs)
    with no_grad():
        assert value == program(*map(Value, program.inputs)).data
    assert gradient == pytest.approx(numerical_gradient(program, program.inputs), rel=1e-4, abs=1e-5)
