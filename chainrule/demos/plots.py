"""Pictures of training (extra `plot`): the moons decision boundary with its loss curve, a loss curve alone.

Drawn on a matplotlib Figure with the Agg canvas directly, so pyplot's global state and the user's
backend are left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chainrule.demos.data import Dataset
from chainrule.demos.objective import one
from chainrule.grad_mode import no_grad
from chainrule.nn import MLP
from chainrule.runtime.extras import require

DPI = 100


def require_matplotlib() -> None:
    """Fail before a long run, not after it, when matplotlib is missing."""
    require("matplotlib", "plot", "plotting")


def _figure(width: float, height: float) -> Any:
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _loss_curve(axes: Any, losses: Sequence[float], title: str) -> None:
    axes.plot(range(len(losses)), losses, color="tab:blue")
    if losses and min(losses) > 0:
        axes.set_yscale("log")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)


def save_loss_plot(losses: Sequence[float], path: str | Path, title: str = "loss") -> Path:
    """A 600×400-pixel picture of the loss at each step."""
    figure = _figure(6, 4)
    _loss_curve(figure.add_subplot(), losses, title)
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    return Path(path)


def decision_scores(
    model: MLP, dataset: Dataset, resolution: int = 50
) -> tuple[list[float], list[float], list[list[float]]]:
    """The model's score on a resolution² grid around the data (margin 0.5): xs, ys, scores[y][x]."""
    xs_data = [p[0] for p in dataset.points]
    ys_data = [p[1] for p in dataset.points]

    def axis(values: list[float]) -> list[float]:
        low, high = min(values) - 0.5, max(values) + 0.5
        return [low + (high - low) * i / (resolution - 1) for i in range(resolution)]

    xs, ys = axis(xs_data), axis(ys_data)
    with no_grad():
        scores = [[one(model([x, y])).data for x in xs] for y in ys]
    return xs, ys, scores


def save_moons_plot(
    model: MLP, dataset: Dataset, losses: Sequence[float], path: str | Path, resolution: int = 50
) -> Path:
    """A 1000×400-pixel picture: the decision boundary (score = 0) with the points, and the loss curve."""
    figure = _figure(10, 4)
    boundary, curve = figure.subplots(1, 2)
    xs, ys, scores = decision_scores(model, dataset, resolution)
    boundary.contourf(xs, ys, scores, levels=[-1e300, 0, 1e300], colors=["#f4c7a1", "#a9cbe8"], alpha=0.8)
    boundary.contour(xs, ys, scores, levels=[0], colors="black", linewidths=1)
    for label, color in ((-1, "tab:orange"), (1, "tab:blue")):
        points = [p for p, y in zip(dataset.points, dataset.labels) if y == label]
        boundary.scatter(
            [p[0] for p in points],
            [p[1] for p in points],
            c=color,
            s=18,
            edgecolors="black",
            linewidths=0.5,
            label=f"label {label:+d}",
        )
    boundary.set_title("decision boundary (score = 0)")
    boundary.legend(loc="upper right", fontsize="small")
    _loss_curve(curve, losses, "loss (hinge + L2)")
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    return Path(path)
