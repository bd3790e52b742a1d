"""chainrule.jit against the engine: the same values and gradients, to the bit (same summation order)."""

from __future__ import annotations

import ast
import inspect
import math
import random
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from op_cases import apply, defined, exponents

import chainrule
from chainrule import MLP, Value, jit, no_grad
from chainrule.cli import main
from chainrule.demos import xor
from chainrule.losses import mse
from chainrule.rules import RULES

ROOT = Path(__file__).resolve().parent.parent


def engine_and_jit(make_fn, leaf_data, args, calls=1):
    """Build the same fn twice over fresh leaves; run one with the engine, one through jit.

    Returns ([(value, grads)] for the engine, the same for jit), one entry per call."""
    results = []
    for compiled in (False, True):
        leaves = [Value(x) for x in leaf_data]
        fn = make_fn(leaves)
        step = jit(fn) if compiled else fn
        runs = []
        for _ in range(calls):
            for leaf in leaves:
                leaf.grad = 0.0
            out = step(*args)
            out.backward()
            runs.append((out.data, [leaf.grad for leaf in leaves]))
        results.append(runs)
    return results


def assert_same(engine_runs, jit_runs):
    assert len(engine_runs) == len(jit_runs)
    for (value, grads), (jit_value, jit_grads) in zip(engine_runs, jit_runs):
        assert jit_value == value
        assert jit_grads == grads  # bit-identical: the same expressions summed in the same order


