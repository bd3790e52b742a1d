"""The benchmark tables on the site are the scripts' own output (--markdown), never pasted: each file the
pages include names the command that wrote it, and its tables have the columns that script prints now."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# script -> a quick run of it (sizes too small to mean anything: the format is what is compared)
QUICK = {
    "forward_reverse": ["--sizes", "1", "2", "--repeat", "1"],
    "higher_order": ["--terms", "3", "--repeats", "1"],
    "jacobians": ["--shapes", "2x1", "1x2", "--repeat", "1"],
    "memory": ["--nodes", "1000"],
    "scale": ["--steps", "30", "--repeat", "1", "--no-memory"],
    "run": ["--skip-scalar", "--xor-steps", "2", "--moons-steps", "2", "--moons-points", "4", "--slow-steps",
            "1", "--repeat", "1", "--contenders", "engine,jit,hand"],
}  # fmt: skip
PAGES = {
    "forward_reverse": "forward_reverse",
    "higher_order": "higher_order",
    "jacobians": "jacobians",
    "memory": "memory",
    "scale": "scale",
    "run": "training",
}


def _included() -> set[str]:
    pages = "".join(path.read_text() for path in DOCS.glob("*.md"))
    return set(re.findall(r'--8<-- "benchmarks/(\w+)\.md"', pages))


def test_the_pages_include_every_benchmark_file_and_nothing_else():
    assert _included() == set(PAGES.values()) == {path.stem for path in (DOCS / "benchmarks").glob("*.md")}


@pytest.mark.parametrize("script", QUICK)
def test_each_file_is_what_its_script_writes(tmp_path, script):
    written = (DOCS / "benchmarks" / f"{PAGES[script]}.md").read_text()
    assert re.match(
        rf"Written by `python benchmarks/{script}\.py[^`]*` on \d{{4}}-\d\d-\d\d: Python ", written
    )
    fresh = tmp_path / "fresh.md"
    argv = [
        sys.executable,
        str(ROOT / "benchmarks" / f"{script}.py"),
        *QUICK[script],
        "--markdown",
        str(fresh),
    ]
    printed = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    assert all(line.strip() in fresh.read_text() for line in printed.splitlines())  # stdout, kept

    assert set(_shape(fresh.read_text())) <= set(
        _shape(written)
    )  # the site's file: what the script writes today


def _shape(text: str) -> list[str]:
    """Each table's header (the line above its | --- | row); with no table, the lines, digits masked."""
    lines = text.splitlines()[1:]
    headers = [above for above, line in itertools.pairwise(lines) if line.startswith("| ---")]
    return headers or [re.sub(r"[\d,.]+", "#", line) for line in lines]
