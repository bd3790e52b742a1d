"""The `chainrule` command: `chainrule xor` reproduces the reference run."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from chainrule import checkpoint, xor
from chainrule.nn import MLP


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
        "--save", metavar="FILE", type=_save_path, help="save the trained model to FILE (JSON)"
    )
    parser.add_argument(
        "--load",
        metavar="FILE",
        type=_xor_checkpoint,
        help="continue a model saved by --save for --steps more steps, numbered on from its step count "
        "(--seed and --hidden are then unused)",
    )
    parser.set_defaults(handler=_run_xor)


def _xor_checkpoint(text: str) -> checkpoint.Checkpoint:
    loaded = _checkpoint_file(text)
    model, step = loaded.model, loaded.info.get("step", 0)
    xor_shaped = model.nin == 2 and len(model.nouts) == 2 and model.nouts[1] == 1
    if not xor_shaped or model.activation != "tanh" or model.output_activation != "tanh":
        raise argparse.ArgumentTypeError(
            f"{text} holds {model!r}, not an XOR network MLP(2, [hidden, 1]) of tanh"
        )
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise argparse.ArgumentTypeError(f"{text}: its step count must be a whole number >= 0, got {step!r}")
    return loaded


def _run_xor(args: argparse.Namespace) -> int:
    config = xor.XorConfig(seed=args.seed, steps=args.steps, lr=args.lr, hidden=args.hidden, every=args.every)
    model, start = (args.load.model, args.load.info.get("step", 0)) if args.load else (xor.build(config), 0)
    for line in xor.run(config, model, start):
        print(line, flush=True)
    if args.save:
        return _save(model, args.save, {"command": "xor", "step": start + config.steps})
    return 0


def _checkpoint_file(text: str) -> checkpoint.Checkpoint:
    """argparse type: a checkpoint read whole, or a usage error (exit 2) naming the file and the fault."""
    try:
        return checkpoint.read(text)
    except (OSError, checkpoint.CheckpointError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _save_path(text: str) -> Path:
    """argparse type: a file path in an existing directory, checked before any training is spent."""
    path = Path(text)
    if path.is_dir() or not path.parent.is_dir():
        problem = (
            "is a directory" if path.is_dir() else f"is in {str(path.parent)!r}, which is not a directory"
        )
        raise argparse.ArgumentTypeError(f"cannot save to {text!r}: it {problem}")
    return path


def _save(model: MLP, path: Path, info: dict) -> int:
    try:
        checkpoint.save(model, path, info)
    except OSError as error:
        print(f"chainrule: error: could not save {path}: {error}", file=sys.stderr)
        return 1
    print(f"saved {path} (step {info['step']})", file=sys.stderr)
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
