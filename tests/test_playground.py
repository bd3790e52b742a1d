"""The playground in the real Chromium, served from 127.0.0.1: chainrule's wheel running in Pyodide.

What the page shows is held to chainrule run here, in CPython: the walk to `chainrule explain`'s printout
and to the engine's values and gradients, errors to the CLI's messages, training to the demos' losses.
The browser's Python has its own C math library: tanh, exp, log, sin, cos may differ from this machine's
in the last bit (a few ulps after they are composed), so a graph or run that calls them is held within
ULPS; one of arithmetic and relu alone is held equal to the bit. No request may leave the local server.
"""

from __future__ import annotations

import io
import json
import math
import random
import re
from contextlib import redirect_stderr, redirect_stdout, suppress

import pytest
from real_browser import open_url, serve

from chainrule import Value, cli
from chainrule.cli.calculus import typed_expression
from chainrule.demos import moons, xor
from chainrule.engine import topological_order
from chainrule.nn import MLP
from chainrule.show.names import short_names

ULPS = 64  # XOR's 300 steps drift by tens of ulps where the two math libraries' tanh differ
READY = 120_000  # ms: loading Python on a busy machine
CODE = """x = Value(0.5, label="x")
w = Value(-1.5, label="w")
h = (w * x + 2).relu()
print("h is", h.data)
h * h / x
"""
REACHING_OUT = """import js
js.fetch("http://example.com/a")
try:
    js.WebSocket.new("ws://example.com/b")
except Exception as error:
    print(type(error).__name__)
r = js.XMLHttpRequest.new()
r.open("GET", "http://example.com/c", False)
r.send()
Value(1.0)
"""


@pytest.fixture(scope="module")
def opened(playground):
    """The playground page, loaded once for this module's tests (each leaves it ready for the next)."""
    site, app, browser = playground
    with serve(site) as served:
        page = open_url(browser, f"{served.site}{app.as_posix()}/index.html", served.site, 1280, 900)
        page.page.wait_for_selector("body[data-state=ready]", timeout=READY)
        yield page
        page.page.context.close()


def close(a: float, b: float, ulps: int) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b)) or abs(a - b) <= ulps * math.ulp(b)


def _run(page, selector_count: int) -> None:
    page.click("#run")
    page.wait_for_selector(f"#walk[data-runs='{selector_count}']", timeout=60_000)


def _runs(page) -> int:
    return int(page.get_attribute("#walk", "data-runs") or 0)


def walk_expression(page, text: str, at: str) -> None:
    page.click("#tab-walk")
    page.check("input[value=expression]")
    page.fill("#expression", text)
    page.fill("#at", at)
    _run(page, _runs(page) + 1)


def cli_output(argv: list[str]) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), suppress(SystemExit):  # a usage error: on stderr
        cli.main(argv)
    return out.getvalue(), err.getvalue()


def frame_state(frame) -> dict[str, dict[str, str | None]]:
    return frame.evaluate(
        """() => Object.fromEntries(Array.from(document.querySelectorAll('[data-node]')).map(g =>
            [g.dataset.node, {value: g.getAttribute('data-value'), grad: g.getAttribute('data-grad')}]))"""
    )


WALKS = {
    "tanh": ("tanh(w*x + b)", "w=-1.5 x=0.5 b=2", 8),  # the math library's tanh: a few ulps
    "arithmetic": ("(a*b + c) / (a - c) * a", "a=2 b=-3 c=10", 0),  # IEEE arithmetic: the same bits
}


