"""A training run as one self-contained page: a slider over the recorded steps (`moons --html`, `xor --html`).

A recorder watches the run and only reads it: at each recorded step, before that step's update, it keeps
the loss, the log's own text for the step and what the picture needs (moons: every parameter, so the page
draws the decision boundary; xor: the four predictions, computed under no_grad). The training numbers do
not change, and neither does the printed log.

The moons page draws the boundary in the browser from the recorded parameters, with the engine's
arithmetic in the engine's order (b + w0·x0 + w1·x1 + …, relu as x <= 0 ? 0 : x), so the scores it
computes at the data points are the engine's, bit for bit; the tests hold it to that.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from chainrule.demos import moons, xor
from chainrule.demos.data import Dataset
from chainrule.demos.objective import one
from chainrule.grad_mode import no_grad
from chainrule.nn import MLP
from chainrule.show import html_page

MOONS_POSITIONS = 200  # at most this many recorded steps (evenly spread): ~7 kB of parameters each
XOR_POSITIONS = 2001  # the reference run, every step


def _stride(steps: int, most: int) -> int:
    return max(1, math.ceil(steps / most))


class _Recorder:
    """Keeps every step's loss (the curve) and, at every stride-th step and the last, a position."""

    def __init__(self, start: int, last: int, most: int) -> None:
        self.start, self.last = start, last
        self.stride = _stride(last - start + 1, most)
        self.losses: list[list[float]] = []
        self.positions: list[dict[str, Any]] = []

    def wanted(self, step: int) -> bool:
        return (step - self.start) % self.stride == 0 or step == self.last


class MoonsRecorder(_Recorder):
    """Watches `moons.train`'s progress (`watch` yields every item on, unchanged)."""

    def __init__(self, model: MLP, dataset: Dataset, start: int, steps: int, most: int = MOONS_POSITIONS):
        super().__init__(start, start + steps - 1, most)
        self.model, self.dataset = model, dataset
        self.width = len(str(self.last))

    def watch(self, progress: Iterable[moons.Progress]) -> Iterator[moons.Progress]:
        for item in progress:  # yielded before the step's update: the parameters made this loss
            self.losses.append([item.step, item.loss])
            if self.wanted(item.step):
                weights = [p.data for p in self.model.parameters()]
                line = moons.progress_line(item, self.width)  # as the log prints it (every 10th step, piped)
                self.positions.append({"step": item.step, "line": line, "weights": weights})
            yield item

    def page(self, heading: str, result: str) -> str:
        model = self.model
        sizes, last = [model.nin, *model.nouts], len(model.nouts) - 1
        activations = [model.output_activation if i == last else model.activation for i in range(last + 1)]
        layers = [[sizes[i], sizes[i + 1], activation] for i, activation in enumerate(activations)]
        data = {
            "kind": "moons",
            "heading": heading,
            "result": result,
            "points": self.dataset.points,
            "labels": self.dataset.labels,
            "layers": layers,
            "losses": self.losses,
            "positions": self.positions,
        }
        return _page(heading, data)


class XorRecorder(_Recorder):
    """Called by `xor.run` at every step (`on_step`), before the step's update."""

    def __init__(self, model: MLP, start: int, steps: int, most: int = XOR_POSITIONS):
        super().__init__(start, start + steps, most)  # xor logs its loss after the last update too
        self.model = model

    def __call__(self, step: int, loss: float) -> None:
        self.losses.append([step, loss])
        if self.wanted(step):
            with no_grad():
                lines = xor.prediction_lines(self.model)
                scores = [one(self.model(x)).data for x in xor.CORNERS.points]
            right = sum(line.endswith(" OK") for line in lines)
            self.positions.append(
                {
                    "step": step,
                    "line": f"step {step} loss {loss:.6f}",
                    "predictions": lines,
                    "scores": scores,
                    "shown": [f"{score:+.4f}" for score in scores],  # as prediction_lines prints them
                    "accuracy": f"{right} of {len(lines)} right ({right / len(lines):.0%})",
                }
            )

    def page(self, heading: str) -> str:
        data = {
            "kind": "xor",
            "heading": heading,
            "points": xor.CORNERS.points,
            "labels": xor.CORNERS.labels,
            "losses": self.losses,
            "positions": self.positions,
        }
        return _page(heading, data)


_BODY = """<header><h1>{heading}</h1>
<label for="slider">step</label>
<input id="slider" type="range" min="0" max="{last}" value="0" step="1">
<span id="counter" aria-live="polite"></span>
</header>
<main>
<figure><canvas id="picture" width="440" height="380"></canvas>
<figcaption id="picture-caption"></figcaption></figure>
<figure><canvas id="curve" width="440" height="380"></canvas><figcaption>loss at every step; the marker is the
step shown</figcaption></figure>
</main>
<section id="panel"><pre id="log"></pre></section>
<footer>Keys: with the slider focused, ← → step, Home / End jump. The numbers are printed as the command's log
prints them.</footer>"""


def _page(heading: str, data: dict[str, Any]) -> str:
    body = _BODY.format(heading=html.escape(heading), last=max(len(data["positions"]) - 1, 0))
    style, script = html_page.static_text("training.css"), html_page.static_text("training.js")
    return html_page.page(heading, body, style, script, data)


def write(document: str, path: str | Path) -> Path:
    return html_page.write(document, path)
