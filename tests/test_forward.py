"""Forward mode: jvp against the engine's gradients on every op of the table and against torch.func.jvp in
float64, the forward trace explain prints, and the survey's example (Baydin et al. 2018) through all of it."""

from __future__ import annotations

import io
import math
import random
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from op_cases import CASE_IDS, CASES, applier, apply
from test_fuzz_gradients import programs

import chainrule
from chainrule import Value, jvp, no_grad, value_and_grad
from chainrule.derivatives.gradcheck import engine_gradient
from chainrule.rules import RULES
from chainrule.show.forward import explain_forward, forward_walk


def survey(x1, x2):
    """y = ln(x1) + x1·x2 - sin(x2): the example of Baydin et al. (2018), tables 2 and 3."""
    return x1.log() + x1 * x2 - x2.sin()


def directions(arity: int, seed: str) -> list[tuple[float, ...]]:
    """Each unit vector, and two random directions."""
    rng = random.Random(seed)
    units = [tuple(1.0 if i == j else 0.0 for j in range(arity)) for i in range(arity)]
    return units + [tuple(rng.uniform(-2, 2) for _ in range(arity)) for _ in range(2)]


# --- the survey's numbers, as published (y ≈ 11.652, ∂y/∂x1 = 5.5, ∂y/∂x2 ≈ 1.716) -------------------


def test_the_survey_example_gives_the_published_numbers():
    value, along_x1 = jvp(survey, (2.0, 5.0), (1.0, 0.0))
    assert value == pytest.approx(11.652, abs=5e-4) and along_x1 == pytest.approx(5.5, abs=1e-12)
    assert jvp(survey, (2.0, 5.0), (0.0, 1.0))[1] == pytest.approx(1.716, abs=5e-4)
    assert chainrule.grad(survey, argnums=(0, 1))(2.0, 5.0) == pytest.approx((5.5, 1.716), abs=5e-4)


def test_the_survey_forward_table_reads_as_published():
    """Table 2 of the survey: v̇1 = 1/2 (ln x1), v̇2 = 5 (x1·x2), v̇3 = 0 (sin x2), v̇4 = 5.5, ẏ = 5.5."""
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = survey(x1, x2)
    y.label = "y"
    trace = forward_walk(y, x1, [x1, x2])
    tangents = {row.computed_as: row.tangent for row in trace.rows}
    assert tangents == {
        "input": tangents["input"],  # the inputs share the label "input"; checked by name below
        "log(x1)": 0.5,
        "x1 * x2": 5.0,
        "sin(x2)": 0.0,
        "n1 + n2": 5.5,
        "n3 - n4": 5.5,
    }
    assert {row.name: row.tangent for row in trace.rows if not row.terms} == {"x1": 1.0, "x2": 0.0}
    assert trace.derivative == 5.5


# --- jvp against the engine's gradients: every op of the table ----------------------------------------


@pytest.mark.parametrize(("rule", "parents", "n"), CASES, ids=CASE_IDS)
def test_jvp_is_the_gradient_dotted_with_the_direction_on_every_op(rule, parents, n):
    fn = applier(rule, n)
    gradient = engine_gradient(fn, parents)
    value = fn(*[Value(x) for x in parents]).data
    for v in directions(len(parents), rule.name):
        out, tangent = jvp(fn, parents, v)
        assert out == value
        expected = math.fsum(g * d for g, d in zip(gradient, v))
        if sorted(v) == [0.0] * (len(v) - 1) + [1.0]:  # a unit vector: one partial, the same bits
            assert tangent == expected
        else:
            assert tangent == pytest.approx(expected, rel=1e-12, abs=1e-14)


def test_every_op_of_the_table_is_in_the_cases():
    assert {rule.name for rule, _, _ in CASES} == {rule.name for rule in RULES if rule.python is None}


