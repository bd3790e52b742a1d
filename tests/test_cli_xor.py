"""`chainrule xor`: the reference text, other options against the library's own loop, --save and --load."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule
from chainrule import MLP, SGD, sum_squared_error
from chainrule.cli import main
from chainrule.storage import checkpoint

ROOT = Path(__file__).resolve().parent.parent
# The specification's printed log, copied verbatim: the contract `chainrule xor` must reproduce.
REFERENCE = (ROOT / "tests" / "data" / "reference_xor.txt").read_text()
SPEC_DIR = ROOT.parent / "shared" / "seed"

# Bad option values and files (exit status 2, a message naming the option) are rows X01-X11 of
# docs/bad-input.md, tested in tests/test_bad_input.py.


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
    """The same run written with the library's parts, independently of chainrule.demos.xor."""
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


def _run(capsys, *argv: str) -> list[str]:
    assert main(["xor", *argv]) == 0
    return capsys.readouterr().out.splitlines()


def _steps(lines: list[str]) -> dict[int, str]:
    return {int(line.split()[1]): line for line in lines if line.startswith("step ")}


@pytest.mark.parametrize(("first", "more"), [(135, 70), (0, 50), (200, 0)])
def test_save_then_load_continues_exactly_as_the_straight_run(tmp_path, capsys, first, more):
    common = ["--lr", "0.3", "--seed", "7", "--hidden", "3"]
    straight_file, half_file, resumed_file = (str(tmp_path / name) for name in ("s.json", "h.json", "r.json"))
    straight = _run(capsys, *common, "--steps", str(first + more), "--every", "1", "--save", straight_file)
    _run(capsys, *common, "--steps", str(first), "--save", half_file)
    resumed = _run(
        capsys, *common, "--steps", str(more), "--every", "10", "--load", half_file, "--save", resumed_file
    )

    # steps are numbered on from the checkpoint: the first and last, and every 10th in between
    wanted = {first, first + more} | {step for step in range(first, first + more + 1) if step % 10 == 0}
    assert list(_steps(resumed)) == sorted(wanted)
    assert all(line == _steps(straight)[step] for step, line in _steps(resumed).items())
    assert resumed[-5:] == straight[-5:]  # "Final predictions:" and the four corners
    # and the weights themselves agree to the last bit
    assert chainrule.load(resumed_file).state_dict() == chainrule.load(straight_file).state_dict()
    assert checkpoint.read(resumed_file).info == {"command": "xor", "step": first + more}
