"""SGD and Adam against torch.optim in float64; the losses' values and gradients."""

from __future__ import annotations

import math

import pytest

from chainrule import SGD, Adam, Value, hinge, mse, sum_squared_error
from chainrule.derivatives.gradcheck import gradcheck

START = [0.8, -1.3, 0.2]


def _objective(w0, w1, w2, *, tanh=None):
    """A small non-convex function of three parameters, written once for Values and tensors."""
    tanh = tanh or (lambda v: v.tanh())
    return (w0 * w1 - 1) ** 2 + tanh(w2 * w0) + 0.5 * w1**4


def _run_chainrule(make_optimizer, steps=25):
    params = [Value(x) for x in START]
    optimizer = make_optimizer(params)
    for _ in range(steps):
        optimizer.zero_grad()
        _objective(*params).backward()
        optimizer.step()
    return [p.data for p in params]


def _run_torch(torch, make_optimizer, steps=25):
    params = [torch.tensor(x, requires_grad=True) for x in START]
    optimizer = make_optimizer(params)
    for _ in range(steps):
        optimizer.zero_grad()
        _objective(*params, tanh=torch.tanh).backward()
        optimizer.step()
    return [p.item() for p in params]


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_matches_torch(torch, momentum):
    ours = _run_chainrule(lambda ps: SGD(ps, lr=0.05, momentum=momentum))
    theirs = _run_torch(torch, lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=momentum))
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-14)
    assert ours != pytest.approx(START)


@pytest.mark.parametrize(("lr", "betas", "eps"), [(1e-3, (0.9, 0.999), 1e-8), (0.05, (0.8, 0.99), 1e-6)])
def test_adam_matches_torch(torch, lr, betas, eps):
    ours = _run_chainrule(lambda ps: Adam(ps, lr=lr, betas=betas, eps=eps))
    theirs = _run_torch(torch, lambda ps: torch.optim.Adam(ps, lr=lr, betas=betas, eps=eps))
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-14)
    assert ours != pytest.approx(START)


def test_lr_can_change_between_steps():
    w = Value(1.0)
    optimizer = SGD([w], lr=0.1)
    w.grad = 2.0
    optimizer.lr = 0.5
    optimizer.step()
    assert w.data == 1.0 - 0.5 * 2.0


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD([Value(1.0)], lr=0),
        lambda: SGD([Value(1.0)], lr=-0.1),
        lambda: SGD([Value(1.0)], lr=math.nan),
        lambda: SGD([Value(1.0)], lr=0.1, momentum=1.5),
        lambda: SGD([], lr=0.1),
        lambda: Adam([Value(1.0)], betas=(0.9,)),
        lambda: Adam([Value(1.0)], eps=0),
    ],
)
def test_bad_optimizer_settings_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_optimizer_refuses_non_values():
    with pytest.raises(TypeError, match="float"):
        SGD([1.0], lr=0.1)


PREDICTIONS, TARGETS = [0.3, -0.8, 1.4], [1.0, -1.0, 1.0]


@pytest.mark.parametrize(
    ("loss", "by_hand"),
    [
        (sum_squared_error, lambda p, y: sum((a - b) ** 2 for a, b in zip(p, y))),
        (mse, lambda p, y: sum((a - b) ** 2 for a, b in zip(p, y)) / len(p)),
        (hinge, lambda p, y: sum(max(0.0, 1 - b * a) for a, b in zip(p, y)) / len(p)),
    ],
)
def test_losses_value_and_gradient(loss, by_hand):
    predictions = [Value(p) for p in PREDICTIONS]
    out = loss(predictions, TARGETS)
    assert out.data == pytest.approx(by_hand(PREDICTIONS, TARGETS), rel=1e-15)
    assert gradcheck(lambda *ps: loss(list(ps), TARGETS), PREDICTIONS)


def test_losses_match_torch(torch):
    predictions = [Value(p) for p in PREDICTIONS]
    out = mse(predictions, TARGETS) + hinge(predictions, TARGETS)
    out.backward()
    t = torch.tensor(PREDICTIONS, requires_grad=True)
    y = torch.tensor(TARGETS)
    expected = torch.mean((t - y) ** 2) + torch.mean(torch.relu(1 - y * t))
    expected.backward()
    assert out.data == pytest.approx(expected.item(), rel=1e-14)
    assert [p.grad for p in predictions] == pytest.approx(t.grad.tolist(), rel=1e-13)


@pytest.mark.parametrize("loss", [sum_squared_error, mse, hinge])
def test_losses_refuse_unpaired_or_empty_lists(loss):
    with pytest.raises(ValueError, match="pair"):
        loss([Value(1.0)], [1.0, 2.0])
    with pytest.raises(ValueError, match="at least one"):
        loss([], [])
