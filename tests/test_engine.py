"""The engine: every op's gradient two ways, the four pitfalls, errors, determinism, depth."""

from __future__ import annotations

import gc
import subprocess
import sys

import op_cases
import pytest
from op_cases import applier

from chainrule import Value
from chainrule.derivatives.gradcheck import engine_gradient, gradcheck, numerical_gradient

# name -> (function, points): every op of the table at points inside its domain (tests/op_cases.py),
# then the reflected forms and a composite. The same function body serves Values and torch tensors.
OPS = {
    name: (applier(rule, n), [parents]) for (rule, parents, n), name in zip(op_cases.CASES, op_cases.CASE_IDS)
} | {
    "radd": (lambda a: 2 + a, [(1.5,), (-0.2,)]),
    "rsub": (lambda a: 2 - a, [(1.5,), (-0.2,)]),
    "rmul": (lambda a: 2 * a, [(1.5,), (-0.2,)]),
    "rdiv": (lambda a: 2 / a, [(1.5,), (-0.2,)]),
    "rpow": (lambda a: 2**a, [(1.5,), (-0.2,)]),
    "composite": (lambda a, b: (a * b + b.exp()).tanh() / (1 + a**2), [(0.3, -0.8), (-1.1, 0.4)]),
}
CASES = [(name, point) for name, (_, points) in OPS.items() for point in points]


def _torch_grad(torch, name, point):
    """The same function evaluated by PyTorch in float64: its value and gradient."""
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    out = OPS[name][0](*leaves)
    if out.requires_grad:  # a comparison's 1.0 or 0.0 is a constant to torch: no gradient flows
        out.backward()
    return out.item(), [0.0 if leaf.grad is None else leaf.grad.item() for leaf in leaves]


@pytest.mark.parametrize(("name", "point"), CASES, ids=[f"{n}{p}" for n, p in CASES])
def test_gradient_matches_central_differences(name, point):
    fn = OPS[name][0]
    analytic = engine_gradient(fn, point)
    numeric = numerical_gradient(fn, point, eps=1e-6)
    for a, n in zip(analytic, numeric):
        assert a == pytest.approx(n, rel=1e-5, abs=1e-6)
    assert gradcheck(fn, point)


@pytest.mark.parametrize(("name", "point"), CASES, ids=[f"{n}{p}" for n, p in CASES])
def test_value_and_gradient_match_torch_float64(torch, name, point):
    fn = OPS[name][0]
    leaves = [Value(x) for x in point]
    out = fn(*leaves)
    out.backward()
    expected_value, expected_grads = _torch_grad(torch, name, point)
    # torch's polygamma of order >= 1 is good to about 1e-10 (ours is held to mpmath's in test_math.py)
    rel = 1e-9 if name.startswith("polygamma") else 1e-12
    assert out.data == pytest.approx(expected_value, rel=min(rel, 1e-13) if rel < 1e-9 else rel, abs=1e-15)
    for leaf, expected in zip(leaves, expected_grads):
        assert leaf.grad == pytest.approx(expected, rel=rel, abs=1e-15)


def test_prev_is_a_tuple_in_operand_order():
    x = Value(3.0)
    for out, first in [(2 + x, 2.0), (2 - x, 2.0), (2 * x, 2.0), (2 / x, 2.0), (2**x, 2.0), (x - 2, 3.0)]:
        assert isinstance(out._prev, tuple)
        assert out._prev[0].data == first
    assert (x * x)._prev == (x, x)


# --- the four things people get wrong -------------------------------------------------------------


def test_locality_a_new_op_needs_only_its_own_derivative():
    # sigmoid is one node with its own closure, and agrees with its composition from other ops
    a, b = Value(0.7), Value(0.7)
    a.sigmoid().backward()
    (1 / (1 + (-b).exp())).backward()
    assert len(Value(0.7).sigmoid()._prev) == 1
    assert a.grad == pytest.approx(b.grad, rel=1e-14)


def test_accumulation_node_used_twice():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 2 * a.data  # both paths count: d(a²)/da = 2a, not a


