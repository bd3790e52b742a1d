"""The playground's Python side: what the page asks of chainrule, run inside Pyodide in a Web Worker.

Each call takes the learner's text and returns JSON for the page. An expression and its point are read by
the CLI's own code (`typed_expression`: the parser of chainrule.cli.expression, the names `chainrule
explain` gives) and shown by the walkthrough page, whose steps are explain's `walk`; Graphviz compiled to
WebAssembly lays the graph out in place of the `dot` program. Lines of Python run here, in the browser's
sandbox and nowhere else (this module is not part of chainrule, which never runs what a user types).
Whatever the learner got wrong comes back as a message with a caret under the spot, never a traceback.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import json
import math
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import train

import chainrule
from chainrule import Value, jit
from chainrule.cli.calculus import heading, typed_expression
from chainrule.cli.expression import ExpressionError
from chainrule.demos import moons, xor
from chainrule.demos.objective import one
from chainrule.engine import topological_order
from chainrule.grad_mode import no_grad
from chainrule.show.explain import walk
from chainrule.show.html_page import json_for_script
from chainrule.show.walkthrough import walkthrough

MAX_NODES = 300  # a larger graph is no walk to step through, and lays out slowly
MAX_PRINTED = 20_000  # characters of what the learner's code prints
GRID = 48  # the decision boundary's picture: GRID × GRID scores
SOURCE = "<playground>"  # the file name of the learner's code in errors
Layout = Callable[[str], Any]  # DOT text in, SVG text (or bytes) out


def info() -> str:
    """What runs the page, for its status line."""
    return _json({"python": sys.version.split()[0], "chainrule": chainrule.__version__})


def _json(data: object) -> str:
    return json_for_script(data)


def _refused(message: str, printed: str = "") -> str:
    return _json({"ok": False, "error": message, "printed": printed})


# --- tab 1: an expression, or lines of Python, and its walk ----------------------------------------------


def explain_expression(text: str, at: str, layout: Layout) -> str:
    """`chainrule explain TEXT --at AT`, as its walkthrough page; its errors as the CLI prints them."""
    try:
        expression = typed_expression(text, at.split())
    except ExpressionError as error:
        return _refused(f"chainrule explain: error: {error}")
    return _walked(expression.root, list(expression.inputs.values()), heading(expression), layout, "")


def explain_code(source: str, layout: Layout) -> str:
    """Run the learner's lines; the value of the last one, a Value, is walked (every leaf an input)."""
    try:
        tree = ast.parse(source, SOURCE, "exec")
    except SyntaxError as error:
        return _refused(_syntax_error(error, source))
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return _refused(
            "the last line must be the Value to walk, an expression such as out (not an assignment)"
        )
    body = compile(ast.Module(tree.body[:-1], type_ignores=[]), SOURCE, "exec")
    last = compile(ast.Expression(tree.body[-1].value), SOURCE, "eval")
    namespace: dict[str, Any] = {"__name__": "__main__", "Value": Value, "math": math}
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(body, namespace)  # the learner's own code, in the browser's sandbox: the point of this tab
            root = eval(last, namespace)
    except (Exception, SystemExit) as error:
        return _refused(_raised(error, source), _cut(printed.getvalue()))
    shown = _cut(printed.getvalue())
    if not isinstance(root, Value):
        kind = type(root).__name__
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        message = f"the last line gives {article} {kind}, not a Value: end with the one Value to walk"
        return _refused(message, shown)
    title = (
        f"{ast.get_source_segment(source, tree.body[-1]) or 'out'}: the forward pass and the backward walk"
    )
    return _walked(root, None, title, layout, shown)


def _walked(root: Value, inputs: list[Value] | None, title: str, layout: Layout, printed: str) -> str:
    size = len(topological_order(root))
    if size > MAX_NODES:
        return _refused(
            f"the graph has {size} nodes; the playground walks at most {MAX_NODES}: try a smaller one"
        )
    page = walkthrough(root, inputs, title, layout=lambda dot: _svg_bytes(layout(dot)))
    the_walk = walk(root, inputs, fresh=True)  # what the page's last step lists
    return _json(
        {
            "ok": True,
            "page": page.html,
            "height": page.height,
            "title": title,
            "root": the_walk.root,
            "nodes": size,
            "gradients": [[name, repr(value)] for name, value in the_walk.gradients.items()],
            "printed": printed,
        }
    )


def _cut(printed: str) -> str:
    return printed if len(printed) <= MAX_PRINTED else printed[:MAX_PRINTED] + "\n… (cut)"


def _svg_bytes(svg: Any) -> bytes:
    return svg if isinstance(svg, bytes) else str(svg).encode("utf-8")


def _line(source: str, number: int) -> str:
    lines = source.splitlines() or [""]
    return lines[min(max(number, 1), len(lines)) - 1]


def _caret(message: str, source: str, line: int, start: int | None, end: int | None) -> str:
    """The message, then the line it is about with carets under the spot (the whole line where the spot is
    not known), as the CLI points at an error."""
    text = _line(source, line)
    indent = len(text) - len(text.lstrip())
    start = indent if start is None else max(start, indent)
    end = len(text) if end is None or end <= start else end
    return str(ExpressionError(f"line {line}: {message}", text.rstrip(), start, end))


def _syntax_error(error: SyntaxError, source: str) -> str:
    line = error.lineno or 1
    start = error.offset - 1 if error.offset else 0
    end = error.end_offset - 1 if error.end_offset and error.end_lineno == line else start + 1
    return _caret(f"SyntaxError: {error.msg}", source, line, start, max(end, start + 1))


