"""`chainrule xor`: the reference text, other options against the library's own loop, bad options."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule import MLP, SGD, sum_squared_error
from chainrule.cli import main

ROOT = Path(__file__).resolve().parent.parent
# The specification's printed log, copied verbatim: the contract `chainrule xor` must reproduce.
REFERENCE = (ROOT / "tests" / "data" / "reference_xor.txt").read_text()
SPEC_DIR = ROOT.parent / "shared" / "seed"


def _run_cli(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "xor", *args], capture_output=True, text=True, check=True
    )
    return result.stdout


def test_reference_copy_is_the_specifications_text():
    specs = sorted(SPEC_DIR.glob("*.txt")) if SPEC_DIR.is_dir() else []
    if not specs:
        pytest.skip(f"the specification is not beside this clone ({SPEC_DIR})")
    assert REFERENCE.strip() in specs[0].read_text()


def test_xor_prints_the_reference_text():
    assert _run_cli() == REFERENCE


def test_console_script_prints_the_reference_text():
    script = Path(sys.executable).with_name("chainrule")
    if not script.exists():
        pytest.skip("the chainrule console script is not installed next to this Python")
    result = subprocess.run([str(script), "xor"], capture_output=True, text=True, check=True)
    assert result.stdout == REFERENCE


def _expected_log(seed, steps, lr, hidden, every):
    """The same run written with the library's parts, independently of chainrule.xor."""
    random.seed(seed)
    model = MLP(2, [hidden, 1])
    optimizer = SGD(model.parameters(), lr=lr)
    corners, labels = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0]
    targets = [2.0 * label - 1.0 for label in labels]
    lines = []
    for step in range(steps + 1):
        loss = sum_squared_error([model(x) for x in corners], targets)
        if step % every == 0 or step == steps:
            lines.append(f"step {step} loss {loss.data:.6f}")
        if step < steps:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    lines.append("Final predictions:")
    for x, label in zip(corners, labels):
        score = model(x).data
        predicted = int(score > 0)
        verdict = "OK" if predicted == label else "WRONG"
        lines.append(f"[{x[0]:.0f},{x[1]:.0f}] -> {score:+.4f} class {predicted} (want {label}) {verdict}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("seed", "steps", "lr", "hidden", "every"),
    [(7, 30, 0.05, 3, 10), (1337, 45, 0.2, 8, 20), (0, 0, 0.1, 4, 200), (42, 5, 0.3, 1, 1)],
)
def test_options_print_what_the_engine_computes(capsys, seed, steps, lr, hidden, every):
    args = ["xor", "--seed", str(seed), "--steps", str(steps), "--lr", str(lr)]
    assert main([*args, "--hidden", str(hidden), "--every", str(every)]) == 0
    assert capsys.readouterr().out == _expected_log(seed, steps, lr, hidden, every)


# Bad option values (exit status 2, a message naming the option) are rows X01-X05 of docs/bad-input.md,
# tested in tests/test_bad_input.py.


def test_no_command_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "chainrule"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "usage" in result.stderr


README = (ROOT / "README.md").read_text()


def test_readme_example_prints_what_its_comments_say():
    code = README.split("```python\n", 1)[1].split("```", 1)[0]
    comments = [line.split("# ", 1)[1] for line in code.splitlines() if line.startswith("print(")]
    claimed = [comment.split("  ")[0].strip() for comment in comments]
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert printed.splitlines() == claimed


def test_ci_runs_the_readme_test_command():
    blocks = README.split("## Test it", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0].strip()
    assert blocks in (ROOT / ".ci" / "run").read_text()
