"""`chainrule moons` and the plots: progress shown two ways, 100% training accuracy, real PNGs."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest

from chainrule.cli import main
from chainrule.demos import moons
from chainrule.runtime.extras import MissingExtraError

SMALL = ["--n", "16", "--steps", "12"]  # a few seconds; the full run is tested once below


def _png(path):
    from matplotlib import image

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return image.imread(path)


def _assert_not_blank(pixels) -> None:
    colours = {tuple(row) for row in pixels.reshape(-1, pixels.shape[-1])[::7].round(2).tolist()}
    assert len(colours) > 20  # a drawing, not a blank or single-colour canvas
    assert pixels[..., :3].std() > 0.05


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


def test_moons_plot_is_a_png_of_the_expected_size(tmp_path, capsys):
    path = tmp_path / "moons.png"
    assert main(["moons", *SMALL, "--plot", str(path)]) == 0
    assert f"saved to {path}" in capsys.readouterr().out
    pixels = _png(path)
    assert pixels.shape[:2] == (400, 1000)
    _assert_not_blank(pixels)


def test_xor_plot_is_a_png_of_the_expected_size(tmp_path, capsys):
    path = tmp_path / "xor.png"
    assert main(["xor", "--steps", "200", "--plot", str(path)]) == 0
    out = capsys.readouterr().out
    reference = (Path(__file__).parent / "data" / "reference_xor.txt").read_text()
    assert out.splitlines()[0] == reference.splitlines()[0] and f"saved to {path}" in out
    pixels = _png(path)
    assert pixels.shape[:2] == (400, 600)
    _assert_not_blank(pixels)


def test_plot_into_a_missing_folder_is_refused_before_training(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["moons", *SMALL, "--plot", str(tmp_path / "nowhere" / "moons.png")])
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and "does not exist" in err


def test_plot_without_matplotlib_names_the_pip_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["xor", "--plot", str(tmp_path / "xor.png")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and 'pip install "chainrule[plot]"' in err
    from chainrule.demos.plots import save_loss_plot

    with pytest.raises(MissingExtraError, match="chainrule\\[plot\\]"):
        save_loss_plot([1.0, 0.5], tmp_path / "loss.png")


# Bad option values are row M01 of docs/bad-input.md, tested in tests/test_bad_input.py.


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
    from chainrule.storage import checkpoint

    resumed, whole = checkpoint.read(tmp_path / "second.json"), checkpoint.read(straight)
    assert [p.data for p in resumed.model.parameters()] == [p.data for p in whole.model.parameters()]
    assert resumed.info == whole.info


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda path: path.write_text("not json"), "not valid JSON"),
        (lambda path: main(["xor", "--steps", "1", "--save", str(path)]), "not the moons network"),
    ],
)
def test_moons_load_refuses_what_it_cannot_continue(tmp_path, capsys, make, words):
    path = tmp_path / "bad.json"
    make(path)
    capsys.readouterr()
    with pytest.raises(SystemExit) as caught:
        main(["moons", "--load", str(path)])
    assert caught.value.code == 2
    assert words in capsys.readouterr().err


def test_moons_load_refuses_a_checkpoint_without_its_run_settings(tmp_path, capsys):
    from chainrule.storage import checkpoint

    config = moons.MoonsConfig(n=8, steps=1)
    model, _ = moons.build(config)
    path = tmp_path / "bare.json"
    checkpoint.save(model, path, {"step": 1})
    with pytest.raises(SystemExit) as caught:
        main(["moons", "--load", str(path)])
    assert caught.value.code == 2
    assert "was not saved by `chainrule moons --save`" in capsys.readouterr().err


def test_the_schedule_depends_on_the_step_alone():
    config = moons.MoonsConfig(steps=30, decay_steps=100)
    assert moons.learning_rate(config, 0) == config.lr_start
    assert moons.learning_rate(config, 100) == pytest.approx(config.lr_end)
    assert moons.learning_rate(config, 250) == moons.learning_rate(config, 100)
    assert moons.learning_rate(moons.MoonsConfig(steps=50), 50) == pytest.approx(config.lr_end)


def test_zero_steps_reports_the_model_as_it_is(capsys):
    assert main(["moons", "--n", "10", "--steps", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "no SGD steps" in lines[0]
    config = moons.MoonsConfig(n=10, steps=0)
    model, dataset = moons.build(config)
    final = moons.accuracy(model, dataset)
    assert lines[-1] == f"after 0 steps: accuracy {final:.1%} ({round(final * 10)} of 10 points)"
