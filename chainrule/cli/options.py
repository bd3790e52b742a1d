"""What the commands share: readers of numeric options, checks of the files they write, --save and --load.

A reader is an argparse `type`: a bad value is a usage error (status 2) before any work. Failures of
the machine rather than of the command line (a missing library, a refused write) are status 1.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from argparse import ArgumentTypeError
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, NoReturn, TypeVar

from chainrule.demos import plots
from chainrule.demos.continuation import ContinuationError
from chainrule.nn import MLP
from chainrule.runtime.extras import MissingExtraError
from chainrule.storage import checkpoint

PICTURES = (".png", ".svg", ".pdf")  # formats both matplotlib and Graphviz write

Number = TypeVar("Number", int, float)


class HintingParser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors also say what was probably meant."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments:"):
            words = message.split(":", 1)[1].split()
            dashed = [word for word in words if word.startswith("-") and not word.startswith("--")]
            if dashed:
                message += (
                    f"\n  an expression that starts with a minus reads as an option: put a space before it,"
                    f' " {dashed[0]}", or -- before it, as in: --at NAME=VALUE -- "{dashed[0]}"'
                )
        super().error(message)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's default in its help, unless it has none to show (no "(default: None)")."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.default == []:
            return action.help
        return super()._get_help_string(action)


def _read(text: str, kind: Callable[[str], Number], noun: str) -> Number:
    try:
        return kind(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not {noun}") from None


def bounded_int(minimum: int) -> Callable[[str], int]:
    """argparse type: a whole number >= minimum."""

    def parse(text: str) -> int:
        value = _read(text, int, "a whole number")
        if value < minimum:
            raise ArgumentTypeError(f"{value} is too small: it must be at least {minimum}")
        return value

    return parse


def finite_float(allow_zero: bool) -> Callable[[str], float]:
    """argparse type: a finite number > 0 (>= 0 with allow_zero)."""

    def parse(text: str) -> float:
        value = _read(text, float, "a number")
        if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
            sign = "non-negative" if allow_zero else "positive"
            raise ArgumentTypeError(f"{text} must be a {sign} finite number")
        return value

    return parse


positive_float = finite_float(allow_zero=False)


def output_path(option: str, *suffixes: str) -> Callable[[str], Path]:
    """argparse type: a file to write, checked before any work: its folder exists, its suffix fits."""

    def parse(text: str) -> Path:
        path = Path(text)
        if not text or path.is_dir():
            raise ArgumentTypeError(f"cannot {option} to {text!r}: it is a directory, not a file name")
        if not path.parent.is_dir():
            raise ArgumentTypeError(
                f"cannot {option} to {text!r}: the folder {str(path.parent)!r} does not exist"
            )
        if suffixes and path.suffix.lower() not in suffixes:
            raise ArgumentTypeError(
                f"cannot {option} to {text!r}: end the file name in {', '.join(suffixes)}"
            )
        try:  # a real write, so a read-only folder is refused now, not after the run
            with tempfile.TemporaryFile(dir=path.parent):
                pass
        except OSError as error:
            raise ArgumentTypeError(
                f"cannot {option} to {text!r}: the folder {str(path.parent)!r} cannot be written to "
                f"({error.strerror or error})"
            ) from None
        return path

    return parse


picture_path = output_path("draw", *PICTURES)
page_path = output_path("write", ".html", ".htm")


def add_html_option(parser: argparse.ArgumentParser, description: str) -> None:
    """--html FILE, a self-contained page, its path checked before any work."""
    parser.add_argument("--html", metavar="FILE", type=page_path, help=description)


class Resume(NamedTuple):
    """What --load gives a command: the checkpoint, and the step its run goes on from."""

    saved: checkpoint.Checkpoint
    start: int


def add_checkpoint_options(
    parser: argparse.ArgumentParser, continue_from: Callable[[checkpoint.Checkpoint, str], int], on_load: str
) -> None:
    """--save FILE and --load FILE; `continue_from` is the demo's check of a checkpoint to go on from."""

    def resume(text: str) -> Resume:
        try:
            saved = checkpoint.read(text)
            return Resume(saved, continue_from(saved, text))
        except (OSError, checkpoint.CheckpointError, ContinuationError) as error:
            raise ArgumentTypeError(str(error)) from None

    parser.add_argument(
        "--save", metavar="FILE", type=output_path("save"), help="save the trained model to FILE (JSON)"
    )
    parser.add_argument(
        "--load",
        metavar="FILE",
        type=resume,
        help=f"continue a run saved by --save for --steps more steps, numbered on from its step ({on_load})",
    )


def save(model: MLP, path: Path, info: dict) -> int:
    """Write the checkpoint and say so on stderr; a refused write gets a message and status 1."""
    try:
        checkpoint.save(model, path, info)
    except OSError as error:
        return fail(f"could not save {path}: {error}")
    print(f"saved {path} (step {info['step']})", file=sys.stderr)
    return 0


def fail(message: str) -> int:
    """A failure of the environment (a missing library or program), not of the command line: status 1."""
    print(f"chainrule: error: {message}", file=sys.stderr)
    return 1


def add_plot_option(parser: argparse.ArgumentParser, description: str) -> None:
    """--plot FILE.png, a picture of the run, its path checked before the run (see check_plot)."""
    parser.add_argument("--plot", metavar="FILE.png", type=picture_path, help=description)


def check_plot() -> int:
    """Before a long run, not after it: matplotlib is there (else exit 1); argparse checked the path."""
    try:
        plots.require_matplotlib()
    except MissingExtraError as error:
        return fail(str(error))
    return 0


def picture(what: str, write: Callable[[], Path]) -> int:
    """Write a picture and say where; a file system that refuses it gets a message and status 1."""
    try:
        path = write()
    except OSError as error:
        return fail(f"could not write the {what}: {error}")
    print(f"{what} saved to {path}")
    return 0


BACKENDS = ("engine", "python", "native")  # --backend: the plain engine, or chainrule.jit's backends


def check_backend(backend: str) -> int:
    """Before the run: the native backend's numba is there (else exit 1, naming the pip install)."""
    if backend == "native":
        try:
            import chainrule.compiler.native  # noqa: F401
        except MissingExtraError as error:
            return fail(str(error))
    return 0


def add_backend_alias(parser: argparse.ArgumentParser, flag: str, backend: str) -> None:
    """An older flag (--jit, --no-jit), kept hidden: the same as --backend <backend>."""
    parser.add_argument(flag, dest="backend", action="store_const", const=backend, help=argparse.SUPPRESS)
