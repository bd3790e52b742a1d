"""`chainrule xor --save/--load`: a run continued from a checkpoint is the straight run, number for number."""

from __future__ import annotations

import random

import pytest

import chainrule
from chainrule import cli
from chainrule.demos import xor


def _run(capsys, *argv: str) -> list[str]:
    assert cli.main(["xor", *argv]) == 0
    return capsys.readouterr().out.splitlines()


def _steps(lines: list[str]) -> dict[int, str]:
    return {int(line.split()[1]): line for line in lines if line.startswith("step ")}


@pytest.mark.parametrize(("first", "more"), [(135, 70), (0, 50), (200, 0)])
def test_save_then_load_continues_exactly_as_the_straight_run(tmp_path, capsys, first, more):
    common = ["--lr", "0.3", "--seed", "7", "--hidden", "3"]
    straight_file, half_file, resumed_file = (str(tmp_path / name) for name in ("s.json", "h.json", "r.json"))
    straight = _run(capsys, *common, "--steps", str(first + more), "--every", "1", "--save", straight_file)
    _run(capsys, *common, "--steps", str(first), "--save", half_file)
    resumed = _run(
        capsys, *common, "--steps", str(more), "--every", "10", "--load", half_file, "--save", resumed_file
    )

    # steps are numbered on from the checkpoint: the first and last, and every 10th in between
    wanted = {first, first + more} | {step for step in range(first, first + more + 1) if step % 10 == 0}
    assert list(_steps(resumed)) == sorted(wanted)
    assert all(line == _steps(straight)[step] for step, line in _steps(resumed).items())
    assert resumed[-5:] == straight[-5:]  # "Final predictions:" and the four corners
    # and the weights themselves agree to the last bit
    assert chainrule.load(resumed_file).state_dict() == chainrule.load(straight_file).state_dict()
    assert chainrule.storage.checkpoint.read(resumed_file).info == {"command": "xor", "step": first + more}


def test_continuing_in_python_matches_training_straight_through():
    config = xor.XorConfig(steps=40, seed=3)
    straight = xor.build(config)
    straight_losses = dict(xor.train(straight, config))
    resumed = xor.build(config)
    half = xor.XorConfig(steps=25, seed=3)
    list(xor.train(resumed, half))
    rest = dict(xor.train(resumed, xor.XorConfig(steps=15, seed=3), start=25))
    assert list(rest) == list(range(25, 41))
    assert all(rest[step] == straight_losses[step] for step in rest)
    assert resumed.state_dict() == straight.state_dict()


def _usage_error(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as raised:
        cli.main(["xor", *argv])
    assert raised.value.code == 2
    printed = capsys.readouterr()
    assert "step" not in printed.out  # refused before any training
    return printed.err


def test_load_of_a_missing_or_bad_file_is_a_usage_error(tmp_path, capsys):
    assert "No such file" in _usage_error(capsys, "--load", str(tmp_path / "absent.json"))
    (tmp_path / "bad.json").write_text('{"format": "chainrule-checkpoint", "vers')
    assert "bad.json: not valid JSON" in _usage_error(capsys, "--load", str(tmp_path / "bad.json"))


def test_load_of_a_network_that_is_not_an_xor_network_is_a_usage_error(tmp_path, capsys):
    chainrule.save(chainrule.MLP(2, [16, 16, 1], "relu", "linear", rng=random.Random(0)), tmp_path / "m.json")
    assert "not an XOR network" in _usage_error(capsys, "--load", str(tmp_path / "m.json"))


@pytest.mark.parametrize("step", [-1, 2.5, "3", True])
def test_load_with_a_bad_step_count_is_a_usage_error(tmp_path, capsys, step):
    chainrule.save(chainrule.MLP(2, [4, 1], rng=random.Random(0)), tmp_path / "m.json", {"step": step})
    assert "step count must be a whole number" in _usage_error(capsys, "--load", str(tmp_path / "m.json"))


def test_save_to_a_directory_or_into_a_missing_one_is_a_usage_error_before_training(tmp_path, capsys):
    assert "is a directory" in _usage_error(capsys, "--save", str(tmp_path))
    assert "does not exist" in _usage_error(capsys, "--save", str(tmp_path / "no" / "m.json"))
