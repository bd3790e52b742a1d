"""Engine bugs the fuzzer found, kept as regression tests (now fixed in engine.py).

Found by widening tests/test_fuzz_gradients.py's inputs to subnormals, ±inf and NaN, comparing with PyTorch:
d(a/b)/db is computed as -grad·(a/b/b), as PyTorch does, so b·b never underflows to a zero divisor; and
a NaN base gives a NaN exponent gradient.
"""

from __future__ import annotations

import math

import pytest

from chainrule import Value


@pytest.mark.parametrize("divisor", [1e-200, 1e-320, -2.5e-246])
def test_backward_through_division_by_a_tiny_number(torch, divisor):
    a, b = Value(1.0), Value(divisor)
    (a / b).backward()
    ta = torch.tensor(1.0, requires_grad=True)
    tb = torch.tensor(divisor, requires_grad=True)
    (ta / tb).backward()
    assert (a.grad, b.grad) == (ta.grad.item(), tb.grad.item())


def test_a_nan_base_gives_a_nan_exponent_gradient(torch):
    a, b = Value(math.nan), Value(2.0)
    (a**b).backward()
    ta = torch.tensor(math.nan, requires_grad=True)
    tb = torch.tensor(2.0, requires_grad=True)
    (ta**tb).backward()
    assert math.isnan(tb.grad.item())
    assert math.isnan(b.grad)
