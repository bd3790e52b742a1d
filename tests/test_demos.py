"""The demos as a library: one shape for both, continuing in Python, moons' schedule and its SGD."""

from __future__ import annotations

import inspect
import random

import pytest

import chainrule
from chainrule import MLP, Value
from chainrule.demos import moons, xor
from chainrule.storage import checkpoint


def test_both_demos_train_with_the_same_arguments_in_the_same_order():
    shared = ["config", "model", "dataset", "loss_fn", "start"]
    for demo in (xor, moons):
        assert list(inspect.signature(demo.train).parameters)[: len(shared)] == shared


def test_both_objectives_take_points_and_targets_and_give_one_value():
    points, targets = [[0.0, 1.0], [1.0, 1.0]], [1.0, -1.0]
    assert isinstance(xor.objective(xor.build(xor.XorConfig()))(points, targets), Value)
    model, _ = moons.build(moons.MoonsConfig())
    assert isinstance(moons.objective(model, 1e-4)(points, targets), Value)


def test_xor_draws_its_weights_from_its_own_generator():
    random.seed(11)
    expected_next = random.random()
    random.seed(11)
    model = xor.build(xor.XorConfig(seed=5, hidden=3))
    assert random.random() == expected_next  # the global generator was not touched
    random.seed(5)
    assert model.state_dict() == MLP(2, [3, 1]).state_dict()  # the same draws as random.seed(5) gives


def test_continuing_in_python_matches_training_straight_through():
    config = xor.XorConfig(steps=40, seed=3)
    straight = xor.build(config)
    straight_losses = dict(xor.train(config, straight, xor.CORNERS))
    resumed = xor.build(config)
    list(xor.train(xor.XorConfig(steps=25, seed=3), resumed, xor.CORNERS))
    rest = dict(xor.train(xor.XorConfig(steps=15, seed=3), resumed, xor.CORNERS, start=25))
    assert list(rest) == list(range(25, 41))
    assert all(rest[step] == straight_losses[step] for step in rest)
    assert resumed.state_dict() == straight.state_dict()


def test_the_schedule_depends_on_the_step_alone():
    config = moons.MoonsConfig(steps=30, decay_steps=100)
    assert moons.learning_rate(config, 0) == config.lr_start
    assert moons.learning_rate(config, 100) == pytest.approx(config.lr_end)
    assert moons.learning_rate(config, 250) == moons.learning_rate(config, 100)
    assert moons.learning_rate(moons.MoonsConfig(steps=50), 50) == pytest.approx(config.lr_end)


def test_moons_sgd_steps_are_plain_gradient_descent_on_the_schedule():
    """optim.SGD with its lr set each step gives the numbers of p ← p - lr(step)·grad, to the bit."""
    config = moons.MoonsConfig(n=8, steps=4, decay_steps=6)
    model, dataset = moons.build(config)
    trained = [(item.step, item.loss, item.lr) for item in moons.train(config, model, dataset, start=1)]

    by_hand, _ = moons.build(config)
    loss_fn, labels = moons.objective(by_hand, config.alpha), [float(y) for y in dataset.labels]
    expected = []
    for step in range(1, 5):
        loss = loss_fn(dataset.points, labels)
        by_hand.zero_grad()
        loss.backward()
        lr = config.lr_start - (config.lr_start - config.lr_end) * (step / 6)
        expected.append((step, loss.data, lr))
        for p in by_hand.parameters():
            p.data -= lr * p.grad
    assert trained == expected
    assert model.state_dict() == by_hand.state_dict()


def test_a_demo_continues_its_own_checkpoint_from_its_step(tmp_path):
    config = moons.MoonsConfig(n=8, steps=3, decay_steps=9)
    model, _ = moons.build(config)
    chainrule.save(model, tmp_path / "m.json", moons.checkpoint_info(config, 3))
    saved = checkpoint.read(tmp_path / "m.json")
    assert moons.continue_from(saved, "m.json") == 3
    assert moons.saved_config(saved, steps=3) == config

    chainrule.save(xor.build(xor.XorConfig()), tmp_path / "x.json", xor.checkpoint_info(7))
    assert xor.continue_from(checkpoint.read(tmp_path / "x.json"), "x.json") == 7
