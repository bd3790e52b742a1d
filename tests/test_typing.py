"""PEP 561: chainrule ships py.typed as package data, so a user's mypy or pyright reads its hints; CI runs
mypy over chainrule/ (.ci/run, configured in pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = (ROOT / "pyproject.toml").read_text()  # read as text: tomllib is Python 3.11+, chainrule 3.10+


def _section(name: str) -> str:
    return PYPROJECT.split(f"\n[{name}]\n", 1)[1].split("\n[", 1)[0]


def test_py_typed_is_shipped_as_package_data():
    assert (ROOT / "chainrule" / "py.typed").is_file()
    assert 'chainrule = ["py.typed"]' in _section("tool.setuptools.package-data")


def test_ci_runs_mypy_over_the_package_after_ruff():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("ruff format --check") < ci.index(".venv/bin/mypy")
    assert 'files = ["chainrule"]' in _section("tool.mypy")
