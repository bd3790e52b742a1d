"""`chainrule moons`: progress shown two ways, 100% training accuracy, jit or not, --save and --load."""

from __future__ import annotations

import io
import re
import sys

from chainrule.cli import main
from chainrule.demos import moons
from chainrule.storage import checkpoint

SMALL = ["--n", "16", "--steps", "12"]  # a few seconds; the full run is tested once below

# Bad option values and checkpoints are rows M01-M02 (and X09 for --plot) of docs/bad-input.md,
# tested in tests/test_bad_input.py.


def test_plain_lines_every_ten_steps_when_not_a_terminal(capsys):
    assert main(["moons", *SMALL, "--seed", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    steps = [int(m.group(1)) for line in lines if (m := re.match(r"step\s+(\d+)\s+loss ", line))]
    assert steps == [0, 10, 11]
    assert lines[0].startswith("moons: 16 points (noise 0.1, seed 3)")
    config = moons.MoonsConfig(seed=3, n=16, steps=12)
    model, dataset = moons.build(config)
    progress = list(moons.train(config, model, dataset))
    assert f"loss {progress[10].loss:.6f}" in lines[2]
    final = moons.accuracy(model, dataset)
    assert lines[-1] == f"after 12 steps: accuracy {final:.1%} ({round(final * 16)} of 16 points)"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_tqdm_bar_on_a_terminal(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert main(["moons", "--n", "10", "--steps", "5", "--no-jit"]) == 0
    text = terminal.getvalue()
    assert "5/5" in text and "\r" in text and re.search(r"loss=\d\.\d{4}, accuracy=\d+%", text)
    assert not re.search(r"^step ", text, re.MULTILINE)


def test_the_default_run_reaches_full_training_accuracy(capsys):
    """`chainrule moons` as it ships (100 points, seed 1337, 100 steps, through jit) ends at 100%."""
    assert main(["moons"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == "after 100 steps: accuracy 100.0% (100 of 100 points)"


def test_jit_and_plain_engine_print_the_same_run(capsys):
    assert main(["moons", *SMALL]) == 0
    compiled = capsys.readouterr().out
    assert main(["moons", *SMALL, "--no-jit"]) == 0
    assert capsys.readouterr().out == compiled


def _log_lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.startswith(("step", "after"))]


def test_moons_save_then_load_continues_exactly_as_a_straight_run(tmp_path, capsys):
    """12 steps straight == 7 steps saved (same 12-step schedule) + 5 more loaded, to the printed digit."""
    base = ["moons", "--n", "16", "--seed", "5", "--no-jit"]
    straight, first = tmp_path / "straight.json", tmp_path / "first.json"
    assert main([*base, "--steps", "12", "--save", str(straight)]) == 0
    straight_log = _log_lines(capsys.readouterr().out)
    assert main([*base, "--steps", "7", "--decay-steps", "12", "--save", str(first)]) == 0
    first_log = _log_lines(capsys.readouterr().out)
    assert main(["moons", "--load", str(first), "--steps", "5", "--save", str(tmp_path / "second.json")]) == 0
    second_log = _log_lines(capsys.readouterr().out)
    assert first_log[0] == straight_log[0]  # step 0
    assert second_log[-3:] == straight_log[-3:]  # steps 10 and 11, and the final accuracy
    assert second_log[0].startswith("step 7 ")
    resumed, whole = checkpoint.read(tmp_path / "second.json"), checkpoint.read(straight)
    assert [p.data for p in resumed.model.parameters()] == [p.data for p in whole.model.parameters()]
    assert resumed.info == whole.info


def test_zero_steps_reports_the_model_as_it_is(capsys):
    assert main(["moons", "--n", "10", "--steps", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "no SGD steps" in lines[0]
    config = moons.MoonsConfig(n=10, steps=0)
    model, dataset = moons.build(config)
    final = moons.accuracy(model, dataset)
    assert lines[-1] == f"after 0 steps: accuracy {final:.1%} ({round(final * 10)} of 10 points)"
