"""The pictures of `--plot`: PNGs of the expected size; a missing matplotlib is named with its pip command."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from chainrule.cli import main
from chainrule.runtime.extras import MissingExtraError

SMALL = ["--n", "16", "--steps", "12"]


def _png(path):
    from matplotlib import image

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return image.imread(path)


def _assert_not_blank(pixels) -> None:
    colours = {tuple(row) for row in pixels.reshape(-1, pixels.shape[-1])[::7].round(2).tolist()}
    assert len(colours) > 20  # a drawing, not a blank or single-colour canvas
    assert pixels[..., :3].std() > 0.05


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


def test_plot_without_matplotlib_names_the_pip_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["xor", "--plot", str(tmp_path / "xor.png")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and 'pip install "chainrule[plot]"' in err
    from chainrule.demos.plots import save_loss_plot

    with pytest.raises(MissingExtraError, match="chainrule\\[plot\\]"):
        save_loss_plot([1.0, 0.5], tmp_path / "loss.png")
