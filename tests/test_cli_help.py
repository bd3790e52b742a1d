"""The command's help: bare `chainrule` shows it, --version tells the version, defaults shown are real."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from chainrule.cli import build_parser, main

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_bare_chainrule_prints_the_help(capsys):
    assert main([]) == 0
    printed = capsys.readouterr()
    assert printed.out == build_parser().format_help() and printed.err == ""


def test_version_is_the_packages(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["--version"])
    assert raised.value.code == 0
    import tomllib  # Python 3.11+

    version = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    assert capsys.readouterr().out == f"chainrule {version}\n"


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_no_option_help_shows_a_default_of_none(command):
    text = " ".join(_subcommands()[command].format_help().split())
    assert "(default: None)" not in text and "(default: False)" not in text and "(default: [])" not in text


def test_both_demos_say_how_their_steps_are_numbered_and_do_so(capsys):
    helps = {name: " ".join(_subcommands()[name].format_help().split()) for name in ("xor", "moons")}
    assert "from step 0 (before any) to step N (after the last)" in helps["xor"]
    assert "numbered 0 to N-1" in helps["moons"]
    assert "moons numbers each update, 0 to N-1" in helps["xor"] and "ends at step N" in helps["moons"]
    assert main(["xor", "--steps", "3", "--every", "1"]) == 0
    assert re.findall(r"^step (\d+) ", capsys.readouterr().out, re.M) == ["0", "1", "2", "3"]
    assert main(["moons", "--steps", "3", "--n", "8", "--backend", "python"]) == 0
    moons = capsys.readouterr().out
    assert re.findall(r"^step +(\d+) ", moons, re.M)[-1] == "2" and "steps 0 to 2 of SGD" in moons
