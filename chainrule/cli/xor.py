"""`chainrule xor`: the reference run, its options, and continuing it from a checkpoint."""

from __future__ import annotations

import argparse

from chainrule.cli import options
from chainrule.demos import plots, training_page, xor


def add_xor(commands: argparse._SubParsersAction) -> None:
    defaults = xor.XorConfig()
    parser = commands.add_parser(
        "xor",
        help=f"train {xor.network(defaults.hidden)} on XOR and print the reference log",
        description=f"Train {xor.network('hidden')} on XOR with SGD; every figure printed is computed.",
        formatter_class=options.HelpFormatter,
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed for the initial weights")
    parser.add_argument(
        "--steps",
        type=options.bounded_int(0),
        default=defaults.steps,
        help="SGD updates; the log counts updates done, from step 0 (before any) to step N (after the last), "
        "while moons numbers each update, 0 to N-1",
    )
    parser.add_argument("--lr", type=options.positive_float, default=defaults.lr, help="learning rate")
    parser.add_argument(
        "--hidden", type=options.bounded_int(1), default=defaults.hidden, help="hidden-layer width"
    )
    parser.add_argument(
        "--every", type=options.bounded_int(1), default=defaults.every, help="print the loss every N steps"
    )
    options.add_checkpoint_options(parser, xor.continue_from, "--seed and --hidden are then unused")
    options.add_plot_option(parser, "save the loss curve (needs chainrule[plot])")
    parser.add_argument(
        "--backend",
        choices=options.BACKENDS,
        default="engine",
        help="engine (the reference run, Value by Value), or the loss through chainrule.jit's python or "
        "native backend: the same log, faster",
    )
    options.add_backend_alias(parser, "--jit", "python")
    options.add_html_option(parser, "write the run as one page, a slider over its steps")
    parser.set_defaults(handler=run_xor, error=parser.error)


def run_xor(args: argparse.Namespace) -> int:
    config = xor.XorConfig(seed=args.seed, steps=args.steps, lr=args.lr, hidden=args.hidden, every=args.every)
    if (args.plot and (failure := options.check_plot())) or (failure := options.check_backend(args.backend)):
        return failure
    model, start = (args.load.saved.model, args.load.start) if args.load else (xor.build(config), 0)
    losses: list[float] = []
    recorder = training_page.XorRecorder(model, start, config.steps) if args.html else None
    for line in xor.run(config, losses, model, start, args.backend, on_step=recorder):
        print(line, flush=True)
    end = start + config.steps
    saved = options.save(model, args.save, xor.checkpoint_info(end)) if args.save else 0
    title = f"XOR: {xor.network(model.nouts[0])}, sum of squared errors"
    plotted = (
        options.picture("loss curve", lambda: plots.save_loss_plot(losses, args.plot, title))
        if args.plot
        else 0
    )
    if recorder is not None:
        heading = f"{title}, SGD lr {config.lr:g}, steps {start} to {end}"
        page = recorder.page(heading)
        return (
            saved or plotted or options.picture("training page", lambda: training_page.write(page, args.html))
        )
    return saved or plotted