def _everything(x, y, z):
    """Every op of the table at once, shared nodes included."""
    shared = x * y - z / (y + 3)
    return (
        shared.tanh() * shared.exp().sigmoid()
        + (x**2).log()
        + (y**x).sin()
        - (-z).cos() * z.relu()
        + (shared * shared + 1) ** y
    )


@pytest.mark.parametrize("point", [(0.7, 1.3, -0.4), (-1.1, 0.6, 2.2), (2.0, 5.0, 0.3)])
def test_jvp_agrees_with_the_gradient_on_a_graph_of_every_op(point):
    gradient = engine_gradient(_everything, point)
    for v in directions(3, str(point)):
        expected = math.fsum(g * d for g, d in zip(gradient, v))
        assert jvp(_everything, point, v)[1] == pytest.approx(expected, rel=1e-12, abs=1e-14)


# --- against PyTorch: torch.func.jvp in float64 -----------------------------------------------------


@pytest.mark.parametrize(("rule", "parents", "n"), CASES, ids=CASE_IDS)
def test_jvp_matches_torch_func_jvp_on_every_op(torch, rule, parents, n):
    for v in directions(len(parents), rule.name):
        primals = tuple(torch.tensor(x, dtype=torch.float64) for x in parents)
        tangents = tuple(torch.tensor(d, dtype=torch.float64) for d in v)
        expected_value, expected_tangent = torch.func.jvp(
            lambda *xs: apply(rule, *xs, n=n), primals, tangents
        )
        value, tangent = jvp(applier(rule, n), parents, v)
        rel = 1e-9 if rule.name == "polygamma" else 1e-12  # torch's polygamma(n >= 1): good to ~1e-10
        assert value == pytest.approx(expected_value.item(), rel=1e-13 if rel < 1e-9 else rel, abs=1e-15)
        assert tangent == pytest.approx(expected_tangent.item(), rel=rel, abs=1e-14)


@pytest.mark.parametrize("point", [(0.7, 1.3, -0.4), (-1.1, 0.6, 2.2)])
def test_jvp_matches_torch_func_jvp_on_a_graph_of_every_op(torch, point):
    for v in directions(3, str(point)):
        primals = tuple(torch.tensor(x, dtype=torch.float64) for x in point)
        tangents = tuple(torch.tensor(d, dtype=torch.float64) for d in v)

        expected_value, expected_tangent = torch.func.jvp(_everything, primals, tangents)
        value, tangent = jvp(_everything, point, v)
        assert value == pytest.approx(expected_value.item(), rel=1e-13)
        assert tangent == pytest.approx(expected_tangent.item(), rel=1e-12, abs=1e-14)


# --- how jvp treats its arguments ---------------------------------------------------------------------


def test_jvp_takes_numbers_of_the_ecosystem():
    np = pytest.importorskip("numpy")
    from fractions import Fraction

    expected = jvp(survey, (2.0, 5.0), (0.25, -1.0))
    assert jvp(survey, (np.float32(2.0), Fraction(5)), (Fraction(1, 4), np.int64(-1))) == expected
    assert jvp(survey, [2, 5], [0.25, -1]) == expected  # lists and ints too


def test_jvp_records_the_graph_inside_no_grad_and_treats_closed_over_values_as_constants():
    w = Value(3.0)
    with no_grad():
        value, tangent = jvp(lambda x: w * x.sin(), (0.5,), (2.0,))
    assert (value, tangent) == (3.0 * math.sin(0.5), 3.0 * math.cos(0.5) * 2.0)
    assert w.grad == 0.0


def test_a_constant_function_has_tangent_zero():
    assert jvp(lambda x: 4.0, (1.0,), (1.0,)) == (4.0, 0.0)
    assert jvp(lambda: Value(2.0).exp(), (), ()) == (math.exp(2.0), 0.0)


# --- explain's forward trace ------------------------------------------------------------------------


