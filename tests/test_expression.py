"""Expressions from the command line: computed by the engine, checked, and never executed as Python."""

from __future__ import annotations

import io
import math
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.cli import main
from chainrule.cli.expression import ExpressionError, evaluate, parse_bindings
from chainrule.derivatives.gradcheck import numerical_gradient
from chainrule.engine import Value

ROOT = Path(__file__).resolve().parents[1]


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# (expression, bindings, the same function written with the math module: no engine, no parser)
CASES = [
    ("x**2 * exp(-y)", {"x": 1.5, "y": 0.2}, lambda x, y: x**2 * math.exp(-y)),
    ("tanh(a*b + c)", {"a": 2.0, "b": -3.0, "c": 6.5}, lambda a, b, c: math.tanh(a * b + c)),
    ("log(x) / (1 + y**2) - 3*x*y", {"x": 0.7, "y": -1.3}, lambda x, y: math.log(x) / (1 + y**2) - 3 * x * y),
    (
        "sigmoid(u) * relu(v - 1) + u**v",
        {"u": 1.2, "v": 2.5},
        lambda u, v: _sigmoid(u) * max(0, v - 1) + u**v,
    ),
    ("-(x - 2)**3 / x", {"x": 0.9}, lambda x: -((x - 2) ** 3) / x),
    ("2**t + exp(t)*t", {"t": -0.4}, lambda t: 2**t + math.exp(t) * t),
]


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    return status, out, err


def _cli(*argv: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "chainrule", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(("text", "bindings", "reference"), CASES)
def test_grad_command_matches_central_differences(capsys, text, bindings, reference):
    status, out, _ = _run(capsys, "grad", text, "--at", *(f"{k}={v!r}" for k, v in bindings.items()))
    assert status == 0
    printed = dict(line.split(" = ") for line in out.splitlines()[1:])
    printed = {name.strip(): float(value) for name, value in printed.items()}
    point = list(bindings.values())
    assert printed["f"] == pytest.approx(reference(*point), rel=1e-9)
    numeric = numerical_gradient(lambda *v: Value(reference(*(x.data for x in v))), point)
    for name, slope in zip(bindings, numeric):
        assert printed[f"∂f/∂{name}"] == pytest.approx(slope, rel=1e-5, abs=1e-7)


def test_grad_matches_pytorch(torch):
    x, y = torch.tensor(0.8, requires_grad=True), torch.tensor(-0.6, requires_grad=True)
    (torch.sigmoid(x * y) / torch.exp(y) + torch.log(x) ** 2 - torch.tanh(torch.relu(x) * 3)).backward()
    built = evaluate("sigmoid(x*y) / exp(y) + log(x)**2 - tanh(relu(x)*3)", {"x": 0.8, "y": -0.6})
    built.root.backward()
    assert built.inputs["x"].grad == pytest.approx(x.grad.item(), rel=1e-12)
    assert built.inputs["y"].grad == pytest.approx(y.grad.item(), rel=1e-12)


def test_a_name_used_twice_is_one_leaf():
    built = evaluate("x*x + x", {"x": 3.0})
    built.root.backward()
    assert built.inputs["x"].grad == 2 * 3.0 + 1


def test_every_argument_of_a_function_counts_its_names():
    """`hypot(x, y)`: y is used (it is the second argument), and its gradient is the engine's."""
    import chainrule.math as cm

    built = evaluate("hypot(x, y) + atan2(y, x)", {"x": 3.0, "y": 4.0})
    built.root.backward()
    x, y = Value(3.0), Value(4.0)
    expected = cm.hypot(x, y) + cm.atan2(y, x)
    expected.backward()
    assert (built.inputs["x"].grad, built.inputs["y"].grad) == (x.grad, y.grad)


@pytest.mark.parametrize(
    ("text", "pointed_at", "complaint"),
    [
        ("__import__('os').system('echo hi')", "__import__('os').system", "may be called"),
        ("x.real", "x.real", "attribute access"),
        ("x[0]", "x[0]", "subscripts"),
        ("(lambda: 1)()", "lambda: 1", "may be called"),
        ("x + (lambda: 1)", "lambda: 1", "lambdas"),
        ("[x for x in (1, 2)]", "[x for x in (1, 2)]", "comprehensions"),
        ("open('f', 'w')", "open", "may be called"),
        ("'abc' * x", "'abc'", "strings"),
        ("x // 2", "x // 2", "//"),
        ("x if x else 1", "x if x else 1", "if/else"),
        ("x < 1", "x < 1", "comparisons"),
        ("tanh(x, x)", "tanh(x, x)", "exactly one argument"),
        ("atan2(x, x.real)", "x.real", "attribute access"),  # the second argument is checked as the first
        ("hypot(x, 1, open('f'))", "open", "may be called"),
        ("tanh(x=x)", "x=x", "keyword"),
        ("exp", "exp", "is a function"),
        ("x + __class__", "__class__", "names starting with _"),
        ("x + 1j", "1j", "imaginary"),
        ("x * True", "True", "not a number"),
        ("not x", "not x", "not allowed"),
        ("x @ x", "x @ x", "@"),
        ("1e999 * x", "1e999", "too large"),
    ],
)
def test_hostile_input_is_refused_with_a_caret(capsys, text, pointed_at, complaint):
    status, out, err = _run(capsys, "grad", text, "--at", "x=1")
    assert status == 2
    assert out == ""
    assert complaint in err
    lines = err.splitlines()
    source, caret = lines[-2], lines[-1]
    assert source.strip() == text
    start = source.index(text) + text.index(pointed_at)
    assert caret == " " * start + "^" * len(pointed_at)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('pathlib').Path('pwned').touch()",
        "open('pwned', 'w').write('x')",
        "exp(__import__('os').system('touch pwned'))",
        "[c for c in ().__class__.__base__.__subclasses__()]",
    ],
)
def test_input_that_would_create_a_file_creates_none(tmp_path, text):
    result = _cli("explain", text, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "error:" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_exponent_towers_do_not_hang(tmp_path):
    result = _cli("grad", "9**9**9 * x + 2**-9**9", "--at", "x=2", cwd=tmp_path, timeout=20)
    assert result.returncode == 0, result.stderr
    printed = dict(line.split(" = ") for line in result.stdout.splitlines()[1:])
    assert [math.isinf(float(value)) for value in printed.values()] == [True, True]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x + y", "--at", "x=1"], "no value for y"),
        (["x", "--at", "x=1", "z=2"], "z given a value but not in the expression"),
        (["x", "--at", "x"], "'x' is not name=value"),
        (["x", "--at", "x=1=2"], "'1=2' is not a number"),
        (["x", "--at", "=1"], "is not name=value"),
        (["x", "--at", "x=abc"], "'abc' is not a number"),
        (["x", "--at", "x=inf"], "finite"),
        (["x", "--at", "1x=1"], "'1x' is not a name"),
        (["x", "--at", "x=1", "x=2"], "x is given twice"),
        (["tanh(x)", "--at", "x=1", "tanh=2"], "tanh is a function"),
        (["log(x)", "--at", "x=0"], "out of domain at x = 0: log needs a positive argument"),
        (["x / (y - 1)", "--at", "x=1", "y=1"], "out of domain at x = 1, y = 1: division by zero"),
        (["(x - 3) ** 0.5", "--at", "x=1"], "out of domain"),
        (["x +", "--at", "x=1"], "not a valid expression"),
        (["x\n+ 1", "--at", "x=1"], "one line"),
        (["(" * 300 + "x" + ")" * 300, "--at", "x=1"], "not a valid expression"),
        (["1+" * 50_000 + "x", "--at", "x=1"], "nested too deeply to read"),
    ],
)
def test_bad_names_and_values_each_get_their_own_message(capsys, argv, message):
    status, out, err = _run(capsys, "grad", *argv)
    assert status == 2
    assert out == ""
    assert message in err