@pytest.mark.parametrize("name", WALKS)
def test_the_walk_is_explains_and_its_numbers_the_engines(opened, name):
    text, at, ulps = WALKS[name]
    page = opened.page
    walk_expression(page, text, at)
    assert page.is_hidden("#error")
    printed, _ = cli_output(["explain", text, "--at", *at.split()])
    lines = printed.splitlines()
    forward_header = lines[3]
    backward_start = lines.index(next(line for line in lines if line.startswith("Backward walk")))
    forward_rows = lines[4 : backward_start - 1]
    seed_line, backward_header = lines[backward_start + 1], lines[backward_start + 2]
    gradients_start = lines.index(next(line for line in lines if line.startswith("Gradients of")))
    backward_rows = lines[backward_start + 3 : gradients_start - 1]

    frame = page.query_selector("#frame-holder iframe").content_frame()
    last = int(frame.text_content("#counter").split()[-1])
    shown: list[list[str]] = []
    for _ in range(last):
        frame.click("#next")
        shown.append(frame.text_content("#lines").split("\n"))
    forward, seed, fired, done = (
        shown[: len(forward_rows)],
        shown[len(forward_rows)],
        shown[len(forward_rows) + 1 : -1],
        shown[-1],
    )
    assert [step[0] for step in forward] == [forward_header] * len(forward_rows)
    assert [step[1] for step in forward] == forward_rows  # explain's printed rows, cell for cell
    assert seed == [seed_line]
    assert {step[0] for step in fired} == {backward_header}
    assert [row for step in fired for row in step[1:]] == backward_rows
    assert done[0] == lines[gradients_start]  # the gradients as explain prints them, set in columns
    assert " ".join(done[1:]).split() == " ".join(lines[gradients_start + 1 :]).split()

    # the page's last step against the engine run here: every value and gradient, to the bit or ULPS
    expression = typed_expression(text, at.split())
    expression.root.backward()
    order = topological_order(expression.root)
    names = short_names(order, expression.root)
    state = frame_state(frame)
    for node in order:
        value, grad = state[names[node]]["value"], state[names[node]]["grad"]
        assert value is not None and close(float(value), node.data, ulps), (names[node], value, node.data)
        assert grad is not None and close(float(grad), node.grad, ulps), (names[node], grad, node.grad)
    shown_gradients = dict(re.findall(r"∂\w+/∂(\w+)\s*= (\S+)", page.text_content("#gradients")))
    assert set(shown_gradients) == set(expression.inputs)
    for input_name, leaf in expression.inputs.items():
        assert close(float(shown_gradients[input_name]), leaf.grad, ulps)
    assert opened.other_requests() == []


@pytest.mark.parametrize("text, at", [("tanh(w*x +", "w=1 x=2"), ("w // x", "w=1 x=2"), ("w * x", "w=1")])
def test_an_error_is_the_clis_message_with_its_caret_never_a_traceback(opened, text, at):
    page = opened.page
    walk_expression(page, text, at)
    _, stderr = cli_output(["explain", text, "--at", *at.split()])
    message = stderr[stderr.index("chainrule explain: error:") :].rstrip("\n")
    assert page.text_content("#error") == message
    if text != "w * x":  # a missing value has no spot to point at
        assert "^" in message.splitlines()[-1]
    assert page.is_hidden("#gradients") and page.query_selector("#frame-holder iframe") is None
    assert "Traceback" not in page.content()


def test_lines_of_python_are_walked_and_their_errors_pointed_at(opened):
    page = opened.page
    page.check("input[value=python]")
    page.fill("#code", CODE)
    _run(page, _runs(page) + 1)
    *body, last = CODE.strip().splitlines()
    namespace: dict = {"Value": Value}
    printed = io.StringIO()
    with redirect_stdout(printed):
        exec("\n".join(body), namespace)  # the test's own lines, as the page ran them
    root = eval(last, namespace)
    root.backward()  # arithmetic and relu: the gradients are the engine's to the bit
    order = topological_order(root)
    names = short_names(order, root)
    shown = dict(re.findall(r"∂\w+/∂(\S+)\s*= (\S+)", page.text_content("#gradients")))
    assert {name: float(grad) for name, grad in shown.items()} == {
        names[node]: node.grad for node in order if not node._prev
    }
    assert page.text_content("#printed") == printed.getvalue()

    page.fill("#code", 'x = Value(-2.0, label="x")\ny = 3 * x\nz = (y + 1).log()\nz')
    _run(page, _runs(page) + 1)
    assert page.text_content("#error").splitlines() == [
        "line 3: DomainError: log needs a positive argument, got -5.0",
        "  z = (y + 1).log()",
        "      ^^^^^^^^^^^^^",
    ]
    assert "Traceback" not in page.content()