def test_the_forward_trace_agrees_with_jvp_node_for_node():
    x, y, z = (Value(v, label=name) for v, name in zip((0.7, 1.3, -0.4), "xyz"))
    root = _everything(x, y, z)
    for wrt, v in ((x, (1.0, 0.0, 0.0)), (y, (0.0, 1.0, 0.0)), (z, (0.0, 0.0, 1.0))):
        trace = forward_walk(root, wrt, [x, y, z])
        assert trace.derivative == jvp(_everything, (0.7, 1.3, -0.4), v)[1]
        for row in trace.rows:  # a node's tangent is the sum of its terms, each local slope × tangent
            if row.terms:
                assert row.tangent == pytest.approx(math.fsum(t.adds for t in row.terms), rel=1e-15, abs=0)
                for term in row.terms:
                    assert term.adds == pytest.approx(term.local * term.tangent, rel=1e-15, abs=1e-300)


def test_explain_forward_prints_the_surveys_table():
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = survey(x1, x2)
    y.label = "y"
    out = io.StringIO()
    assert explain_forward(y, x1, [x1, x2], file=out) == 5.5
    text = out.getvalue()
    for line in (
        "n1    log(x1)      0.693147   0.5      1/x1·ẋ1 = 0.5·1",
        "n2    x1 * x2      10         5        x2·ẋ1 + x1·ẋ2 = 5·1 + 2·0",
        "y     n3 - n4      11.6521    5.5      ṅ3 - ṅ4 = 5.5 - 0",
    ):
        assert line in text
    assert "∂y/∂x1 = ẏ = 5.5" in text


def test_forward_along_something_that_is_not_an_input_is_refused():
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    with pytest.raises(ValueError, match=r"one of the inputs \(x\)"):
        forward_walk(x * y, y, [x])


def test_the_command_prints_the_forward_trace_and_the_survey_numbers(capsys):
    from chainrule.cli import main

    assert main(["explain", "log(x1) + x1*x2 - sin(x2)", "--at", "x1=2", "x2=5", "--forward", "x1"]) == 0
    printed = capsys.readouterr().out
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    root = survey(x1, x2)
    root.label = "f"
    expected = io.StringIO()
    explain_forward(root, x1, [x1, x2], file=expected)
    assert printed == "f = log(x1) + x1*x2 - sin(x2)   at x1 = 2, x2 = 5\n\n" + expected.getvalue()
    assert "∂f/∂x1 = ḟ = 5.5\n" in printed
    assert main(["explain", "log(x1) + x1*x2 - sin(x2)", "--at", "x1=2", "x2=5", "--forward", "x2"]) == 0
    assert "∂f/∂x2 = ḟ = 1.71634\n" in capsys.readouterr().out  # the survey's ≈ 1.716


def test_without_forward_explain_prints_the_backward_walk(capsys):
    from chainrule.cli import main

    assert main(["explain", "log(x1) + x1*x2 - sin(x2)", "--at", "x1=2", "x2=5"]) == 0
    printed = capsys.readouterr().out
    assert "Backward walk" in printed and "Forward mode" not in printed
    assert "∂f/∂x1  =  5.5\n" in printed and "∂f/∂x2  =  1.71634\n" in printed


# --- the forward-mode page (docs/forward-mode.md) ----------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs"
SECTION = (DOCS / "forward-mode.md").read_text()


@pytest.mark.parametrize("block", SECTION.split("$ chainrule ")[1:], ids=lambda block: block.split("\n")[0])
def test_the_page_shows_what_the_survey_commands_print(capsys, block):
    from chainrule.cli import main

    command_line, shown = block.split("```", 1)[0].split("\n", 1)
    assert main(shlex.split(command_line)) == 0
    assert capsys.readouterr().out == shown


def test_the_pages_jvp_example_prints_what_its_comments_say():
    code = SECTION.split("```python\n", 1)[1].split("```", 1)[0]
    claimed = [line.split("  # ", 1)[1] for line in code.splitlines() if line.startswith("print(")]
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert printed.splitlines() == claimed