def test_out_of_domain_points_at_the_operation(capsys):
    status, _, err = _run(capsys, "grad", "x + log(x - 1)", "--at", "x=1")
    assert status == 2
    assert err.splitlines()[-1] == "  " + " " * len("x + ") + "^" * len("log(x - 1)")


def test_parse_bindings_keeps_order_and_values():
    assert parse_bindings(["b=-3", "a=2.5", "c = 1e-3"]) == {"b": -3.0, "a": 2.5, "c": 0.001}


def test_leading_space_lets_an_expression_start_with_minus(capsys):
    status, out, _ = _run(capsys, "grad", " -x**2", "--at", "x=3")
    assert status == 0
    assert "∂f/∂x = -6" in out


def test_constant_exponents_allow_negative_bases():
    built = evaluate("x ** (4 / 2) + x ** -1", {"x": -2.0})
    built.root.backward()
    assert built.root.data == 4.0 - 0.5
    assert built.inputs["x"].grad == 2 * -2.0 - 1 / 4


def test_expression_error_is_a_value_error():
    with pytest.raises(ValueError, match="no value for y"):
        evaluate("x + y", {"x": 1.0})
    with pytest.raises(ExpressionError):
        parse_bindings(["x"])


# what a terminal hands over: any bytes, decoded as Python decodes argv (a byte that is not UTF-8 becomes
# a lone surrogate), or any text; placed where the command line takes text
ARGUMENT = st.one_of(st.binary(max_size=24).map(os.fsdecode), st.text(max_size=24))
PLACES = {
    "expression": lambda text: ["grad", text, "--at", "x=1"],
    "explained": lambda text: ["explain", text],
    "--at": lambda text: ["grad", "x*y", "--at", "y=2", text],
    "--forward": lambda text: ["explain", "x", "--at", "x=1", "--forward", text],
}


@settings(max_examples=150, deadline=None)
@given(ARGUMENT, st.sampled_from(sorted(PLACES)))
def test_any_argument_gets_a_result_or_a_usage_error(text, place):
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()) as err:
        try:
            status = main(PLACES[place](text))
        except SystemExit as stopped:
            status = stopped.code
    assert status in (0, 2), err.getvalue()
