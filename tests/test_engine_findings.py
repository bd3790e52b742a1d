"""Engine bugs the fuzzer found: strict xfails until engine.py is fixed (they then pass: remove the mark).

Found by widening tests/test_fuzz_gradients.py's inputs to subnormals, ±inf and NaN, comparing with PyTorch.
"""

from __future__ import annotations

import math

import pytest

from chainrule import Value


@pytest.mark.xfail(
    strict=True,
    raises=ZeroDivisionError,
    reason="engine.py __truediv__ backward computes grad·a/(b·b); b·b underflows to 0.0 for |b| < ~1.5e-154, "
    "so backward() raises ZeroDivisionError (PyTorch: d/da = 1/b, d/db = -inf). Fix: grad·(a/b)/b.",
)
@pytest.mark.parametrize("divisor", [1e-200, 1e-320, -2.5e-246])
def test_backward_through_division_by_a_tiny_number(torch, divisor):
    a, b = Value(1.0), Value(divisor)
    (a / b).backward()
    ta = torch.tensor(1.0, requires_grad=True)
    tb = torch.tensor(divisor, requires_grad=True)
    (ta / tb).backward()
    assert (a.grad, b.grad) == (ta.grad.item(), tb.grad.item())


@pytest.mark.xfail(
    strict=True,
    reason="engine.py _pow_value backward uses `a^b·ln a if a > 0 else 0.0`: a NaN base gives exponent "
    "gradient 0.0 instead of NaN (PyTorch: NaN), so NaN does not propagate as IEEE says. Fix: test a == 0.",
)
def test_a_nan_base_gives_a_nan_exponent_gradient(torch):
    a, b = Value(math.nan), Value(2.0)
    (a**b).backward()
    ta = torch.tensor(math.nan, requires_grad=True)
    tb = torch.tensor(2.0, requires_grad=True)
    (ta**tb).backward()
    assert math.isnan(tb.grad.item())
    assert math.isnan(b.grad)