def test_the_numbers_paragraph_states_what_the_engine_does():
    np = pytest.importorskip("numpy")
    guarantees = (DOCS / "guarantees.md").read_text()
    assert "`Value(np.float32(0.1)).data` is `0.10000000149011612`" in guarantees
    assert Value(np.float32(0.1)).data == 0.10000000149011612
    message = "OverflowError: the exponent of ** got int ≈ 10^400: too large for a\n64-bit float (> 1.8e308)"
    assert message in guarantees
    with pytest.raises(OverflowError) as raised:
        Value(3.0) ** (10**400)
    assert f"OverflowError: {raised.value}" == message.replace("\n", " ")


def test_forward_over_reverse_jvp_of_grad_is_a_row_of_the_hessian():
    """grad(f) called with Values builds a graph (derivatives of derivatives), so jvp can walk it."""

    def g(x, y):
        return x.sin() * y + x.log() * y * y + (x * y).cos()

    hessian = chainrule.hessian(g, argnums=(0, 1))(2.0, 5.0)
    for v in ((1.0, 0.0), (0.0, 1.0), (0.3, -1.2)):
        expected = [math.fsum(h * d for h, d in zip(row, v)) for row in hessian]
        along = [jvp(chainrule.grad(g, argnums=i), (2.0, 5.0), v)[1] for i in (0, 1)]
        assert along == pytest.approx(expected, rel=1e-12, abs=1e-14)


# --- random graphs: the fuzzer's programs (tests/test_fuzz_gradients.py) ------------------------------


@given(data=st.data())
def test_jvp_of_random_graphs_is_the_gradient_dotted_with_the_direction(data):
    program = data.draw(programs())
    v = data.draw(st.tuples(*[st.floats(-2, 2) for _ in program.inputs]))
    gradient = engine_gradient(program, program.inputs)
    value, tangent = jvp(program, program.inputs, v)
    assert value == program(*map(Value, program.inputs)).data
    expected = math.fsum(g * d for g, d in zip(gradient, v))
    # the two walks add the same products in different orders: rounding of the size of the terms that
    # cancel inside the graph (nodes and slopes stay within ±1e3), not of the result
    assert tangent == pytest.approx(expected, rel=1e-9, abs=1e-10)


def test_the_math_page_lists_the_expression_languages_functions_as_they_are():
    from chainrule.cli.expression import FUNCTIONS

    page = (DOCS / "math.md").read_text().replace("\n", " ")
    assert f"`{' '.join(FUNCTIONS)}`" in page


def test_the_benchmark_runs_and_both_modes_agree():
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "forward_reverse.py"
    argv = [sys.executable, str(script), "--sizes", "1", "3", "--repeat", "1"]
    printed = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rows = [line for line in printed.splitlines() if line.startswith("| 1 |") or line.startswith("| 3 |")]
    assert len(rows) == 2 and all(row.endswith("| yes |") for row in rows)


@pytest.mark.parametrize(
    ("f", "point", "direction"),
    [
        (lambda x, y: x**y, (0.0, 0.5), (0.0, 1.0)),  # ∂/∂x is infinite at 0, and x does not move
        (lambda a, b: a / b, (1.0, 1e-200), (1.0, 0.0)),  # ∂/∂b = -1e400 overflows, and b does not move
        (lambda x: (x * 1.0) ** 0.5 + x * 0.0, (0.0,), (0.0,)),  # no input moves: the tangent is 0
    ],
)
def test_a_zero_tangent_adds_zero_whatever_the_slope(f, point, direction):
    """Forward mode agrees with the reverse pass wherever that is finite: a parent that does not move
    adds 0, not 0·inf = NaN (as in JAX)."""
    gradient = value_and_grad(f, tuple(range(len(point))))(*point)[1]
    expected = sum(g * d for g, d in zip(gradient, direction) if d != 0)
    tangent = jvp(f, point, direction)[1]
    assert math.isfinite(tangent) and tangent == expected
