"""The `chainrule` command: `xor` reproduces the reference run; grad, explain and moons show more."""

from __future__ import annotations

import argparse
import math
import os
import sys
from argparse import ArgumentTypeError
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from chainrule.cli.expression import FUNCTIONS, Expression, ExpressionError, evaluate, parse_bindings
from chainrule.compiler import jit
from chainrule.demos import moons, training_page, xor
from chainrule.demos import plots as plotting
from chainrule.nn import MLP
from chainrule.runtime.extras import MissingExtraError, MissingProgramError, require
from chainrule.show.drawing import render
from chainrule.show.explain import explain
from chainrule.show.walkthrough import walkthrough
from chainrule.storage import checkpoint


def _read(text: str, kind: type[int] | type[float], noun: str) -> int | float:
    try:
        return kind(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not {noun}") from None


def _bounded_int(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = _read(text, int, "a whole number")
        if value < minimum:
            raise ArgumentTypeError(f"{value} is too small: it must be at least {minimum}")
        return value

    return parse


def _finite_float(allow_zero: bool) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = _read(text, float, "a number")
        if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
            sign = "non-negative" if allow_zero else "positive"
            raise ArgumentTypeError(f"{text} must be a {sign} finite number")
        return value

    return parse


_positive_float = _finite_float(allow_zero=False)


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
    _add_checkpoint_options(parser, _xor_checkpoint, "--seed and --hidden are then unused")
    parser.add_argument(
        "--plot", metavar="FILE.png", type=_picture_path, help="save the loss curve (needs chainrule[plot])"
    )
    parser.add_argument(
        "--jit", action="store_true", help="run the loss as compiled code (chainrule.jit): same log, faster"
    )
    parser.add_argument(
        "--html", metavar="FILE", type=_page_path, help="write the run as one page, a slider over its steps"
    )
    parser.set_defaults(handler=_run_xor, error=parser.error)


def _add_checkpoint_options(
    parser: argparse.ArgumentParser, read: Callable[[str], checkpoint.Checkpoint], on_load: str
) -> None:
    parser.add_argument(
        "--save", metavar="FILE", type=_save_path, help="save the trained model to FILE (JSON)"
    )
    parser.add_argument(
        "--load",
        metavar="FILE",
        type=read,
        help=f"continue a run saved by --save for --steps more steps, numbered on from its step ({on_load})",
    )


def _xor_checkpoint(text: str) -> checkpoint.Checkpoint:
    loaded = _checkpoint_file(text)
    model, step = loaded.model, loaded.info.get("step", 0)
    xor_shaped = model.nin == 2 and len(model.nouts) == 2 and model.nouts[1] == 1
    if not xor_shaped or model.activation != "tanh" or model.output_activation != "tanh":
        raise ArgumentTypeError(f"{text} holds {model!r}, not an XOR network MLP(2, [hidden, 1]) of tanh")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ArgumentTypeError(f"{text}: its step count must be a whole number >= 0, got {step!r}")
    return loaded


def _run_xor(args: argparse.Namespace) -> int:
    config = xor.XorConfig(seed=args.seed, steps=args.steps, lr=args.lr, hidden=args.hidden, every=args.every)
    if args.plot and (failure := _check_plot()):
        return failure
    model, start = (args.load.model, args.load.info.get("step", 0)) if args.load else (xor.build(config), 0)
    losses: list[float] = []
    recorder = training_page.XorRecorder(model, start, config.steps) if args.html else None
    for line in xor.run(config, losses, model, start, jit=args.jit, on_step=recorder):
        print(line, flush=True)
    saved = _save(model, args.save, {"command": "xor", "step": start + config.steps}) if args.save else 0
    title = f"XOR: MLP(2, [{model.nouts[0]}, 1]), sum of squared errors"
    plotted = (
        _picture("loss curve", lambda: plotting.save_loss_plot(losses, args.plot, title)) if args.plot else 0
    )
    if recorder is not None:
        heading = f"{title}, SGD lr {config.lr:g}, steps {start} to {start + config.steps}"
        paged = _picture("training page", lambda: training_page.write(recorder.page(heading), args.html))
        return saved or plotted or paged
    return saved or plotted


def _checkpoint_file(text: str) -> checkpoint.Checkpoint:
    """argparse type: a checkpoint read whole, or a usage error (exit 2) naming the file and the fault."""
    try:
        return checkpoint.read(text)
    except (OSError, checkpoint.CheckpointError) as error:
        raise ArgumentTypeError(str(error)) from None


PICTURES = (".png", ".svg", ".pdf")  # formats both matplotlib and Graphviz write


def _output_path(option: str, *suffixes: str) -> Callable[[str], Path]:
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
        return path

    return parse


_save_path = _output_path("save")
_picture_path = _output_path("draw", *PICTURES)
_page_path = _output_path("write", ".html", ".htm")


def _save(model: MLP, path: Path, info: dict) -> int:
    try:
        checkpoint.save(model, path, info)
    except OSError as error:
        print(f"chainrule: error: could not save {path}: {error}", file=sys.stderr)
        return 1
    print(f"saved {path} (step {info['step']})", file=sys.stderr)
    return 0


def _fail(message: str) -> int:
    """A failure of the environment (a missing library or program), not of the command line: status 1."""
    print(f"chainrule: error: {message}", file=sys.stderr)
    return 1


def _check_plot() -> int:
    """Before a long run, not after it: matplotlib is there (else exit 1); argparse checked the path."""
    try:
        plotting.require_matplotlib()
    except MissingExtraError as error:
        return _fail(str(error))
    return 0


def _picture(what: str, write: Callable[[], Path]) -> int:
    """Write a picture and say where; a file system that refuses it gets a message and status 1."""
    try:
        path = write()
    except OSError as error:
        return _fail(f"could not write the {what}: {error}")
    print(f"{what} saved to {path}")
    return 0


def _add_expression_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "expression",
        nargs="?",  # checked in _expression, where a missing one can be told from one taken by --at
        help='e.g. "tanh(a*b + c)": numbers, names, + - * / **, ( ), ' + " ".join(FUNCTIONS),
    )
    parser.add_argument(
        "--at",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME=VALUE",
        help="the value of each name in the expression, e.g. --at a=2 b=-3",
    )


def _expression(args: argparse.Namespace) -> Expression:
    """The parsed and computed expression; a bad one is a usage error (status 2, the message points at it)."""
    if args.expression is None:
        hint = "; put it before --at, which takes every word after it" if args.at else ""
        args.error(f"the expression is missing{hint}")
    try:
        bindings = parse_bindings(args.at)
        expression = evaluate(args.expression, bindings)
    except ExpressionError as error:
        args.error(str(error))
    root = expression.root
    if root._prev and not root.label:
        root.label = "out" if "f" in bindings else "f"
    return expression


def _heading(expression: Expression) -> str:
    values = ", ".join(f"{name} = {leaf.data:g}" for name, leaf in expression.inputs.items())
    return f"{expression.root.label or 'f'} = {expression.text.strip()}" + (
        f"   at {values}" if values else ""
    )


def _add_grad(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "grad",
        help="the value of an expression and its partial derivatives",
        description="Compute an expression with the engine and print its value and every partial derivative.",
        epilog='example: chainrule grad "x**2 * exp(-y)" --at x=1.5 y=0.2',
    )
    _add_expression_arguments(parser)
    parser.set_defaults(handler=_run_grad, error=parser.error)


def _run_grad(args: argparse.Namespace) -> int:
    expression = _expression(args)
    root = expression.root
    root.backward()
    name = root.label or "f"
    rows = [(name, root.data)] + [
        (f"∂{name}/∂{input_name}", leaf.grad) for input_name, leaf in expression.inputs.items()
    ]
    width = max(len(label) for label, _ in rows)
    print(_heading(expression))
    for label, value in rows:
        print(f"{label.ljust(width)} = {value:.10g}")
    return 0


def _add_explain(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "explain",
        help="the forward pass and the backward walk of an expression, step by step",
        description="Print the forward pass, the backward walk node by node in the engine's order, "
        "and the gradient of each input.",
        epilog='example: chainrule explain "tanh(a*b + c)" --at a=2 b=-3 c=10 --svg graph.svg',
    )
    _add_expression_arguments(parser)
    parser.add_argument(
        "--svg",
        metavar="FILE",
        type=_picture_path,
        help="also draw the graph after the backward pass, as .svg, .png or .pdf (chainrule[viz])",
    )
    parser.add_argument(
        "--html",
        metavar="FILE",
        type=_page_path,
        help="also write the walkthrough: one page that steps through both passes (chainrule[viz])",
    )
    parser.set_defaults(handler=_run_explain, error=parser.error)


def _run_explain(args: argparse.Namespace) -> int:
    expression = _expression(args)
    try:
        if args.svg or args.html:
            require("graphviz", "viz", "--svg" if args.svg else "--html")
        print(_heading(expression))
        print()
        explain(expression.root, list(expression.inputs.values()))
        if args.svg or args.html:
            print()
        drawn = _picture("graph", lambda: render(expression.root, args.svg)) if args.svg else 0
        if args.html:
            page = walkthrough(expression.root, list(expression.inputs.values()), _heading(expression))
            return _picture("walkthrough page", lambda: page.save(args.html)) or drawn
        return drawn
    except (MissingExtraError, MissingProgramError) as error:
        return _fail(str(error))
    return 0


def _add_moons(commands: argparse._SubParsersAction) -> None:
    defaults = moons.MoonsConfig()
    parser = commands.add_parser(
        "moons",
        help="micrograd's demo: MLP(2, [16, 16, 1]) separates two moons",
        description="Train MLP(2, [16, 16, 1]) (ReLU, linear output) on two moons with hinge loss + "
        f"{defaults.alpha:g}·Σp² and SGD, lr {defaults.lr_start:g} → {defaults.lr_end:g}.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of the data and the weights")
    parser.add_argument("--steps", type=_bounded_int(0), default=defaults.steps, help="SGD steps")
    parser.add_argument("--n", type=_bounded_int(2), default=defaults.n, help="number of points")
    parser.add_argument("--noise", type=_finite_float(allow_zero=True), default=defaults.noise, help="noise")
    parser.add_argument(
        "--decay-steps",
        type=_bounded_int(1),
        help="steps over which lr falls to its end value (default: --steps); a continued run keeps its own",
    )
    parser.add_argument(
        "--plot", metavar="FILE.png", type=_picture_path, help="save the decision boundary and the loss curve"
    )
    parser.add_argument(
        "--no-jit", action="store_true", help="train with the plain engine, not chainrule.jit"
    )
    parser.add_argument(
        "--html", metavar="FILE", type=_page_path, help="write the run as one page, a slider over its steps"
    )
    _add_checkpoint_options(
        parser, _moons_checkpoint, "--seed, --n, --noise and --decay-steps then come from the file"
    )
    parser.set_defaults(handler=_run_moons, error=parser.error)


_MOONS_RUN = ("seed", "n", "noise", "decay_steps")  # what a moons checkpoint keeps of its run


def _moons_checkpoint(text: str) -> checkpoint.Checkpoint:
    loaded = _checkpoint_file(text)
    model, info = loaded.model, loaded.info
    moons_shaped = model.nin == 2 and list(model.nouts) == [16, 16, 1]
    if not moons_shaped or model.activation != "relu" or model.output_activation != "linear":
        raise ArgumentTypeError(
            f"{text} holds {model!r}, not the moons network MLP(2, [16, 16, 1]) of relu with a linear output"
        )
    missing = [key for key in ("step", *_MOONS_RUN) if key not in info]
    if info.get("command") != "moons" or missing:
        raise ArgumentTypeError(
            f"{text} was not saved by `chainrule moons --save` "
            f"(its info lacks {', '.join(missing) or 'command: moons'})"
        )
    try:
        moons.dataset(moons.MoonsConfig(**{key: info[key] for key in _MOONS_RUN}))
    except (TypeError, ValueError) as error:
        raise ArgumentTypeError(f"{text}: its run settings are not valid: {error}") from None
    step = info["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ArgumentTypeError(f"{text}: its step count must be a whole number >= 0, got {step!r}")
    return loaded


def _run_moons(args: argparse.Namespace) -> int:
    if args.plot and (failure := _check_plot()):
        return failure
    if args.load:
        run = {key: args.load.info[key] for key in _MOONS_RUN}
        config = moons.MoonsConfig(steps=args.steps, **run)
        model, dataset, start = args.load.model, moons.dataset(config), args.load.info["step"]
    else:
        run = {
            "seed": args.seed,
            "n": args.n,
            "noise": args.noise,
            "decay_steps": args.decay_steps or max(args.steps, 1),
        }
        config = moons.MoonsConfig(steps=args.steps, **run)
        (model, dataset), start = moons.build(config), 0
    loss_fn, score_fn = moons.objective(model, config.alpha), None
    if not args.no_jit:
        loss_fn, score_fn = jit(loss_fn), jit(lambda point: model(point))
    end = start + config.steps
    steps = f"steps {start} to {end - 1} of SGD" if config.steps else "no SGD steps"
    heading = (
        f"moons: {config.n} points (noise {config.noise:g}, seed {config.seed}), MLP(2, [16, 16, 1]), "
        f"{steps}, lr {config.lr_start:g} → {config.lr_end:g} over {config.decay_steps} steps"
    )
    print(heading, flush=True)
    progress = moons.train(config, model, dataset, loss_fn, start, score_fn)
    recorder = training_page.MoonsRecorder(model, dataset, start, config.steps) if args.html else None
    progress = recorder.watch(progress) if recorder else progress
    losses = [item.loss for item in _shown(progress, start, config.steps)]
    final = moons.accuracy(model, dataset, score_fn)
    result = (
        f"after {end} step{'' if end == 1 else 's'}: accuracy {final:.1%} "
        f"({round(final * len(dataset))} of {len(dataset)} points)"
    )
    print(result)
    saved = (
        _save(model, args.save, {"command": "moons", "step": start + config.steps, **run}) if args.save else 0
    )
    plotted = 0
    if args.plot:
        plotted = _picture(
            "decision boundary and loss curve",
            lambda: plotting.save_moons_plot(model, dataset, losses, args.plot),
        )
    if recorder is not None:
        page = recorder.page(heading, result)
        return saved or plotted or _picture("training page", lambda: training_page.write(page, args.html))
    return saved or plotted


def _shown(progress: Iterator[moons.Progress], start: int, steps: int) -> Iterator[moons.Progress]:
    """A tqdm bar when stdout is a terminal (and tqdm is installed), else a plain line every 10 steps."""
    try:
        tqdm = require("tqdm", "plot", "the progress bar").tqdm if sys.stdout.isatty() else None
    except MissingExtraError:
        tqdm = None
    if tqdm is not None:
        bar = tqdm(progress, total=steps, unit="step", file=sys.stdout)
        for item in bar:
            bar.set_postfix({"loss": f"{item.loss:.4f}", "accuracy": f"{item.accuracy:.0%}"}, refresh=False)
            yield item
        return
    last = start + steps - 1
    width = len(str(last))
    for item in progress:
        if item.step % 10 == 0 or item.step in (start, last):
            print(
                f"step {item.step:>{width}}  loss {item.loss:.6f}  "
                f"accuracy {item.accuracy:6.1%}  lr {item.lr:.3f}",
                flush=True,
            )
        yield item


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="A scalar reverse-mode autodiff engine: the chain rule as a graph of closures.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    _add_xor(commands)
    _add_grad(commands)
    _add_explain(commands)
    _add_moons(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except BrokenPipeError:
        # the reader went away (`chainrule xor | head -1`): stop quietly, and keep Python's flush at
        # exit from raising again on the closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
