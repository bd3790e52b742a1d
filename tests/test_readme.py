"""The README: its Python example prints what its comments say, and CI runs its test command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("section", ["# chainrule", "## Derivatives of derivatives"])
def test_readme_snippets_print_what_their_comments_say(section):
    """The first snippet after the heading: each print's comment is what it prints."""
    code = README.split(f"{section}\n", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    comments = [line.split("# ", 1)[1] for line in code.splitlines() if line.startswith("print(")]
    claimed = [comment.split("  ")[0].strip() for comment in comments]
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert printed.splitlines() == claimed


def test_ci_runs_the_readme_test_command():
    blocks = README.split("## Test it", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0].strip()
    assert blocks in (ROOT / ".ci" / "run").read_text()