# every op of the table, on nodes that depend on the input x (so forward and backward both run it)
OPS = {
    f"{rule.name}{'' if n is None else f' n={n:g}'}": (
        lambda a, b, x, rule=rule, n=n: apply(rule, a * x, b + x, n=n)
    )
    for rule in RULES
    for n in exponents(rule)
    if rule.python is None and defined(rule, 0.7 * 0.9, 1.3 + 0.9, n, margin=0.05)  # inside its domain
} | {
    "radd": lambda a, b, x: 2.5 + a * x,
    "rmul": lambda a, b, x: 3 * a * b,
    "rsub": lambda a, b, x: 1.5 - a * b,
    "rdiv": lambda a, b, x: 2.0 / (a * x),
    "rpow": lambda a, b, x: 2 ** (a * x),
    "relu off": lambda a, b, x: (a * x - b).relu() + (b - a * x).relu(),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_matches_the_engine(name):
    op = OPS[name]
    engine, compiled = engine_and_jit(lambda leaves: lambda x: op(*leaves, x), [0.7, 1.3], (0.9,))
    assert_same(engine, compiled)


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_matches_central_differences(name):
    """jit's gradients against (f(p + ε) - f(p - ε)) / 2ε, moving the leaves between calls: no engine."""
    a, b = Value(0.7), Value(1.3)
    step = jit(lambda x: OPS[name](a, b, x))
    out = step(0.9)
    out.backward()
    eps = 1e-6
    for leaf in (a, b):
        leaf.data += eps
        above = step(0.9).data
        leaf.data -= 2 * eps
        below = step(0.9).data
        leaf.data += eps
        numeric = (above - below) / (2 * eps)
        assert leaf.grad == pytest.approx(numeric, rel=1e-5, abs=1e-7)


def random_expression(rng: random.Random, leaves: list[Value], inputs: list, size: int) -> Value:
    """A random graph whose later nodes reuse earlier ones (shared subexpressions), in every op's domain."""
    pool = list(leaves) + [leaves[i % len(leaves)] * x for i, x in enumerate(inputs)]
    for _ in range(size):
        a, b = rng.choice(pool), rng.choice(pool)
        kind = rng.randrange(12)
        if kind == 0:
            node = a + b
        elif kind == 1:
            node = a * b
        elif kind == 2:
            node = a - b
        elif kind == 3:
            node = a / (b * b + 1)
        elif kind == 4:
            node = (a * a + 0.5) ** 1.5
        elif kind == 5:
            node = (a * a + 1) ** (b.tanh())
        elif kind == 6:
            node = -a
        elif kind == 7:
            node = a.tanh()
        elif kind == 8:
            node = (a.tanh() * 2).exp()
        elif kind == 9:
            node = (a * a + 1).log()
        elif kind == 10:
            node = a.relu() * b
        else:
            node = (a * b).sigmoid()
        pool.append(node)
    return sum(pool[-5:], pool[len(leaves)])  # several roots merged: more sharing


@pytest.mark.parametrize("seed", range(20))
def test_random_expressions_with_shared_subexpressions(seed):
    rng = random.Random(seed)
    data = [rng.uniform(-2, 2) for _ in range(4)]
    args = [rng.uniform(-2, 2) for _ in range(3)]

    def make(leaves):
        return lambda xs: random_expression(random.Random(seed), leaves, list(xs), 40)

    engine, compiled = engine_and_jit(make, data, (args,), calls=2)
    assert_same(engine, compiled)


@pytest.mark.parametrize(
    ("nin", "nouts", "activation", "output"),
    [
        (2, [4, 1], "tanh", None),
        (3, [5, 5, 1], "relu", "linear"),
        (1, [1], "tanh", None),
        (4, [3, 2], "relu", "tanh"),
    ],
)
def test_mlps_of_several_shapes(nin, nouts, activation, output):
    rng = random.Random(7)
    points = [[rng.uniform(-1, 1) for _ in range(nin)] for _ in range(6)]
    targets = [rng.choice([-1.0, 1.0]) for _ in points]
    results = []
    for compiled in (False, True):
        model = MLP(nin, nouts, activation, output, rng=random.Random(3))

        def loss(xs, ys, model=model):
            outputs = [model(x) for x in xs]
            scores = [sum(out, Value(0.0)) if isinstance(out, list) else out for out in outputs]
            return mse(scores, ys)

        step = jit(loss) if compiled else loss
        runs = []
        for _ in range(3):  # three SGD steps: later calls read the updated weights
            out = step(points, targets)
            model.zero_grad()
            out.backward()
            runs.append((out.data, [p.grad for p in model.parameters()]))
            for p in model.parameters():
                p.data -= 0.1 * p.grad
        results.append(runs)
    assert_same(*results)


@pytest.mark.parametrize("traced_at", [1.0, -1.0, 0.0])
def test_relu_kinks_on_both_sides(traced_at):
    """relu's branch runs on every call: traced on one side of the kink or on it, called on all three."""
    w = Value(1.0)
    step = jit(lambda x: (w * x).relu() * 3)
    for x in (traced_at, 1.0, -1.0, 0.0, 2.0, -0.5, -0.0):
        w.grad = 0.0
        out = step(x)
        out.backward()
        expected = Value(1.0)
        eager = (expected * x).relu() * 3
        eager.backward()
        assert (out.data, w.grad) == (eager.data, expected.grad)


def test_retraces_when_the_argument_structure_changes():
    traces = []
    w = Value(2.0)

    def fn(xs):
        traces.append(len(xs))
        return sum((w * x for x in xs), Value(0.0))

    step = jit(fn)
    sources = []
    for xs in ([1.0, 2.0], [3.0, 4.0], [1.0, 2.0, 3.0], [5.0, 6.0], (7.0, 8.0, 9.0)):
        w.grad = 0.0
        out = step(xs)
        out.backward()
        assert out.data == sum(2.0 * x for x in xs)
        assert w.grad == sum(xs)
        sources.append(step.source)
    # traced for 2 numbers and for 3; a shape seen before (a tuple is a list here) runs its code again
    assert traces == [2, 3]
    assert sources[0] == sources[1] == sources[3] != sources[2] == sources[4]
    with pytest.raises(TypeError):  # a list of lists: traced again, and fn itself cannot multiply by a list
        step([[1.0], [2.0]])
    assert traces == [2, 3, 2]


def test_gradients_accumulate_across_calls_like_the_engine():
    def make(leaves):
        a, b = leaves
        return lambda x: (a * x + b).tanh() * a

    results = []
    for compiled in (False, True):
        a, b = Value(0.3), Value(-0.4)
        fn = make([a, b])
        step = jit(fn) if compiled else fn
        first = step(0.5)
        first.backward()
        step(1.5).backward()  # no zeroing in between: leaves accumulate
        first.backward()  # a second backward() of one result adds again, as in the engine
        results.append((a.grad, b.grad))
    assert results[0] == results[1]
    assert results[0] != (0.0, 0.0)


def test_the_xor_run_through_jit_prints_the_same_lines():
    config = xor.XorConfig()
    assert list(xor.run(config, backend="python")) == list(xor.run(config))


def test_chainrule_xor_jit_prints_the_same_text(capsys):
    assert main(["xor", "--steps", "300", "--every", "50"]) == 0
    plain = capsys.readouterr().out
    assert main(["xor", "--steps", "300", "--every", "50", "--backend", "python"]) == 0
    assert capsys.readouterr().out == plain
    assert plain.count("\n") == 12


NASTY = 'a\nraise SystemExit("boom")  # \'"\r\x0c\u2028'


def test_labels_and_names_never_change_what_runs():
    def build(label):
        a, b = Value(0.5, label=label), Value(-1.5, label=label)

        def fn(x):
            h = (a * x + b).tanh()
            h.label = label
            return h * a

        fn.__qualname__ = fn.__name__ = label
        return jit(fn), (a, b)

    clean, clean_leaves = build("w")
    nasty, nasty_leaves = build(NASTY)
    outs = [clean(0.25), nasty(0.25)]
    for out in outs:
        out.backward()
    assert outs[0].data == outs[1].data
    assert [v.grad for v in clean_leaves] == [v.grad for v in nasty_leaves]
    # the text only lands in comments: the programs parse to the same tree
    assert ast.dump(ast.parse(nasty.source)) == ast.dump(ast.parse(clean.source))
    assert len(nasty.source.splitlines()) == len(clean.source.splitlines())


def count_nodes(root: Value) -> int:
    seen, stack = {root}, [root]
    while stack:
        for parent in stack.pop()._prev:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return len(seen)


def test_source_is_one_line_per_node_with_the_op_named():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")

    def fn(x):
        return (a * x + b).tanh().relu() ** 2 - (b / a).log().exp().sigmoid()

    step = jit(fn)
    step(0.5)
    forward, backward = step.source.split("def backward")
    for op in ("*", "+", "tanh", "relu", "**2", "/", "log", "exp", "sigmoid", "-"):
        assert f"  # {op}" in forward
        assert f"# {op}" in backward
    assigned = [line for line in forward.splitlines() if re.match(r"\s*v\d+ = ", line)]
    assert len(assigned) == count_nodes(fn(Value(0.5))) - 1  # every node once; the input x is unpacked
    assert "# leaf 'a'" in forward  # labels shown, quoted


def test_jitted_function_keeps_the_signature():
    def loss(points, targets, scale=1.0):
        return Value(0.0)

    assert inspect.signature(jit(loss)) == inspect.signature(loss)
    assert jit(loss).__name__ == "loss"


def test_bool_of_a_value_is_a_floats_and_a_guard_while_tracing():
    w = Value(1.0)

    def branching(x):
        y = w * x
        return y * 2 if y else y - 1  # bool(y) as a float's: False at 0.0

    compiled = jit(branching)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a guarded branch is not warned of
        for x in (1.0, 0.0, -3.0, 0.0, 2.5):
            assert compiled(x) == branching(Value(x)).data  # traced at 1.0, right at 0.0: a guard
    assert len(next(iter(compiled._programs.values()))) == 2  # two paths: y true, y false

    def failing(x):
        raise RuntimeError("inside fn")

    with pytest.raises(RuntimeError):
        jit(failing)(1.0)
    assert bool(Value(0.0)) is False and bool(w) is True and bool(Value(math.nan)) is True  # as floats


@pytest.mark.parametrize(
    ("fn", "good", "bad", "error"),
    [
        (lambda x: (x * 1).log(), 2.0, -1.0, ValueError),
        (lambda x: (x * 1).log(), 2.0, 0.0, ValueError),
        (lambda x: 1 / (x * 1), 2.0, 0.0, ZeroDivisionError),
        (lambda x: (x * 1) ** 0.5, 2.0, -4.0, ValueError),
        (lambda x: (x * 1) ** -1, 2.0, 0.0, ZeroDivisionError),
        (lambda x: (x * 1) ** Value(2.0), 2.0, -1.0, ValueError),
    ],
)
def test_domain_errors_raise_at_every_call_as_in_the_engine(fn, good, bad, error):
    step = jit(fn)
    assert step(good).data == fn(Value(good)).data
    with pytest.raises(error) as engine_error:
        fn(Value(bad))
    with pytest.raises(error) as compiled_error:
        step(bad)
    assert str(compiled_error.value) == str(engine_error.value)  # the same message, naming op and value


def test_arguments_are_checked_and_ints_become_floats():
    w = Value(1.5)
    step = jit(lambda xs, scale=1.0: sum((w * x for x in xs), Value(0.0)) * scale)
    assert step([1, 2]).data == step([1.0, 2.0]).data == 4.5
    assert step([1.0, 2.0], scale=2).data == 9.0
    for bad in (["1"], [True], [None], "ab"):
        with pytest.raises(TypeError, match="numbers"):
            step(bad)
    with pytest.raises(TypeError, match="must return a Value"):
        jit(lambda x: x.data)(1.0)


def test_value_arguments_run_on_the_engine():
    w = Value(2.0)
    step = jit(lambda x: w * x)
    x = Value(3.0)
    out = step(x)
    assert isinstance(out, Value)
    out.backward()
    assert (x.grad, w.grad) == (2.0, 3.0)


def test_no_grad_results_have_no_backward_effect():
    w = Value(2.0)
    step = jit(lambda x: w * x)
    step(1.0)
    with no_grad():
        out = step(4.0)
    out.backward()
    assert (out.data, w.grad) == (8.0, 0.0)


def test_moons_objective_compiles_and_matches():
    from chainrule.demos import moons

    config = moons.MoonsConfig(n=8)
    results = []
    for compiled in (False, True):
        model, dataset = moons.build(config)
        loss_fn = moons.objective(model, config.alpha)
        progress = list(
            moons.train(moons.MoonsConfig(n=8, steps=3), model, dataset, jit(loss_fn) if compiled else None)
        )
        results.append(([p.loss for p in progress], [p.data for p in model.parameters()]))
    assert results[0] == results[1]


def test_benchmark_script_runs_with_tiny_sizes():
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "run.py"),
        *("--xor-steps", "3", "--moons-steps", "2", "--moons-points", "6", "--slow-steps", "1"),
        *("--contenders", "engine,jit,hand"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    rows = [
        line for line in done.stdout.splitlines() if line.startswith("| xor") or line.startswith("| moons")
    ]
    assert len(rows) == 8  # 3 contenders + the engine with the collector off, on each of 2 workloads
    assert sum(", gc off" in row for row in rows) == 2
    assert all(row.split("|")[-2].strip() == "yes" for row in rows)
    assert math.isfinite(float(rows[0].split("|")[7]))


def test_mlp_gradients_match_pytorch(torch):
    model = MLP(2, [3, 1], rng=random.Random(5))
    points, targets = [[0.5, -1.0], [2.0, 0.25], [-0.3, 0.8]], [1.0, -1.0, 1.0]
    out = jit(lambda xs, ys: mse([model(x) for x in xs], ys))(points, targets)
    out.backward()
    hidden, last = model.layers
    w1 = torch.tensor([[w.data for w in n.w] for n in hidden.neurons], requires_grad=True)
    b1 = torch.tensor([n.b.data for n in hidden.neurons], requires_grad=True)
    w2 = torch.tensor([[w.data for w in n.w] for n in last.neurons], requires_grad=True)
    b2 = torch.tensor([n.b.data for n in last.neurons], requires_grad=True)
    scores = torch.tanh(torch.tanh(torch.tensor(points) @ w1.T + b1) @ w2.T + b2)[:, 0]
    reference = ((scores - torch.tensor(targets)) ** 2).mean()
    reference.backward()
    assert out.data == pytest.approx(reference.item(), rel=1e-12)
    expected = [g for wg, bg in zip(w1.grad, b1.grad) for g in (*wg.tolist(), bg.item())]
    expected += [*w2.grad[0].tolist(), b2.grad[0].item()]
    assert [p.grad for p in model.parameters()] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def engine_then_jit(fn, x: float, leaves: list[Value]) -> tuple[list[float], list[float], Any]:
    """fn at x by the engine and by jit's python program: (value, leaves' gradients) each, the program."""
    results = []
    step = jit(fn)
    for run in (fn, step):
        for leaf in leaves:
            leaf.grad = 0.25  # held before: a share is added to it
        out = run(x)
        out.backward()
        results.append([out.data, *(leaf.grad for leaf in leaves)])
    return results[0], results[1], step


@pytest.mark.parametrize("length", [38, 39, 40, 41, 42, 60])
def test_a_comment_shows_a_name_whole_up_to_40_characters_and_cuts_a_longer_one_to_40(length):
    """A label and the function's name appear in comments as ascii() writes them (quotes included),
    whole when that is at most 40 characters, else its first 37 and `...`: 40 in all. The program's
    numbers are the engine's either way."""
    name = "n" * (length - 2)  # ascii() adds two quotes
    a = Value(0.5, label=name)

    def fn(x):
        return (a * x).tanh()

    fn.__qualname__ = name
    engine, compiled, step = engine_then_jit(fn, 0.75, [a])
    assert compiled == engine
    shown = ascii(name)
    expected = shown if len(shown) <= 40 else shown[:37] + "..."
    assert len(expected) <= 40
    assert step.source.splitlines()[0].startswith(f"# chainrule.jit of {expected}: ")
    [leaf_comment] = [line.split("  # leaf ")[1] for line in step.source.splitlines() if "  # leaf " in line]
    assert leaf_comment == expected


@pytest.mark.parametrize("name", ["carré", "sq\nuare = 1", "x\u2028y", "tab\there"])
def test_a_user_op_whose_name_is_not_printable_ascii_is_named_by_ascii_in_the_comments(name):
    """A primitive's name (its function's __name__, any text) is written as ascii() writes it: no
    character of it outside printable ASCII reaches the source, and the program computes the engine's
    numbers."""

    def function(x):
        return x * x

    function.__name__ = function.__qualname__ = name
    op = chainrule.primitive(lambda x, out: 2.0 * x)(function)
    shown = ascii(op.rule.name)
    a = Value(1.5)

    def fn(x):
        return op(a * x) * 0.75

    engine, compiled, step = engine_then_jit(fn, -0.5, [a])
    assert compiled == engine
    forward, backward = step.source.split("def backward")
    assert f"  # {shown}" in forward and f"# {shown}" in backward
    assert step.source.isascii() and all(line.isprintable() for line in step.source.splitlines())


def test_a_gradient_passed_on_unchanged_to_its_only_consumer_is_shared_not_copied():
    """a + b hands its gradient to a and b unchanged: a node whose only gradient that is uses the same
    variable (the line says so: `# +: d/dv6 = g7`) instead of a copy `g6 = g7`; a node with more
    consumers gets a variable of its own, the others' shares added to it. The numbers are the engine's."""
    a, b = Value(0.5), Value(-1.5)

    def fn(x):
        h = a * x + b  # + passes its gradient to a * x (its only consumer) and to b (a leaf)
        twice = h * h + h  # h has three consumers: a copy, then += the others
        return (twice + x).tanh() - (a + 2.0)  # the root's 1.0 passed to tanh, twice's gradient to h * h

    engine, compiled, step = engine_then_jit(fn, 0.75, [a, b])
    assert compiled == engine
    backward = [line.strip() for line in step.source.split("def backward")[1].splitlines()]
    statements = [
        s.split("  #")[0] for line in backward if not line.startswith("#") for s in line.split("; ")
    ]
    shared = [int(p) for line in backward for p in re.findall(r"d/dv(\d+) = ", line)]
    assert len(shared) == 4, backward  # v8 (the root's 1.0), v6 and v5 (tanh's, then twice's), v2
    assert not [s for s in statements for p in shared if s.startswith(f"g{p} ")], backward
    assert len([s for s in statements if re.fullmatch(r"g\d+ = g\d+", s)]) == 1, backward  # h's


def _spec_kinds():
    from collections import namedtuple

    import numpy as np

    point = namedtuple("point", "x y")
    return [
        (1.0, (2.0, 3.0)),
        [1.0, [2.0], []],
        {"b": 1.0, "a": [2.0, {"c": 3.0}]},
        point(1.0, [2.0, 3.0]),
        (np.arange(4.0).reshape(2, 2), {"k": np.zeros((0, 3))}),
        (),
    ]


@pytest.mark.parametrize("tree", _spec_kinds(), ids=range(len(_spec_kinds())))
@pytest.mark.parametrize("most", [10**6, 0], ids=["written", "unflatten"])
def test_a_shaper_builds_what_unflatten_builds(tree, most, monkeypatch):
    from chainrule.compiler import python_code
    from chainrule.runtime import trees

    monkeypatch.setattr(python_code, "SHAPED_MOST", most)
    leaves, spec = trees.flatten(tree, lambda leaf: leaf)
    flat = [float(k) for k in range(len(leaves))]
    built, expected = python_code.shaper(spec)(flat), trees.unflatten(spec, flat)
    assert repr(built) == repr(expected) and type(built) is type(expected)


@pytest.mark.parametrize("backend", ["python", "native"])
def test_outputs_nested_deeper_than_python_parses_still_compile(backend):
    if backend == "native":
        pytest.importorskip("numba")

    def deep(x):
        out = x
        for k in range(300):  # past the parser's 200 nested parentheses
            out = (x * float(k), out)
        return out

    assert repr(jit(deep, backend=backend)(2.0)) == repr(_floats(deep(Value(2.0))))


def _floats(tree):
    return tree.data if isinstance(tree, Value) else tuple(_floats(item) for item in tree)


def test_a_shapers_text_holds_no_user_text():
    from chainrule.compiler import python_code
    from chainrule.runtime import trees

    key = "__import__('os')._exit(3)"  # were it written into the text, compiling it would run it
    _, spec = trees.flatten({key: 1.0, "b)": [2.0]}, lambda leaf: leaf)
    shaped = python_code.shaper(spec)
    assert shaped([5.0, 6.0]) == {key: 5.0, "b)": [6.0]}
    assert key not in repr(shaped.__code__.co_consts) and "b)" not in repr(shaped.__code__.co_consts)


# --- the tape ----------------------------------------------------------------------------------------------


def test_the_tape_holds_each_nodes_row_parents_and_leaves_in_the_engines_order():
    """record's tape against the graph read directly: topological_order, each node's op and parents."""
    from chainrule.compiler.tape import record
    from chainrule.engine import topological_order
    from chainrule.rules import rule_of

    x, y, w = Value(0.5), Value(-1.5), Value(2.0)  # w: closed over
    z = chainrule.math.tanh(x * w + y) ** 3 - x / (y + 4.0) + chainrule.math.atan2(x, y)
    with no_grad():
        cut = Value(3.0, (x,), "tanh")  # a leaf that says tanh: made under no_grad, so no parents
    root = z * cut
    tape = record(root, [x, y])
    order = topological_order(root)
    at = {id(node): i for i, node in enumerate(order)}
    assert len(tape) == len(order) and tape.parents == tuple(
        tuple(at[id(p)] for p in node._prev) for node in order
    )
    assert tape.rules == tuple(rule_of(node) if node._prev else None for node in order)
    assert list(tape.arities) == [len(node._prev) for node in order]
    assert tape.inputs == (at[id(x)], at[id(y)])
    leaves = [i for i, node in enumerate(order) if not node._prev and node is not x and node is not y]
    assert tape.leaf_nodes == tuple(leaves) and tape.leaves == tuple(order[i] for i in leaves)
    assert tape.exponents == tuple(node._exponent for node in order)
    grads = tape.needs_grad
    assert [grads[at[id(v)]] for v in (x, y, w, cut, root)] == [False, False, True, True, True]


def test_a_node_built_by_hand_that_no_row_fits_is_refused_by_jit():
    """A node with an op the table lacks, or another op's number of parents, named when traced."""
    a = Value(1.0)

    def unknown(x):
        return Value(2.0, (x * a,), "erfcx") + x

    def two_parents(x):
        return chainrule.math.tanh(x) + Value(2.0, (x, a), "tanh") + chainrule.math.tanh(x * a)

    for fn, message in ((unknown, "no op 'erfcx'"), (two_parents, "a 'tanh' node needs 1 parents, it has 2")):
        for backend in ("python", "native"):
            if backend == "native":
                pytest.importorskip("numba")
            with pytest.raises(ValueError, match=re.escape(message)):
                jit(fn, backend=backend)(0.5)