def _raised(error: BaseException, source: str) -> str:
    """Where in the learner's lines it went wrong (the innermost of their frames), and what was raised."""
    mine = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == SOURCE]
    what = type(error).__name__ + (f": {error}" if str(error) else "")
    if not mine:
        return what
    frame = mine[-1]
    line = frame.lineno or 1
    text = _line(source, line)
    start = getattr(frame, "colno", None)  # Python 3.11 on; before, the whole line is underlined
    end = getattr(frame, "end_colno", None) if getattr(frame, "end_lineno", line) == line else None
    return _caret(what, source, line, _characters(text, start), _characters(text, end))


def _characters(text: str, offset: int | None) -> int | None:
    """A UTF-8 byte offset into the line (as code positions count) as a count of characters."""
    return None if offset is None else len(text.encode()[:offset].decode(errors="ignore"))


# --- tab 2: training -----------------------------------------------------------------------------------


def _whole(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a whole number (from {low} to {high})") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be from {low} to {high}, got {value}")
    return value


def settings(form: dict[str, Any]) -> train.Settings:
    """The Train tab's form as train.Settings; ValueError names the field that is wrong and what it takes."""
    problem = form.get("problem")
    if problem not in ("xor", "moons"):
        raise ValueError(f"problem must be xor or moons, got {problem!r}")
    words = str(form.get("hidden", "")).replace(",", " ").split()
    if not 1 <= len(words) <= 3:
        raise ValueError(f"hidden layers: give one to three sizes, like 16, 16; got {form.get('hidden')!r}")
    hidden = tuple(_whole(word, "a hidden layer's size", 1, 32) for word in words)
    try:
        lr = float(str(form.get("lr")).strip())
    except ValueError:
        raise ValueError(f"learning rate: {form.get('lr')!r} is not a number") from None
    if not (math.isfinite(lr) and 0 < lr <= 10):
        raise ValueError(f"learning rate must be above 0 and at most 10, got {lr:g}")
    steps = _whole(form.get("steps", ""), "steps", 1, 5000)
    seed = _whole(form.get("seed", ""), "seed", 0, 2**31 - 1)
    return train.Settings(problem, hidden, lr, steps, seed, bool(form.get("compiled", True)))


def shown_code(problem: str) -> str:
    """The program the Train tab runs, then the source of the chainrule functions it calls, from the wheel."""
    called = (
        (xor.objective, xor.train)
        if problem == "xor"
        else (moons.objective, moons.learning_rate, moons.train)
    )
    parts = [inspect.getsource(train)]
    for function in called:
        where = inspect.getsourcefile(function) or ""
        parts.append(
            f"# --- {where[where.rfind('chainrule') :]}: {function.__name__} ---\n\n"
            + inspect.getsource(function)
        )
    return "\n\n".join(parts)


class Trainer:
    """One run of the Train tab, advanced a slice of time at a time so the page can draw and stop it.

    Settings that cannot be used leave `error` saying why (and `start()` returns it), so the page gets a
    message, not an exception."""

    def __init__(self, form_json: str) -> None:
        self.error = ""
        self.done = False
        try:
            self.settings = settings(json.loads(form_json))
        except ValueError as error:
            self.error = str(error)
            return
        self.points = train.dataset(self.settings)
        self.model = train.network(self.settings)
        self.steps = train.train(self.settings, self.model, self.points)
        # the picture is scored by the compiled network whatever the setting (its graph is small): the
        # engine would take longer over GRID² points than the training itself
        self.picture = jit(lambda point: one(self.model(point)))
        xs = [p[0] for p in self.points.points]
        ys = [p[1] for p in self.points.points]
        self.frame = [min(xs) - 0.5, max(xs) + 0.5, min(ys) - 0.5, max(ys) + 0.5]

    def start(self) -> str:
        """What the page draws before the first step: the data and the picture's frame."""
        if self.error:
            return _refused(self.error)
        return _json(
            {
                "ok": True,
                "points": self.points.points,
                "labels": self.points.labels,
                "frame": self.frame,
                "network": repr(self.model),
                "parameters": len(self.model.parameters()),
            }
        )

    def advance(self, seconds: float) -> str:
        """Train for about `seconds`; return the steps made (losses as repr) and the picture."""
        made = []
        until = time.perf_counter() + seconds
        for step, loss, accuracy in self.steps:
            made.append([step, repr(loss), repr(accuracy)])
            if time.perf_counter() > until:
                break
        else:
            self.done = True
        with no_grad():
            wrong = [
                i
                for i, (point, label) in enumerate(zip(self.points.points, self.points.labels))
                if (self.picture(point) > 0) != (label > 0)
            ]
        report: dict[str, Any] = {"steps": made, "grid": self.grid(), "wrong": wrong, "done": self.done}
        if self.done:
            report["final"] = self.final_lines()
        return _json(report)

    def grid(self) -> list[float]:
        """The network's score at the centre of each cell of the picture, row by row from the top."""
        x0, x1, y0, y1 = self.frame
        with no_grad():
            return [
                float(self.picture([x0 + (i + 0.5) * (x1 - x0) / GRID, y1 - (j + 0.5) * (y1 - y0) / GRID]))
                for j in range(GRID)
                for i in range(GRID)
            ]

    def final_lines(self) -> list[str]:
        if self.settings.problem == "xor":
            return ["Final predictions:", *xor.prediction_lines(self.model)]
        return [moons.result_line(self.model, self.points, self.settings.steps)]
