"""The `chainrule` command: `xor` reproduces the reference run; grad, explain and moons show more.

One module per command (xor, moons, calculus for grad and explain), each adding its own parser;
options.py holds what they share.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import chainrule
from chainrule.cli.calculus import add_explain, add_grad
from chainrule.cli.moons import add_moons
from chainrule.cli.options import HintingParser
from chainrule.cli.xor import add_xor


def build_parser() -> argparse.ArgumentParser:
    parser = HintingParser(
        prog="chainrule",
        description="A scalar reverse-mode autodiff engine: the chain rule as a graph of closures.",
        epilog="start with `chainrule xor`; `chainrule COMMAND --help` tells more",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {chainrule.__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    add_xor(commands)
    add_grad(commands)
    add_explain(commands)
    add_moons(commands)
    parser.set_defaults(handler=lambda args: _help(parser))  # bare `chainrule`: the help, not an error
    return parser


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _never_fail_to_print()
    try:
        return args.handler(args)
    except BrokenPipeError:
        # the reader went away (`chainrule xor | head -1`): stop quietly, and keep Python's flush at
        # exit from raising again on the closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _never_fail_to_print() -> None:
    """Print what the terminal's encoding cannot show (a file name's bytes that are not UTF-8, ∂ under an
    ASCII locale) escaped, as Python's stderr does, instead of ending in a UnicodeEncodeError."""
    if getattr(sys.stdout, "errors", None) == "strict" and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")


if __name__ == "__main__":
    sys.exit(main())
