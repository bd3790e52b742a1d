"""The README and the pages' snippets: each Python example prints what its comments say, the README's
commands run as written, it stays short, and CI runs its test command."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize(
    ("page", "section"),
    [
        ("README.md", "# chainrule"),
        ("README.md", "## Control flow, compiled"),
        ("docs/control-flow.md", "# Control flow under jit"),
        ("docs/index.md", "# chainrule"),
        ("docs/higher-order.md", "# Derivatives of derivatives"),
        ("docs/math.md", "# chainrule.math, and ops of your own"),
        ("docs/math.md", "## Ops of your own"),
        ("docs/cookbook.md", "## Vectors in, vectors out"),
    ],
)
def test_snippets_print_what_their_comments_say(page, section):
    """The first snippet after the heading: each print's comment is what it prints."""
    text = (ROOT / page).read_text()
    code = text.split(f"{section}\n", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    comments = [line.split("# ", 1)[1] for line in code.splitlines() if line.startswith("print(")]
    claimed = [comment.split("  ")[0].strip() for comment in comments]
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert printed.splitlines() == claimed


def test_ci_runs_the_readme_test_command():
    blocks = README.split("## Test it", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0].strip()
    assert blocks in (ROOT / ".ci" / "run").read_text()


def test_the_readme_is_a_short_read():
    assert len(README.splitlines()) <= 150


def _commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    return [line.split("  #")[0].strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_every_readme_command_names_the_venvs_programs_by_path():
    """After the first command makes .venv, every command runs the venv's own programs, as written."""
    for command in _commands():
        for part in command.split("&&"):
            program = shlex.split(part)[0]
            assert program.startswith(".venv/bin/") or program in {"python3", "xdg-open"}, command


def test_the_readmes_chainrule_commands_run_as_written(tmp_path, monkeypatch, capsys, dot):
    monkeypatch.chdir(tmp_path)
    commands = [c for c in _commands() if c.startswith(".venv/bin/chainrule ")]
    assert len(commands) >= 2  # explain, and the walkthrough page
    for command in commands:
        assert main(shlex.split(command)[1:]) == 0, command
    assert (tmp_path / "walkthrough.html").is_file()  # the file the next command opens
    capsys.readouterr()


def test_the_readmes_links_lead_to_files_that_exist():
    targets = re.findall(r"\]\(((?:docs/)[^)#]+)\)", README)
    assert targets and all((ROOT / target).is_file() for target in targets)
