"""The training pages (`moons --html`, `xor --html`): the log unchanged, the numbers the run's.

The moons page draws the decision boundary from the recorded parameters in the browser, with the engine's
arithmetic in the engine's order: the scores it computes are compared with the engine's, bit for bit.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from real_browser import not_blank, open_page

from chainrule.cli import main
from chainrule.demos import moons, xor
from chainrule.grad_mode import no_grad
from chainrule.show.html_page import json_for_script

REFERENCE = (Path(__file__).parent / "data" / "reference_xor.txt").read_text()
SMALL = ["--n", "24", "--steps", "13", "--seed", "5"]


def _data(path: Path) -> dict:
    pattern = r'<script type="application/json" id="data">(.*?)</script>'
    block = re.search(pattern, path.read_text(), re.DOTALL)
    assert block is not None
    return json.loads(block.group(1))


def _run(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_xor_page_keeps_the_reference_log_and_records_every_step(tmp_path, capsys):
    page = tmp_path / "xor.html"
    out = _run(capsys, "xor", "--html", str(page))
    assert out == REFERENCE + f"training page saved to {page}\n"  # the log, byte for byte, then one line
    data = _data(page)
    losses: list[float] = []
    lines = list(xor.run(xor.XorConfig(), losses))
    assert [loss for _, loss in data["losses"]] == losses  # every step's loss, bit for bit
    positions = data["positions"]
    assert [p["step"] for p in positions] == list(range(2001))
    logged = [p["line"] for p in positions if p["line"] in lines]
    assert logged == [line for line in lines if line.startswith("step ")]
    assert positions[-1]["predictions"] == lines[-4:]  # the last step shows the final predictions
    assert positions[-1]["accuracy"] == "4 of 4 right (100%)"


def test_recording_does_not_change_the_run(tmp_path, capsys):
    plain, recorded = tmp_path / "plain.json", tmp_path / "recorded.json"
    for command in (["xor", "--steps", "300", "--jit"], ["moons", *SMALL]):
        out = _run(capsys, *command, "--save", str(plain))
        paged = _run(capsys, *command, "--save", str(recorded), "--html", str(tmp_path / "p.html"))
        assert paged.splitlines()[:-1] == out.splitlines()  # the same log; one more line says where
        assert recorded.read_text() == plain.read_text()  # the same weights, to the last bit


def test_moons_page_shows_the_logs_lines(tmp_path, capsys):
    page = tmp_path / "moons.html"
    out = _run(capsys, "moons", *SMALL, "--html", str(page))
    printed = [line for line in out.splitlines() if line.startswith("step ")]
    data = _data(page)
    lines = [p["line"] for p in data["positions"]]
    assert len(lines) == 13 and [line for line in lines if line in printed] == printed
    assert data["heading"] == out.splitlines()[0] and data["result"] == out.splitlines()[-2]
    config = moons.MoonsConfig(seed=5, n=24, steps=13)
    model, dataset = moons.build(config)
    progress = list(moons.train(config, model, dataset))
    assert [loss for _, loss in data["losses"]] == [item.loss for item in progress]


def test_the_default_moons_page_is_small(tmp_path, capsys):
    page = tmp_path / "moons.html"
    _run(capsys, "moons", "--html", str(page))
    assert page.stat().st_size < 3_000_000
    assert len(_data(page)["positions"]) == 100


def test_json_in_the_page_holds_any_float_and_no_markup():
    text = json_for_script({"x": [math.nan, math.inf, -math.inf, 0.1, -0.0], "s": "</script>\u2028&"})
    assert text == '{"x":["NaN","Infinity","-Infinity",0.1,-0.0],"s":"\\u003c/script\\u003e\\u2028\\u0026"}'
    assert json.loads(text)["s"] == "</script>\u2028&"


def test_in_a_browser_the_moons_page_scores_as_the_engine(browser, tmp_path, capsys):
    page_path = tmp_path / "moons.html"
    out = _run(capsys, "moons", *SMALL, "--html", str(page_path))
    data = _data(page_path)
    config = moons.MoonsConfig(seed=5, n=24, steps=13)
    model, dataset = moons.build(config)
    engine_scores = []
    for _ in moons.train(config, model, dataset):  # before each update, as the page records
        with no_grad():
            engine_scores.append([model(point).data for point in dataset.points])
    opened = open_page(browser, page_path)
    page = opened.page
    page.focus("#slider")
    for index, position in enumerate(data["positions"]):
        if index:
            page.keyboard.press("ArrowRight")
        assert page.get_attribute("body", "data-step") == str(position["step"])
        assert page.inner_text("#log").splitlines()[0] == position["line"]
        scores = page.evaluate(
            "([w, points]) => points.map(p => window.chainrulePage.score(w, p))",
            [position["weights"], dataset.points],
        )
        assert scores == engine_scores[index]  # the page's own forward pass: the engine's, bit for bit
        right = sum((s > 0) == (label > 0) for s, label in zip(scores, dataset.labels))
        assert f"{right} of {len(dataset)} points on their side" in page.inner_text("#picture-caption")
        assert f"accuracy {right / len(dataset):6.1%}" in position["line"]
    assert page.inner_text("#log").splitlines()[-1] == out.splitlines()[-2]  # the final accuracy
    pictures = "() => ['picture', 'curve'].map(id => document.getElementById(id).toDataURL())"
    stepped = page.evaluate(pictures)
    page.keyboard.press("Home")
    assert page.get_attribute("body", "data-step") == "0"
    page.keyboard.press("End")
    assert page.get_attribute("body", "data-step") == "12"
    assert page.evaluate(pictures) == stepped  # a step's pictures do not depend on the way there
    assert opened.errors == [] and opened.other_requests() == []
    assert not_blank(page.screenshot()) > 50


def test_in_a_browser_the_xor_page_steps_to_the_final_predictions(browser, tmp_path, capsys):
    page_path = tmp_path / "xor.html"
    out = _run(capsys, "xor", "--steps", "40", "--every", "10", "--html", str(page_path))
    opened = open_page(browser, page_path)
    page = opened.page
    page.focus("#slider")
    printed = out.splitlines()
    for step in range(41):
        assert page.get_attribute("body", "data-step") == str(step)
        shown = page.inner_text("#log").splitlines()
        if step % 10 == 0:
            assert shown[0] in printed
        page.keyboard.press("ArrowRight")
    assert page.inner_text("#log").splitlines()[1:5] == printed[-5:-1]  # Final predictions, as printed
    page.keyboard.press("Home")
    assert page.get_attribute("body", "data-step") == "0"
    assert page.inner_text("#log").splitlines()[0] == "step 0 loss 4.025703"
    assert opened.errors == [] and opened.other_requests() == []
    assert not_blank(page.screenshot()) > 20