def test_the_learners_code_can_reach_no_other_host(opened):
    """The worker keeps the page's policy (connect-src 'self'): fetch, XMLHttpRequest and WebSocket to
    another host are refused by the browser before anything is sent, and the page says so."""
    page = opened.page
    page.check("input[value=python]")
    page.fill("#code", REACHING_OUT)
    errors = len(opened.errors)
    _run(page, _runs(page) + 1)
    assert page.text_content("#error").startswith("line 9: ")  # send() was refused, and said so
    refused: list[str] = []
    for _ in range(100):  # the refusals arrive as the browser reports them (the page's CSP forbids eval)
        refused = json.loads(page.get_attribute("#refused", "data-urls") or "[]")
        if len(refused) >= 3:
            break
        page.wait_for_timeout(100)
    assert sorted(refused) == ["http://example.com/a", "http://example.com/c", "ws://example.com/b"]
    assert opened.blocked == []  # nothing reached the network for another host
    # Playwright also lists an XMLHttpRequest the policy stopped: each is one the page reports refused
    assert set(opened.other_requests()) <= set(refused)
    # expected here, and only here: the learner's failed fetch said in the console, and those listings
    del opened.errors[errors:]
    opened.requests[:] = [url for url in opened.requests if url not in refused]


def test_a_run_that_never_ends_is_stopped_and_python_restarted(opened):
    page = opened.page
    page.check("input[value=python]")
    page.fill("#code", "while True:\n    pass\nValue(1.0)")
    page.click("#run")
    page.wait_for_selector("#halt:not([hidden])", timeout=10_000)
    page.click("#halt")
    page.wait_for_selector("body[data-state=ready]", timeout=READY)
    walk_expression(page, "x * x", "x=3")
    assert page.text_content("#gradients").splitlines()[1] == "∂f/∂x = 6.0"


def train(page, problem: str, hidden: str, lr: str, steps: str) -> dict[str, str | None]:
    page.click("#tab-train")
    page.select_option("#problem", problem)
    page.fill("#hidden", hidden)
    page.fill("#lr", lr)
    page.fill("#steps", steps)
    page.fill("#seed", "1337")
    page.check("#compiled")
    page.click("#train-button")
    page.wait_for_selector("#train[data-state=done]", timeout=120_000)
    return {key: page.get_attribute("#train", f"data-{key}") for key in ("step", "loss", "accuracy")}


def test_training_reaches_100_percent_on_xor_with_the_reference_runs_losses(opened):
    page = opened.page
    final = train(page, "xor", "4", "0.1", "300")
    assert final["accuracy"] == "1.0" and final["step"] == "300"
    config = xor.XorConfig(steps=300)
    model = xor.build(config)  # the reference run, by the engine, in CPython
    expected = [loss for _, loss in xor.train(config, model, xor.CORNERS)]
    losses = [float(loss) for loss in json.loads(page.get_attribute("#curve", "data-losses"))]
    assert len(losses) == len(expected)
    assert all(close(a, b, ULPS) for a, b in zip(losses, expected))
    assert page.text_content("#train-log").splitlines()[-4:] == xor.prediction_lines(model)
    assert opened.other_requests() == []


def test_moons_training_is_the_engines_to_the_bit(opened):
    """ReLU, hinge loss and SGD are arithmetic alone: the browser's compiled run is CPython's engine run."""
    page = opened.page
    final = train(page, "moons", "8, 8", "1.0", "12")
    config = moons.MoonsConfig(steps=12, lr_start=1.0, lr_end=0.1)
    model = MLP(2, [8, 8, 1], activation="relu", output_activation="linear", rng=random.Random(1337))
    expected = list(moons.train(config, model, moons.dataset(config)))
    assert json.loads(page.get_attribute("#curve", "data-losses")) == [repr(p.loss) for p in expected]
    assert final["accuracy"] == repr(expected[-1].accuracy)
    assert page.text_content("#train-log").splitlines()[-1] == moons.result_line(
        model, moons.dataset(config), 12
    )
    assert opened.other_requests() == [] and opened.errors == []