def test_accumulation_diamond():
    a = Value(0.5)
    b, c = a.tanh(), a.exp()
    (b * c).backward()
    expected = numerical_gradient(lambda x: x.tanh() * x.exp(), [0.5])[0]
    assert a.grad == pytest.approx(expected, rel=1e-8)


def test_accumulation_reused_interior_node():
    a = Value(1.25)
    b = a + a
    c = b + b
    c.backward()
    assert b.grad == 2.0
    assert a.grad == 4.0


def test_topological_order_deep_diamond_chain():
    # each level feeds the next twice: a node firing before all its users would lose gradient
    x = Value(0.9)
    y = _diamond_chain(x, 12)
    y.backward()
    expected = numerical_gradient(lambda v: _diamond_chain(v, 12), [0.9])[0]
    assert x.grad == pytest.approx(expected, rel=1e-6)


def _diamond_chain(v, levels):
    for _ in range(levels):
        v = v.tanh() * 0.7 + v * 0.5
    return v


def _two_steps(zero_between: bool) -> float:
    w = Value(2.0)
    for _ in range(2):
        if zero_between:
            w.grad = 0.0
        loss = (w * 3.0 - 1.0) ** 2
        loss.backward()
        w.data -= 0.01 * w.grad
    return w.data


def test_zeroing_between_steps():
    # by hand: each step's true gradient is 6·(3w - 1)
    w = 2.0
    for _ in range(2):
        w -= 0.01 * 6 * (3 * w - 1)
    assert _two_steps(zero_between=True) == pytest.approx(w, rel=1e-14)
    assert _two_steps(zero_between=False) != pytest.approx(w, rel=1e-6)  # step 2 used step 1's gradient too


def test_backward_twice_interior_restarts_leaves_accumulate():
    a, b = Value(0.3), Value(-1.2)
    mid = a * b
    out = mid.tanh() + mid
    out.backward()
    first = (a.grad, b.grad, mid.grad, out.grad)
    out.backward()
    assert (mid.grad, out.grad) == first[2:]
    assert (a.grad, b.grad) == (2 * first[0], 2 * first[1])


def test_backward_on_a_leaf():
    a = Value(4.0)
    a.backward()
    assert a.grad == 1.0


# --- numbers -----------------------------------------------------------------------------------------


def test_ints_are_stored_as_floats():
    assert type(Value(3).data) is float
    assert type((Value(1.0) + 2).data) is float


# --- memory, determinism, depth -------------------------------------------------------------------


def test_a_graph_has_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        a, b = Value(0.5), Value(-1.5)
        out = ((a * b + a).tanh() - b.exp() / (a**2 + 1)).sigmoid()
        out.backward()
        del out
        assert gc.collect() == 0  # reference counting alone freed the graph
    finally:
        gc.enable()


DETERMINISM_PROGRAM = """
import random
from chainrule import MLP, sum_squared_error
random.seed(3)
model = MLP(3, [8, 8, 1])
points = [[random.uniform(-1, 1) for _ in range(3)] for _ in range(16)]
loss = sum_squared_error([model(p) for p in points], [1.0 if sum(p) > 0 else -1.0 for p in points])
loss.backward()
print(loss.data.hex(), *[p.grad.hex() for p in model.parameters()])
"""


def test_same_program_gives_identical_bits_across_processes():
    outputs = {
        subprocess.run(
            [sys.executable, "-c", DETERMINISM_PROGRAM],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(seed), "PATH": ""},
        ).stdout
        for seed in (0, 1, 2, 3)
    }
    assert len(outputs) == 1


# The million-node chain (the walk has no recursion limit) is in tests/test_deep_wide.py.


def test_repr_shows_the_number_the_gradient_and_a_label_only_when_there_is_one():
    x = Value(2.0, label="x")
    x.grad = 0.5
    assert repr(x) == "Value(data=2.0, grad=0.5, label='x')"
    assert repr(Value(-0.0)) == "Value(data=-0.0, grad=0.0)"
