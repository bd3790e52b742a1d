"""`chainrule grad` and `chainrule explain`: an expression typed at the command line, and its derivatives."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from chainrule.cli import options
from chainrule.cli.expression import FUNCTIONS, Expression, ExpressionError, evaluate, name_of, parse_bindings
from chainrule.runtime.extras import MissingExtraError, MissingProgramError, require
from chainrule.show.drawing import render
from chainrule.show.explain import explain
from chainrule.show.forward import explain_forward
from chainrule.show.walkthrough import walkthrough


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


def typed_expression(text: str, at: Sequence[str]) -> Expression:
    """The expression as `grad` and `explain` read it: the words of --at bound, the root named f (out where
    f is a name). An ExpressionError says what is wrong and points at it (the playground shows it too)."""
    bindings = parse_bindings(at)
    expression = evaluate(text, bindings)
    root = expression.root
    if root._prev and not root.label:
        root.label = "out" if "f" in bindings else "f"
    return expression


def _name(text: str) -> str:
    """--forward's NAME, read as the names of the expression and of --at are."""
    try:
        return name_of(text)
    except ExpressionError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _expression(args: argparse.Namespace) -> Expression:
    """The parsed and computed expression; a bad one is a usage error (status 2, the message points at it)."""
    if args.expression is None:
        hint = "; put it before --at, which takes every word after it" if args.at else ""
        args.error(f"the expression is missing{hint}")
    try:
        expression = typed_expression(args.expression, args.at)
    except ExpressionError as error:
        args.error(str(error))
    return expression


def heading(expression: Expression) -> str:
    """The line above the printout: f = the expression   at each name's value."""
    values = ", ".join(f"{name} = {leaf.data:g}" for name, leaf in expression.inputs.items())
    return f"{expression.root.label or 'f'} = {expression.text.strip()}" + (
        f"   at {values}" if values else ""
    )


def add_grad(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "grad",
        help="the value of an expression and its partial derivatives",
        description="Compute an expression with the engine and print its value and every partial derivative.",
        epilog='example: chainrule grad "x**2 * exp(-y)" --at x=1.5 y=0.2',
    )
    _add_expression_arguments(parser)
    parser.set_defaults(handler=run_grad, error=parser.error)


def run_grad(args: argparse.Namespace) -> int:
    expression = _expression(args)
    root = expression.root
    root.backward()
    name = root.label or "f"
    rows = [(name, root.data)] + [
        (f"∂{name}/∂{input_name}", leaf.grad) for input_name, leaf in expression.inputs.items()
    ]
    width = max(len(label) for label, _ in rows)
    print(heading(expression))
    for label, value in rows:
        print(f"{label.ljust(width)} = {value:.10g}")
    return 0


def add_explain(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "explain",
        help="the forward pass and the backward walk of an expression, step by step",
        description="Print the forward pass, the backward walk node by node in the engine's order, "
        "and the gradient of each input; with --forward NAME, forward mode's trace along NAME instead.",
        epilog='example: chainrule explain "tanh(a*b + c)" --at a=2 b=-3 c=10 --svg graph.svg',
    )
    _add_expression_arguments(parser)
    parser.add_argument(
        "--svg",
        metavar="FILE",
        type=options.picture_path,
        help="also draw the graph after the backward pass, as .svg, .png or .pdf (chainrule[viz])",
    )
    options.add_html_option(
        parser, "also write the walkthrough: one page that steps through both passes (chainrule[viz])"
    )
    parser.add_argument(
        "--forward",
        metavar="NAME",
        type=_name,
        help="print the forward-mode trace instead: every node's value and its tangent d(node)/d(NAME)",
    )
    parser.set_defaults(handler=run_explain, error=parser.error)


def run_explain(args: argparse.Namespace) -> int:
    expression = _expression(args)
    inputs = list(expression.inputs.values())
    if args.forward is not None and args.html:
        args.error(
            "argument --html: the walkthrough page shows the backward walk, and there is no forward-mode "
            "page: drop --forward to write the walkthrough, or drop --html to print the forward trace"
        )
    if args.forward is not None and args.forward not in expression.inputs:
        args.error(
            f"argument --forward: {args.forward} is not one of the names given a value in --at "
            f"({', '.join(expression.inputs) or 'none'})"
        )
    try:
        if args.svg or args.html:
            require("graphviz", "viz", "--svg" if args.svg else "--html")
        print(heading(expression))
        print()
        if args.forward is None:
            explain(expression.root, inputs)
        else:
            explain_forward(expression.root, expression.inputs[args.forward], inputs)
            expression.root.backward()  # for --svg: the drawing shows each node's gradient
        if args.svg or args.html:
            print()
        drawn = options.picture("graph", lambda: render(expression.root, args.svg)) if args.svg else 0
        if args.html:
            page = walkthrough(expression.root, inputs, heading(expression))
            return options.picture("walkthrough page", lambda: page.save(args.html)) or drawn
        return drawn
    except (MissingExtraError, MissingProgramError) as error:
        return options.fail(str(error))
    return 0
