"""`chainrule moons`: micrograd's demo, shown as it trains, saved and continued."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import cast

from chainrule.cli import options
from chainrule.compiler import jit
from chainrule.demos import moons, plots, training_page
from chainrule.demos.moons import Scorer
from chainrule.demos.objective import Trainable, one
from chainrule.runtime.extras import MissingExtraError, require


def add_moons(commands: argparse._SubParsersAction) -> None:
    defaults = moons.MoonsConfig()
    parser = commands.add_parser(
        "moons",
        help=f"micrograd's demo: {moons.NETWORK} separates two moons",
        description=f"Train {moons.NETWORK} (ReLU, linear output) on two moons with hinge loss + "
        f"{defaults.alpha:g}·Σp² and SGD, lr {defaults.lr_start:g} → {defaults.lr_end:g}.",
        formatter_class=options.HelpFormatter,
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of the data and the weights")
    parser.add_argument(
        "--steps",
        type=options.bounded_int(0),
        default=defaults.steps,
        help="SGD updates, numbered 0 to N-1 (each line: the loss before that update), then the accuracy "
        "after all N; xor's log instead counts updates done and ends at step N",
    )
    parser.add_argument("--n", type=options.bounded_int(2), default=defaults.n, help="number of points")
    parser.add_argument(
        "--noise", type=options.finite_float(allow_zero=True), default=defaults.noise, help="noise"
    )
    parser.add_argument(
        "--decay-steps",
        type=options.bounded_int(1),
        help="steps over which lr falls to its end value (default: --steps); a continued run keeps its own",
    )
    options.add_plot_option(parser, "save the decision boundary and the loss curve")
    parser.add_argument(
        "--backend",
        choices=options.BACKENDS,
        help="engine (Value by Value), or chainrule.jit's python or native backend "
        "(default: native when numba is installed, else python)",
    )
    options.add_backend_alias(parser, "--no-jit", "engine")
    options.add_html_option(parser, "write the run as one page, a slider over its steps")
    options.add_checkpoint_options(
        parser, moons.continue_from, "--seed, --n, --noise and --decay-steps then come from the file"
    )
    parser.set_defaults(handler=run_moons, error=parser.error)


def run_moons(args: argparse.Namespace) -> int:
    if (args.plot and (failure := options.check_plot())) or (failure := options.check_backend(args.backend)):
        return failure
    if args.load:
        config, start = moons.saved_config(args.load.saved, args.steps), args.load.start
        model, dataset = args.load.saved.model, moons.dataset(config)
    else:
        decay_steps = args.decay_steps or max(args.steps, 1)
        config = moons.MoonsConfig(
            seed=args.seed, n=args.n, noise=args.noise, steps=args.steps, decay_steps=decay_steps
        )
        (model, dataset), start = moons.build(config), 0
    objective = moons.objective(model, config.alpha)
    loss_fn: Trainable = objective
    score_fn: Scorer | None = None
    backend = args.backend or _default_backend()
    print(f"chainrule moons: backend {backend}", file=sys.stderr, flush=True)
    if backend != "engine":
        # jit of a function that returns one Value returns a JitResult per call: a Root, as train needs
        loss_fn = cast(Trainable, jit(objective, backend))
        score_fn = cast(Scorer, jit(lambda point: one(model(point)), backend))
    print(moons.heading(config, start), flush=True)
    progress = moons.train(config, model, dataset, loss_fn, start, score_fn)
    recorder = training_page.MoonsRecorder(model, dataset, start, config.steps) if args.html else None
    progress = recorder.watch(progress) if recorder else progress
    losses = [item.loss for item in _shown(progress, start, config.steps)]
    end = start + config.steps
    result = moons.result_line(model, dataset, end, score_fn)
    print(result)
    saved = options.save(model, args.save, moons.checkpoint_info(config, end)) if args.save else 0
    plotted = 0
    if args.plot:
        plotted = options.picture(
            "decision boundary and loss curve",
            lambda: plots.save_moons_plot(model, dataset, losses, args.plot),
        )
    if recorder is not None:
        page = recorder.page(moons.heading(config, start), result)
        return (
            saved or plotted or options.picture("training page", lambda: training_page.write(page, args.html))
        )
    return saved or plotted


def _default_backend() -> str:
    """native when numba is there to compile its interpreter, python otherwise."""
    try:
        import chainrule.compiler.native  # noqa: F401
    except ImportError:
        return "python"
    return "native"


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
            print(moons.progress_line(item, width), flush=True)
        yield item
