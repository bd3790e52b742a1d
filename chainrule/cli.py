"""The `chainrule` command: `chainrule xor` reproduces the reference run."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence

from chainrule import xor


def _bounded_int(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is too small: it must be at least {minimum}")
        return value

    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be a positive finite number")
    return value


def _add_xor(commands: argparse._SubParsersAction) -> None:
    defaults = xor.XorConfig()
    parser = commands.add_parser(
        "xor",
        help="train MLP(2, [4, 1]) on XOR and print the reference log",
        description="Train MLP(2, [hidden, 1]) on XOR with SGD; every figure printed is computed.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed for the initial weights")
    parser.add_argument("--steps", type=_bounded_int(0), default=defaults.steps, help="SGD steps")
    parser.add_argument("--lr", type=_positive_float, default=defaults.lr, help="learning rate")
    parser.add_argument("--hidden", type=_bounded_int(1), default=defaults.hidden, help="hidden-layer width")
    parser.add_argument(
        "--every", type=_bounded_int(1), default=defaults.every, help="print the loss every N steps"
    )
    parser.add_argument(
        "--jit", action="store_true", help="run the loss as compiled code (chainrule.jit): same log, faster"
    )
    parser.set_defaults(handler=_run_xor)


def _run_xor(args: argparse.Namespace) -> int:
    config = xor.XorConfig(seed=args.seed, steps=args.steps, lr=args.lr, hidden=args.hidden, every=args.every)
    for line in xor.run(config, jit=args.jit):
        print(line, flush=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="A scalar reverse-mode autodiff engine: the chain rule as a graph of closures.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    _add_xor(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
