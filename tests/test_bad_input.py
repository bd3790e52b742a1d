"""One test per row of docs/bad-input.md (test_v01_... for row V01), each checking what the row states."""

from __future__ import annotations

import json
import math
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule
from chainrule import (
    MLP,
    SGD,
    Adam,
    CheckpointError,
    GradcheckError,
    Layer,
    Neuron,
    Value,
    cli,
    grad,
    gradcheck,
    hinge,
    mse,
    sum_squared_error,
    value_and_grad,
)
from chainrule.derivatives.gradcheck import numerical_gradient
from chainrule.floatmath import DomainError
from chainrule.storage import checkpoint as ckpt

NAN, INF = math.nan, math.inf
TABLE = Path(__file__).parent.parent / "docs" / "bad-input.md"


def test_every_row_of_the_table_has_a_test_and_every_test_a_row():
    rows = set(re.findall(r"^\| ([A-Z]\d\d) \|", TABLE.read_text(), flags=re.MULTILINE))
    tests = {name.split("_")[1].upper() for name in globals() if re.fullmatch(r"test_[a-z]\d\d_\w+", name)}
    assert rows and rows == tests


# --- Numbers and the engine ---------------------------------------------------------------------


@pytest.mark.parametrize("data", ["1.5", None, 1j, [1.0], Value(1.0)])
def test_v01_a_non_number_is_refused_naming_its_type(data):
    with pytest.raises(TypeError, match=f"Value takes a real number .*, got {type(data).__name__}: "):
        Value(data)


def test_v02_a_bool_is_not_a_number():
    with pytest.raises(TypeError, match="got bool: True"):
        Value(True)


OPERATORS = {
    "+": (lambda x, o: x + o, lambda x, o: o + x),
    "-": (lambda x, o: x - o, lambda x, o: o - x),
    "*": (lambda x, o: x * o, lambda x, o: o * x),
    "/": (lambda x, o: x / o, lambda x, o: o / x),
    "**": (lambda x, o: x**o, lambda x, o: o**x),
}


@pytest.mark.parametrize("other", ["a", None, True, 2j])
@pytest.mark.parametrize("side", [0, 1], ids=["value-first", "value-second"])
@pytest.mark.parametrize("symbol", OPERATORS)
def test_v03_a_non_number_operand_is_refused(symbol, side, other):
    with pytest.raises(TypeError, match=f"takes a real number .*, got {type(other).__name__}"):
        OPERATORS[symbol][side](Value(2.0), other)


def test_v04_nan_is_data_and_spreads_as_ieee_says(torch):
    x = Value(NAN)
    linear = x * 2 + 1
    linear.backward()
    assert math.isnan(linear.data) and x.grad == 2.0  # d(2x + 1)/dx does not involve x
    y = Value(NAN)
    square = y * y
    square.backward()
    assert math.isnan(square.data) and math.isnan(y.grad)  # d(y·y)/dy = 2y does
    assert math.isnan(Value(NAN).relu().data)
    # a NaN base: d(a**b)/db = a**b · log(a) is NaN, as in PyTorch (it once came out 0)
    base, exponent = Value(NAN), Value(2.0)
    (base**exponent).backward()
    reference = torch.tensor(2.0, requires_grad=True)
    (torch.tensor(NAN) ** reference).backward()
    assert math.isnan(exponent.grad) and math.isnan(reference.grad.item())


def test_v05_infinity_is_data_and_follows_ieee():
    x = Value(INF)
    assert math.isnan((x - x).data)
    squashed = x.tanh()
    squashed.backward()
    assert (squashed.data, x.grad) == (1.0, 0.0)
    assert x.sigmoid().data == 1.0 and (-x).exp().data == 0.0


def test_v06_overflow_gives_infinity_not_an_exception(torch):
    for make in (lambda v: v.exp(), lambda v: v**400):
        x = Value(1000.0)
        y = make(x)
        y.backward()
        assert y.data == INF and x.grad == INF
    assert (Value(10.0) ** 400).data == INF and (Value(-10.0) ** 401).data == -INF
    for x, squashed in ((1000.0, 1.0), (-1000.0, 0.0)):  # sigmoid saturates without overflowing
        v = Value(x)
        y = v.sigmoid()
        y.backward()
        assert (y.data, v.grad) == (squashed, 0.0)
    # a / b for a tiny b: the gradient -a/b² overflows to -inf as in PyTorch (it was once a zero division)
    for divisor in (1e-200, 1e-320, -2.5e-246):
        a, b = Value(1.0), Value(divisor)
        (a / b).backward()
        ta, tb = torch.tensor(1.0, requires_grad=True), torch.tensor(divisor, requires_grad=True)
        (ta / tb).backward()
        assert (a.grad, b.grad) == (ta.grad.item(), tb.grad.item())


@pytest.mark.parametrize("x", [0.0, -1.0])
def test_v07_log_outside_its_domain(x):
    with pytest.raises(ValueError, match=f"log needs a positive argument, got {x!r}"):
        Value(x).log()


def test_v08_log_of_nan_is_nan():
    assert math.isnan(Value(NAN).log().data)


@pytest.mark.parametrize(
    "op", [lambda: Value(2.0) / 0, lambda: Value(2.0) / Value(0.0), lambda: 2 / Value(0.0)]
)
def test_v09_division_by_zero(op):
    with pytest.raises(ZeroDivisionError, match=re.escape("division by zero in /: 2.0 / 0.0")):
        op()


@pytest.mark.parametrize("exponent", [-1, Value(-2.0)])
def test_v10_zero_to_a_negative_power(exponent):
    power = exponent.data if isinstance(exponent, Value) else float(exponent)
    with pytest.raises(ZeroDivisionError, match=f"0 cannot be raised to the negative power {power}"):
        Value(0.0) ** exponent


def test_v11_negative_base_to_a_non_integer_power():
    with pytest.raises(ValueError, match=r"negative base -8\.0 to the non-integer power 0\.5 is complex"):
        Value(-8.0) ** 0.5


def test_v12_negative_base_to_a_value_power():
    with pytest.raises(ValueError, match=r"needs a base >= 0, got -2\.0"):
        Value(-2.0) ** Value(2.0)


@pytest.mark.parametrize(
    ("name", "value", "slope"),
    [("**0.5", 0.0, INF), ("relu", 0.0, 0.0), ("**0", 1.0, 0.0), ("**1.5", 0.0, 0.0)],
)
def test_v13_the_edge_of_a_domain_gives_the_limit(torch, name, value, slope):
    x, reference = Value(0.0), torch.tensor(0.0, requires_grad=True)
    if name == "relu":
        y, expected = x.relu(), reference.relu()
    else:
        y, expected = x ** float(name[2:]), reference ** float(name[2:])
    y.backward()
    expected.backward()
    assert (y.data, x.grad) == (value, slope) == (expected.item(), reference.grad.item())


# --- Networks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("nin", [0, 2.5, True, "3", -1])
def test_n01_a_neuron_needs_a_positive_whole_number_of_inputs(nin):
    with pytest.raises(
        ValueError, match=f"a neuron needs a positive whole number of inputs, got {re.escape(repr(nin))}"
    ):
        Neuron(nin)


def test_n02_a_layer_needs_neurons():
    with pytest.raises(ValueError, match="a layer needs a positive whole number of neurons, got 0"):
        Layer(2, 0)


@pytest.mark.parametrize("nouts", [[], 4])
def test_n03_an_mlp_needs_a_list_of_layer_sizes(nouts):
    with pytest.raises(
        ValueError,
        match="nouts must be a non-empty list of layer sizes such as " + re.escape(f"[4, 1], got {nouts}"),
    ):
        MLP(2, nouts)


def test_n04_an_unknown_activation():
    with pytest.raises(ValueError, match="unknown activation 'gelu'; choose one of tanh, relu, linear"):
        MLP(2, [1], activation="gelu")


@pytest.mark.parametrize(
    ("model", "inputs", "message"),
    [(Neuron(2), [1.0, 2.0, 3.0], "takes 2 inputs, got 3"), (MLP(2, [4, 1]), [1.0], "takes 2 inputs, got 1")],
)
def test_n05_the_wrong_number_of_inputs(model, inputs, message):
    with pytest.raises(ValueError, match=f"this neuron {message}"):
        model(inputs)


def test_n06_inputs_that_are_not_numbers():
    with pytest.raises(TypeError, match="got str: 'a'"):
        MLP(2, [1])(["a", "b"])


def test_n07_nan_inputs_give_a_nan_output():
    assert math.isnan(MLP(2, [4, 1], rng=random.Random(0))([NAN, 0.0]).data)


# --- Losses and optimizers ------------------------------------------------------------------------


@pytest.mark.parametrize("loss", [mse, sum_squared_error, hinge])
def test_l01_predictions_and_targets_must_pair_up(loss):
    with pytest.raises(ValueError, match="2 predictions but 1 targets: they must pair up"):
        loss([Value(1.0), Value(2.0)], [1.0])


@pytest.mark.parametrize("loss", [mse, sum_squared_error, hinge])
def test_l02_a_loss_needs_a_prediction(loss):
    with pytest.raises(ValueError, match="a loss needs at least one prediction"):
        loss([], [])


@pytest.mark.parametrize("optimizer", [SGD, Adam])
def test_o01_an_optimizer_needs_parameters(optimizer):
    with pytest.raises(ValueError, match=re.escape("the optimizer was given no parameters (an empty list)")):
        optimizer([], lr=0.1)


def test_o02_parameters_must_be_values():
    with pytest.raises(TypeError, match="parameters must be Values, got float"):
        SGD([1.0], lr=0.1)


@pytest.mark.parametrize("lr", [0, -0.1, NAN, INF, True, "0.1"])
@pytest.mark.parametrize("optimizer", [SGD, Adam])
def test_o03_the_learning_rate_must_be_a_positive_finite_number(optimizer, lr):
    with pytest.raises(ValueError, match=f"lr must be a positive finite number, got {re.escape(repr(lr))}"):
        optimizer([Value(1.0)], lr=lr)


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda p: SGD(p, lr=0.1, momentum=1), "momentum must be in"),
        (lambda p: Adam(p, betas=(1, 0.9)), "betas must be two numbers in"),
        (lambda p: Adam(p, eps=0), "eps must be a positive finite number"),
    ],
)
def test_o04_optimizer_settings_out_of_range(make, name):
    with pytest.raises(ValueError, match=name):
        make([Value(1.0)])


# --- Gradients ------------------------------------------------------------------------------------


def product(x, y):
    return x * y


def test_g01_argnums_past_the_arguments():
    with pytest.raises(ValueError, match="argnums 2 is out of range for a call with 2 positional arguments"):
        grad(product, 2)(1.0, 2.0)


@pytest.mark.parametrize("argnums", ["0", 1.0, True, ()])
def test_g02_argnums_of_the_wrong_type(argnums):
    with pytest.raises(TypeError, match="argnums must be an int or a non-empty sequence of ints"):
        grad(product, argnums)


@pytest.mark.parametrize("argnums", [(0, 0), (0, -2)])
def test_g03_an_argument_named_twice(argnums):
    with pytest.raises(ValueError, match="twice"):
        value_and_grad(product, argnums)(1.0, 2.0)


def test_g04_a_differentiated_argument_that_is_not_a_number():
    with pytest.raises(TypeError, match=r"got str: '1\.0'"):
        grad(product)("1.0", 2.0)


@pytest.mark.parametrize(("result", "kind"), [([Value(1.0)], "list"), ("1.0", "str")])
def test_g05_f_must_return_one_scalar(result, kind):
    def f(x):
        return result

    with pytest.raises(TypeError, match=f"f must return one Value \\(a scalar\\), got {kind}"):
        grad(f)(1.0)
    assert value_and_grad(lambda x: 3.0)(1.0) == (3.0, 0.0)


def test_g06_the_wrong_number_of_arguments_is_pythons_own_error():
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'y'"):
        grad(product)(1.0)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'y'"):
        gradcheck(product, [1.0])


def test_g07_gradcheck_inputs_must_be_numbers():
    with pytest.raises(TypeError, match=r"got str: '1\.0'"):
        gradcheck(product, ["1.0", 2.0])


def test_g08_a_broken_graph_is_caught_naming_the_worst_input_and_both_numbers():
    def leaves_the_graph(x, y):
        return Value(x.data**2) + x + y  # .data leaves the graph: the engine sees only x + y

    with pytest.raises(GradcheckError) as raised:
        gradcheck(leaves_the_graph, [1.5, 2.0])
    found = re.fullmatch(
        r"gradient mismatch at input 0 \(x = 1\.5\): engine 1\.0, central differences (\S+) \(tolerance.*\)",
        str(raised.value),
    )
    assert found and float(found[1]) == numerical_gradient(leaves_the_graph, [1.5, 2.0])[0]  # ≈ 2x + 1 = 4


# --- Compiled functions ---------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [0, -1, 2.5, True, None, "8"])
def test_j01_max_programs_must_be_a_whole_number_from_1(limit):
    with pytest.raises(
        ValueError, match=f"jit: max_programs must be a whole number >= 1, got {re.escape(repr(limit))}"
    ):
        chainrule.jit(product, max_programs=limit)


def test_j02_vmap_batch_axes_of_different_lengths():
    with pytest.raises(ValueError, match=r"batch axes differ in length \(argument 0: 3, argument 1: 2\)"):
        chainrule.vmap(product)([1.0, 2.0, 3.0], [1.0, 2.0])


def test_j03_vmap_of_an_empty_batch():
    with pytest.raises(ValueError, match=r"vmap: an empty batch \(length 0\)"):
        chainrule.vmap(lambda x: x)([])


@pytest.mark.parametrize("arg", [1.5, {"x": 1.0}, None])
def test_j04_vmap_of_an_argument_with_no_batch_axis(arg):
    with pytest.raises(TypeError, match=f"vmap: argument 0 has no batch axis.*got {type(arg).__name__}"):
        chainrule.vmap(lambda x: x)(arg)
    with pytest.raises(TypeError, match="needs at least one argument with a batch axis"):
        chainrule.vmap(lambda: 1.0)()


def test_j04_vmap_of_a_0d_array():
    np = pytest.importorskip("numpy")
    with pytest.raises(ValueError, match="argument 0 is a 0-d array"):
        chainrule.vmap(lambda x: x)(np.array(1.0))


def test_j05_vmap_keyword_arguments_and_a_non_function():
    with pytest.raises(TypeError, match=r"keyword arguments are not mapped \(got scale\)"):
        chainrule.vmap(lambda x, scale=1.0: x)([1.0], scale=[2.0])
    with pytest.raises(TypeError, match="vmap: expected a function to map, got int"):
        chainrule.vmap(3)


@pytest.mark.parametrize("backend", ["python", "native"])
def test_j06_vmap_raises_the_error_of_the_point_that_raises(backend, request):
    if backend == "native":
        request.getfixturevalue("numba")
    f = chainrule.jit(lambda x: chainrule.math.log(x) * 2.0, backend=backend)
    with pytest.raises(DomainError, match=r"log needs a positive argument, got -1\.0"):
        chainrule.vmap(f)([1.0, 2.0, -1.0, 3.0])


def test_j07_a_number_of_a_native_trace_used_after_it(request):
    request.getfixturevalue("numba")
    kept = []

    def f(x):
        y = x.tanh()
        for _ in range(400):  # past the small functions, whose graph is made of Values
            y = y * 0.999 + 0.001
        kept.append(y)
        return y * x

    chainrule.jit(chainrule.value_and_grad(f), backend="native")(0.5)
    (y,) = kept
    message = r"a number of a jit trace was used after the trace \(fn kept it"
    for use in (lambda: y * 2.0, y.backward, lambda: y.grad):
        with pytest.raises(TypeError, match=message):
            use()
    assert isinstance(y.data, float)


@pytest.mark.parametrize("backend", ["python", "native"])
@pytest.mark.parametrize("steps", [1, 400], ids=["small", "past SMALL_GRAPH"])
def test_j08_a_function_that_calls_backward_inside_is_refused(backend, steps, request):
    """Unjitted, the inner backward() adds to the argument's gradient (value_and_grad gives 4 here);
    a compiled call would not run it again, and gave 2."""
    if backend == "native":
        request.getfixturevalue("numba")

    def walk(x):
        y = x * 2.0 + 1.0
        y.backward()
        for _ in range(steps - 1):
            y = y * 1.0
        return y

    assert chainrule.value_and_grad(walk)(1.3)[1] == 4.0
    message = r"jit: the traced function called backward\(\) on a graph of its arguments"
    for jitted in (chainrule.value_and_grad(walk), walk):
        with pytest.raises(TypeError, match=message):
            chainrule.jit(jitted, backend=backend)(1.3)


# --- Vectors and structures -----------------------------------------------------------------------


def _first(x):
    return x[0]


def test_s01_a_ragged_array_is_refused_and_a_ragged_list_is_a_tree():
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError, match=r"a ragged array, shape \(2,\)\) is not a tree of numbers"):
        grad(_first)(np.array([[1.0, 2.0], [3.0]], dtype=object))
    assert grad(lambda t: t[0][1] * t[1][0])([[1.0, 2.0], [3.0]]) == [[0.0, 3.0], [2.0]]


@pytest.mark.parametrize(
    ("tree", "key"), [({1: 2.0}, "1 \\(int\\)"), ({"a": 1.0, 1.5: 2.0}, "1.5 \\(float\\)")]
)
def test_s02_a_dict_needs_string_keys(tree, key):
    for call in (grad(_first), chainrule.jit(lambda d: d["a"])):
        with pytest.raises(
            TypeError, match=f"a dict of arguments needs string keys \\(names\\), got the key {key}"
        ):
            call(tree)


def test_s03_complex_numbers_are_refused():
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError, match="got complex: 1j"):
        grad(_first)([1j])
    with pytest.raises(
        TypeError, match=r"an array of complex numbers \(complex128\): chainrule differentiates real"
    ):
        grad(_first)(np.array([1j]))


@pytest.mark.parametrize(
    ("array", "message"), [([True], "dtype bool"), (["a"], "dtype <U1"), ([None, 1.0], "NoneType")]
)
def test_s04_an_array_of_other_things_than_real_numbers(array, message):
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError, match=message):
        grad(_first)(np.array(array, dtype=object if None in array else None))


def test_s05_a_tangent_or_vector_of_another_shape():
    np = pytest.importorskip("numpy")
    x, v = np.array([1.0, 2.0]), np.array([1.0])
    with pytest.raises(
        ValueError, match=r"jvp: tangents\[0\] is not shaped as primals\[0\] \(1 numbers against 2"
    ):
        chainrule.jvp(_first, (x,), (v,))
    with pytest.raises(ValueError, match="hvp: the vector's entry 0 has 1 numbers where its argument has 2"):
        chainrule.hvp(_first)(x, v)


@pytest.mark.parametrize("make", [chainrule.jacobian, chainrule.jacfwd])
def test_s06_a_jacobian_needs_values_out(make):
    with pytest.raises(TypeError, match=r"jacobian: f must return Values .*, and its result holds str: 'a'"):
        make(lambda x: [x, "a"])(1.0)
    assert make(lambda x: [x * x, 3.0])(2.0) == [4.0, 0.0]  # a number out is a constant


# --- Checkpoints ----------------------------------------------------------------------------------


def _saved(tmp_path: Path) -> Path:
    path = tmp_path / "m.json"
    chainrule.save(MLP(3, [4, 2], rng=random.Random(0)), path)
    return path


def test_c01_a_missing_file_is_the_os_error_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No such file or directory: .*absent\.json"):
        chainrule.load(tmp_path / "absent.json")
    with pytest.raises(IsADirectoryError):
        chainrule.load(tmp_path)


def test_c02_a_truncated_file(tmp_path):
    path = _saved(tmp_path)
    path.write_bytes(path.read_bytes()[:187])
    with pytest.raises(
        CheckpointError, match=rf"^{re.escape(str(path))}: not valid JSON, truncated or corrupted \("
    ):
        chainrule.load(path)


def test_c03_a_binary_file_is_refused_unread(tmp_path):
    path = tmp_path / "m.json"
    path.write_bytes(b"\x80\x04\x95 a pickle header")
    with pytest.raises(CheckpointError, match=rf"^{re.escape(str(path))}: not a text file"):
        chainrule.load(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"weights": [1, 2]}',
            'not a chainrule checkpoint \\(no "format": "chainrule-checkpoint" at the top\\)',
        ),
        ('{"format": "chainrule-checkpoint", "format": "x"}', "a key appears twice"),
        ('{"format": NaN}', "NaN is not JSON"),
    ],
)
def test_c04_json_that_is_not_a_checkpoint(tmp_path, text, message):
    path = tmp_path / "m.json"
    path.write_text(text)
    with pytest.raises(CheckpointError, match=message):
        chainrule.load(path)


def _rewrite(path: Path, change) -> Path:
    """The file with its content changed and summed again: a whole file, written by some other tool."""
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps({**document, "sha256": ckpt.checksum(document)}))
    return path


def test_c05_another_version(tmp_path):
    path = _rewrite(_saved(tmp_path), lambda d: d.update(version=3))
    with pytest.raises(
        CheckpointError, match=r"m\.json: checkpoint version 3; this chainrule reads versions 1 and 2$"
    ):
        chainrule.load(path)


def test_c06_parameters_that_do_not_fit_the_architecture(tmp_path):
    path = _rewrite(_saved(tmp_path), lambda d: d["architecture"].update(nouts=[4, 3]))
    with pytest.raises(
        CheckpointError, match=re.escape("MLP(3, [4, 3]) has 31 parameters but the file holds 26")
    ):
        chainrule.load(path)
    renamed = lambda d: d.update(parameters={k.replace("w.1", "w.7"): v for k, v in d["parameters"].items()})  # noqa: E731
    with pytest.raises(CheckpointError, match=r"missing \[.*\], unexpected \["):
        chainrule.load(_rewrite(path, lambda d: (d["architecture"].update(nouts=[4, 2]), renamed(d))))


@pytest.mark.parametrize("bad", ["0.5", None, True])
def test_c07_a_parameter_that_is_not_a_number(tmp_path, bad):
    path = _rewrite(_saved(tmp_path), lambda d: d["parameters"].update({"layers.0.neurons.0.b": bad}))
    with pytest.raises(
        CheckpointError,
        match=rf"parameter layers\.0\.neurons\.0\.b must be a number .*got {re.escape(repr(bad))}",
    ):
        chainrule.load(path)


@pytest.mark.parametrize(
    ("model", "info"), [(Neuron(2), None), (MLP(2, [1]), {"when": object()}), (MLP(2, [1]), [("step", 1)])]
)
def test_c08_what_cannot_be_saved_touches_no_file(tmp_path, model, info):
    with pytest.raises(TypeError):
        chainrule.save(model, tmp_path / "m.json", info)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "error"),
    [(lambda s: s.popitem(), ValueError), (lambda s: s.update({"layers.0.neurons.0.b": "1"}), TypeError)],
)
def test_c09_load_state_dict_checks_everything_before_changing_anything(change, error):
    model = MLP(2, [3, 1], rng=random.Random(0))
    before = model.state_dict()
    state = dict.fromkeys(before, 0.25)
    change(state)
    with pytest.raises(error):
        model.load_state_dict(state)
    assert model.state_dict() == before


def test_c10_saving_into_a_missing_directory_names_the_target(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No such file or directory: '.*absent/m\.json'"):
        chainrule.save(MLP(2, [1]), tmp_path / "absent" / "m.json")


def test_c11_a_changed_checkpoint_is_refused_as_damaged(tmp_path, capsys):
    path = _saved(tmp_path)
    text = path.read_text()
    number = re.search(r'"layers\.0\.neurons\.0\.b": (-?\d\.\d)', text)
    assert number
    path.write_text(text.replace(number[0], number[0][:-1] + str(9 - int(number[1][-1]))))  # one digit
    damaged = f"{path}: the file is damaged: its content does not match the SHA-256 saved in it"
    with pytest.raises(CheckpointError, match=f"^{re.escape(damaged)}"):
        chainrule.load(path)
    chainrule.save(MLP(2, [4, 1]), path, {"command": "xor", "step": 5})  # an XOR run's checkpoint
    path.write_text(path.read_text().replace('"step": 5', '"step": 9'))  # an edit by hand
    assert f"argument --load: {damaged}" in _exit_2(capsys, "xor", "--load", str(path))
    document = json.loads(path.read_text())
    del document["sha256"]
    path.write_text(json.dumps(document))
    with pytest.raises(
        CheckpointError, match="damaged: a version 2 checkpoint carries a SHA-256 and this one has none"
    ):
        chainrule.load(path)


# --- The command line -----------------------------------------------------------------------------


def _exit_2(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as raised:
        cli.main(list(argv))
    assert raised.value.code == 2
    printed = capsys.readouterr()
    assert printed.out == ""  # nothing trained, nothing printed
    return printed.err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "-1 is too small: it must be at least 0"),
        ("abc", "'abc' is not a whole number"),
        ("1.5", "'1.5' is not a whole number"),
    ],
)
def test_x01_bad_steps(capsys, value, message):
    assert f"chainrule xor: error: argument --steps: {message}" in _exit_2(capsys, "xor", "--steps", value)


@pytest.mark.parametrize(
    ("value", "message"),
    [("0", "0 must be a positive finite number"), ("-0.1", "-0.1 must be a positive finite number"),
     ("nan", "nan must be a positive finite number"), ("inf", "inf must be a positive finite number"),
     ("abc", "'abc' is not a number")],
)  # fmt: skip
def test_x02_bad_learning_rate(capsys, value, message):
    assert f"argument --lr: {message}" in _exit_2(capsys, "xor", "--lr", value)


@pytest.mark.parametrize("option", ["--hidden", "--every"])
def test_x03_bad_sizes(capsys, option):
    assert f"argument {option}: 0 is too small: it must be at least 1" in _exit_2(capsys, "xor", option, "0")


def test_x04_bad_seed(capsys):
    assert "argument --seed: invalid int value: 'abc'" in _exit_2(capsys, "xor", "--seed", "abc")


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["xor", "--bogus"], "unrecognized arguments: --bogus"), (["bogus"], "invalid choice: 'bogus'"),
     (["explain", "-a*2", "--at", "a=2"], 'put a space before it, " -a*2", or -- before it')],
)  # fmt: skip
def test_x05_unknown_options_and_commands(capsys, argv, message):
    assert message in _exit_2(capsys, *argv)


def test_x05_the_hint_for_a_leading_minus_works_as_written(capsys):
    assert cli.main(["explain", "--at", "a=2", "--", "-a*2"]) == 0
    assert cli.main(["explain", " -a*2", "--at", "a=2"]) == 0
    first, second = capsys.readouterr().out.split("f = ")[1:]
    assert first.split("\n", 1)[1] == second.split("\n", 1)[1]  # the same walk, whichever way it was typed


def test_x06_bad_checkpoint_to_load(tmp_path, capsys):
    assert "argument --load: [Errno 2] No such file" in _exit_2(
        capsys, "xor", "--load", str(tmp_path / "absent.json")
    )
    path = _saved(tmp_path)  # MLP(3, [4, 2]): not an XOR network
    assert "not an XOR network MLP(2, [hidden, 1]) of tanh" in _exit_2(capsys, "xor", "--load", str(path))
    path.write_text("{")
    assert f"argument --load: {path}: not valid JSON" in _exit_2(capsys, "xor", "--load", str(path))
    for step in (-1, 2.5, "3", True):
        chainrule.save(MLP(2, [4, 1], rng=random.Random(0)), path, {"step": step})
        assert f"{path}: its step count must be a whole number >= 0, got {step!r}" in _exit_2(
            capsys, "xor", "--load", str(path)
        )


def test_x07_bad_place_to_save(tmp_path, capsys):
    assert f"argument --save: cannot save to '{tmp_path}': it is a directory" in _exit_2(
        capsys, "xor", "--save", str(tmp_path)
    )
    assert "does not exist" in _exit_2(capsys, "xor", "--save", str(tmp_path / "none" / "m.json"))


def test_x08_a_save_that_fails_while_writing_exits_1_and_keeps_the_old_file(tmp_path, capsys, monkeypatch):
    path = tmp_path / "m.json"
    assert cli.main(["xor", "--steps", "3", "--save", str(path)]) == 0
    before = path.read_bytes()

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ckpt.os, "fsync", disk_full)
    assert cli.main(["xor", "--steps", "5", "--save", str(path)]) == 1
    assert (
        f"chainrule: error: could not save {path}: [Errno 28] No space left on device"
        in capsys.readouterr().err
    )
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]
    assert sys.modules["chainrule.storage.checkpoint"] is ckpt


@pytest.mark.parametrize(
    "command",
    [
        ["xor", "--steps", "1", "--plot"],
        ["moons", "--n", "4", "--steps", "1", "--plot"],
        ["explain", "x", "--at", "x=1", "--svg"],
    ],
)
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("x.txt", "end the file name in .png, .svg, .pdf"),
        ("noext", "end the file name in .png, .svg, .pdf"),
        ("", "it is a directory, not a file name"),
        (".", "it is a directory, not a file name"),
        ("absent/x.png", "the folder 'absent' does not exist"),
    ],
)
def test_x09_bad_place_for_a_picture(tmp_path, capsys, monkeypatch, command, name, message):
    monkeypatch.chdir(tmp_path)
    option = command[-1]
    assert f"argument {option}: cannot draw to '{name}': {message}" in _exit_2(capsys, *command, name)
    assert list(tmp_path.iterdir()) == []


def test_x10_a_picture_the_file_system_refuses_exits_1_after_saving(tmp_path, capsys, monkeypatch):
    from chainrule.demos import plots as plotting

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "x.png")

    monkeypatch.setattr(plotting, "save_loss_plot", refuse)
    model_path = tmp_path / "m.json"
    argv = ["xor", "--steps", "2", "--plot", str(tmp_path / "x.png"), "--save", str(model_path)]
    assert cli.main(argv) == 1
    assert (
        "chainrule: error: could not write the loss curve: [Errno 13] Permission denied"
        in capsys.readouterr().err
    )
    assert chainrule.load(model_path).nin == 2  # the model was saved before the picture failed


@pytest.mark.parametrize(
    "command",
    [
        ["xor", "--steps", "1", "--html"],
        ["moons", "--n", "4", "--steps", "1", "--html"],
        ["explain", "x", "--at", "x=1", "--html"],
    ],
)
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("x.txt", "end the file name in .html, .htm"),
        ("x.png", "end the file name in .html, .htm"),
        ("", "it is a directory, not a file name"),
        (".", "it is a directory, not a file name"),
        ("absent/x.html", "the folder 'absent' does not exist"),
    ],
)
def test_x12_bad_place_for_a_page(tmp_path, capsys, monkeypatch, command, name, message):
    monkeypatch.chdir(tmp_path)
    assert f"argument --html: cannot write to '{name}': {message}" in _exit_2(capsys, *command, name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("command", "option", "verb", "name"),
    [
        (["xor", "--steps", "1"], "--save", "save", "m.json"),
        (["xor", "--steps", "1"], "--plot", "draw", "x.png"),
        (["explain", "x", "--at", "x=1"], "--svg", "draw", "g.svg"),
        (["moons", "--n", "4", "--steps", "1"], "--html", "write", "m.html"),
    ],
)
def test_x13_an_unwritable_folder_is_refused_before_any_work(
    tmp_path, capsys, monkeypatch, command, option, verb, name
):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    target = tmp_path / name
    error = _exit_2(capsys, *command, option, str(target))
    assert (
        f"argument {option}: cannot {verb} to '{target}': the folder '{tmp_path}' cannot be written to"
        in error
    )
    assert "(Permission denied)" in error and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["xor", "moons"])
def test_x14_an_unknown_backend_or_native_without_numba(capsys, monkeypatch, command):
    assert "argument --backend: invalid choice: 'fast'" in _exit_2(capsys, command, "--backend", "fast")
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now fails
    monkeypatch.delitem(sys.modules, "chainrule.compiler.native", raising=False)
    assert cli.main([command, "--steps", "1", "--backend", "native"]) == 1
    printed = capsys.readouterr()
    assert printed.out == "" and 'pip install "chainrule[native]"' in printed.err


def test_x11_output_closed_early_stops_quietly():
    import subprocess

    reader = subprocess.Popen(["head", "-1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    writer = subprocess.run(
        [sys.executable, "-m", "chainrule", "xor", "--every", "1"],
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    reader.stdin.close()
    reference = (Path(__file__).parent / "data" / "reference_xor.txt").read_text()
    assert reader.stdout.read().decode() == reference.splitlines(keepends=True)[0]
    reader.wait()
    assert writer.stderr == ""
    assert writer.returncode == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "-1"], "argument --steps: -1 is too small: it must be at least 0"),
        (["--decay-steps", "0"], "argument --decay-steps: 0 is too small: it must be at least 1"),
        (["--n", "1"], "argument --n: 1 is too small: it must be at least 2"),
        (["--noise", "-0.1"], "argument --noise: -0.1 must be a non-negative finite number"),
        (["--noise", "nan"], "argument --noise: nan must be a non-negative finite number"),
    ],
)
def test_m01_bad_moons_options(capsys, argv, message):
    assert message in _exit_2(capsys, "moons", *argv)


def test_m02_a_checkpoint_moons_cannot_continue(tmp_path, capsys):
    other = _saved(tmp_path)
    assert "not the moons network MLP(2, [16, 16, 1])" in _exit_2(capsys, "moons", "--load", str(other))
    assert cli.main(["xor", "--steps", "1", "--save", str(other)]) == 0
    capsys.readouterr()
    assert "not the moons network" in _exit_2(capsys, "moons", "--load", str(other))
    from chainrule.demos import moons

    model, _ = moons.build(moons.MoonsConfig(n=4, steps=1))
    bare = tmp_path / "bare.json"
    chainrule.save(model, bare, {"step": 3})
    err = _exit_2(capsys, "moons", "--load", str(bare))
    assert "was not saved by `chainrule moons --save`" in err and "seed, n, noise, decay_steps" in err
    run = {"command": "moons", "seed": 1, "n": 4, "noise": 0.1, "decay_steps": 1}
    chainrule.save(model, bare, {**run, "step": 3, "noise": "loud"})
    assert f"{bare}: its run settings are not valid" in _exit_2(capsys, "moons", "--load", str(bare))
    chainrule.save(model, bare, {**run, "step": -3})
    assert f"{bare}: its step count must be a whole number" in _exit_2(capsys, "moons", "--load", str(bare))


@pytest.mark.parametrize("command", ["grad", "explain"])
@pytest.mark.parametrize("text", ["x.real", "__import__('os')", "lambda: 0", "'a'", "x[0]", "f(x)"])
def test_e01_expressions_outside_the_grammar(tmp_path, monkeypatch, capsys, command, text):
    monkeypatch.chdir(tmp_path)
    err = _exit_2(capsys, command, text, "--at", "x=1")
    assert "not allowed" in err or "may be called" in err
    assert "^" in err  # a caret under the offending part
    assert list(tmp_path.iterdir()) == []


def test_e01_a_caret_for_a_power_is_told_to_write_two_stars(capsys):
    err = _exit_2(capsys, "grad", "a^2", "--at", "a=2")
    assert "the operator ^ is not allowed (a power is written **, as in x**2)" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["grad"], "the expression is missing"),
        (["grad", "--at", "x=1", "x*2"], "the expression is missing; put it before --at"),
    ],
)
def test_e02_missing_expression(capsys, argv, message):
    assert message in _exit_2(capsys, *argv)


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (["x=1"], "no value for y: give every name in the expression a value, e.g. --at y=1.0"),
        (["x=1", "y=2", "z=3"], "z given a value but not in the expression"),
        (["x", "y=2"], "'x' is not name=value"),
        (["x=abc", "y=2"], "'x=abc': 'abc' is not a number"),
        (["x=1", "x=2", "y=2"], "x is given twice"),
    ],
)
def test_e03_bad_values_for_names(capsys, at, message):
    assert message in _exit_2(capsys, "grad", "x*y", "--at", *at)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("log(x)", "out of domain at x = 0: log needs a positive argument, got 0.0"),
        ("1/x", "out of domain at x = 0"),
    ],
)
def test_e04_values_outside_an_ops_domain(capsys, text, message):
    err = _exit_2(capsys, "grad", text, "--at", "x=0")
    assert message in err and "^" in err


def _chainrule(*argv: str | bytes, folder: Path | None = None) -> subprocess.CompletedProcess:
    """The command run as a terminal runs it: argv as bytes, and a stdout that is strict about its UTF-8."""
    environment = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(TABLE.parent.parent)}
    command = [sys.executable, "-m", "chainrule", *argv]
    return subprocess.run(command, capture_output=True, env=environment, cwd=folder, timeout=120)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["grad", b"\xff"],
            r"the expression '\xff' holds bytes that are not UTF-8 text: type it again, in UTF-8",
        ),
        (
            ["grad", b"x+\xed\xa0\x80", "--at", "x=1"],
            r"the expression 'x+\xed\xa0\x80' holds bytes that are not",
        ),
        (["explain", b"\xff"], r"the expression '\xff' holds bytes"),
        (["explain", b"x+\xed\xa0\x80", "--at", "x=1"], r"the expression 'x+\xed\xa0\x80' holds bytes"),
        (["grad", "x", "--at", b"x=\xff"], r"--at 'x=\xff' holds bytes that are not UTF-8 text"),
        (["grad", "x", "--at", b"\xff=1"], r"--at '\xff=1' holds bytes"),
        (
            ["explain", "x", "--at", "x=1", "--forward", b"\xff"],
            r"argument --forward: the name '\xff' holds bytes",
        ),
    ],
)
def test_e05_bytes_that_are_not_utf8(capsys, argv, message):
    result = _chainrule(*argv)
    assert result.returncode == 2 and result.stdout == b""
    assert message.encode() in result.stderr and b"Traceback" not in result.stderr
    # main() given the text Python made of those bytes (each undecodable byte a lone surrogate)
    assert message in _exit_2(capsys, *(os.fsdecode(arg) for arg in argv))
    assert "the expression '\\ud800' holds bytes" in _exit_2(capsys, "grad", "\ud800")  # a str from a caller


def _partials(printed: str) -> list[str]:
    return printed.splitlines()[1:]  # below the heading, which shows the expression as typed


def test_e06_a_name_is_read_the_same_way_in_the_expression_and_in_at(capsys):
    assert cli.main(["grad", "x**2 * y", "--at", "x=2", "y=0.5"]) == 0
    plain = _partials(capsys.readouterr().out)
    for argv in (["ｘ**2 * y", "--at", "ｘ=2", "y=0.5"], ["x**2 * y", "--at", "ｘ=2", "ｙ=0.5"]):
        assert cli.main(["grad", *argv]) == 0
        assert _partials(capsys.readouterr().out) == plain
    assert cli.main(["explain", "ｘ*y", "--at", "x=2", "y=3", "--forward", "ｘ"]) == 0
    assert "∂f/∂x = ḟ = 3" in capsys.readouterr().out
    assert "x is given twice" in _exit_2(capsys, "grad", "x", "--at", "ｘ=1", "x=2")


def test_x15_a_file_name_that_is_not_utf8_is_taken_as_given(tmp_path):
    result = _chainrule("xor", "--steps", "0", "--html", b"\xff.html", folder=tmp_path)
    assert result.returncode == 0 and b"Traceback" not in result.stderr
    assert result.stdout.endswith(b"training page saved to \\udcff.html\n")  # the strict stdout escapes it
    assert os.listdir(os.fsencode(tmp_path)) == [b"\xff.html"]


# --- Numbers from the ecosystem, sin and cos, forward mode ------------------------------------------


def _survey(x1, x2):
    return x1.log() + x1 * x2 - x2.sin()


def test_r01_decimal_is_refused_everywhere_naming_its_type():
    from decimal import Decimal

    message = r"takes a real number \(int, float, numpy scalar, Fraction\), got Decimal: Decimal\('1.5'\)"
    for call in (
        lambda: Value(Decimal("1.5")),
        lambda: grad(lambda x: x * 2)(Decimal("1.5")),
        lambda: chainrule.jvp(lambda x: x * 2, (Decimal("1.5"),), (1.0,)),
    ):
        with pytest.raises(TypeError, match=message):
            call()
    with pytest.raises(TypeError, match="got Decimal: Decimal"):
        chainrule.jit(lambda x: x * 2)(Decimal("1.5"))
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError, match="got bool"):
        Value(np.bool_(True))


def test_r02_a_number_too_large_for_a_float_is_named():
    with pytest.raises(
        OverflowError, match=r"the exponent of \*\* got int ≈ 10\^400: too large for a 64-bit"
    ):
        Value(3.0) ** (10**400)
    with pytest.raises(OverflowError, match=r"Value got int ≈ -10\^5000: too large"):
        Value(-(10**5000))  # more digits than Python will print: named by its size
    from fractions import Fraction

    with pytest.raises(OverflowError, match=r"Value got Fraction ≈ 10\^400"):
        Value(Fraction(10**400, 3))
    assert (Value(3.0) ** 1e308).data == INF  # a float exponent overflows as V06 says


def test_r03_sin_and_cos_of_infinity_are_nan():
    for op in (lambda v: v.sin(), lambda v: v.cos()):
        for x in (INF, -INF):
            leaf = Value(x)
            out = op(leaf)
            out.backward()
            assert math.isnan(out.data) and math.isnan(leaf.grad)


def test_f01_primals_and_tangents_must_be_a_tuple_or_list():
    with pytest.raises(TypeError, match=r"jvp: primals must be a tuple or list .*got float: 2.0 \(for one"):
        chainrule.jvp(lambda x: x, 2.0, 1.0)
    with pytest.raises(TypeError, match="jvp: tangents must be a tuple or list"):
        chainrule.jvp(lambda x: x, (2.0,), 1.0)


def test_f02_one_tangent_per_primal():
    with pytest.raises(ValueError, match="jvp: 2 primals but 1 tangents: give one tangent per primal"):
        chainrule.jvp(_survey, (2.0, 5.0), (1.0,))


def test_f03_primals_and_tangents_must_be_real_numbers():
    with pytest.raises(TypeError, match=r"jvp: primals\[0\] takes a real number .*got str: '2'"):
        chainrule.jvp(lambda x: x, ("2",), (1.0,))
    with pytest.raises(TypeError, match=r"jvp: tangents\[1\] takes a real number .*got NoneType"):
        chainrule.jvp(_survey, (2.0, 5.0), (1.0, None))
    with pytest.raises(TypeError, match=r"jvp: primals\[0\] is a Value: jvp takes plain numbers"):
        chainrule.jvp(lambda x: x, (Value(2.0),), (1.0,))


def test_f04_f_must_return_one_scalar():
    def f(x):
        return [x]

    with pytest.raises(TypeError, match="jvp: f must return one Value"):
        chainrule.jvp(f, (1.0,), (1.0,))
    assert chainrule.jvp(lambda x: 3, (1.0,), (1.0,)) == (3.0, 0.0)


def test_f05_forward_along_a_name_without_a_value(capsys):
    err = _exit_2(capsys, "explain", "x*y", "--at", "x=1", "y=2", "--forward", "z")
    assert "argument --forward: z is not one of the names given a value in --at (x, y)" in err


def test_f06_forward_mode_has_no_walkthrough_page(tmp_path, capsys):
    page = tmp_path / "walk.html"
    err = _exit_2(capsys, "explain", "x*y", "--at", "x=1", "y=2", "--forward", "x", "--html", str(page))
    assert (
        "argument --html: the walkthrough page shows the backward walk, and there is no forward-mode" in err
    )
    assert not page.exists()


# --- the math library and ops of your own ------------------------------------------------------------


def test_t01_a_functions_domain_error_names_it_and_the_number():
    import chainrule.math as cm

    cases = [
        (cm.sqrt, (-1.0,), r"sqrt of -1\.0: the square root of a negative number is not real"),
        (cm.acosh, (0.5,), r"acosh needs x >= 1, got 0\.5"),
        (cm.lgamma, (-2.0,), r"lgamma has a pole at -2\.0"),
        (cm.fmod, (1.0, 0.0), r"fmod\(1\.0, 0\.0\) has no value"),
        (cm.log1p, (-1.0,), r"log1p needs an argument > -1, got -1\.0"),
    ]
    for function, args, message in cases:
        with pytest.raises(ValueError, match=message):
            function(*args)
        with pytest.raises(ValueError, match=message):
            function(*(Value(x) for x in args))
        for backend in ("python", "native"):
            if backend == "native" and not _has_numba():
                continue
            compiled = chainrule.jit(lambda *xs, f=function: f(*(x * 1.0 for x in xs)), backend=backend)
            compiled(*(x + 3.0 for x in args))  # traced inside the domain
            with pytest.raises(ValueError, match=message):
                compiled(*args)


def _has_numba():
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def test_t02_math_given_a_value_says_to_use_chainrule_math():
    for call in (lambda: math.sin(Value(1.0)), lambda: float(Value(1.0))):
        with pytest.raises(TypeError, match=r"use chainrule\.math's functions .* or v\.data"):
            call()


def test_t03_a_library_function_given_a_non_number():
    import chainrule.math as cm

    with pytest.raises(TypeError, match=r"chainrule\.math\.sqrt takes a real number .*got str: '4'"):
        cm.sqrt("4")


def test_t04_a_primitive_needs_one_partial_per_argument():
    def softplus(x):
        return x

    with pytest.raises(TypeError, match="softplus takes 1 arguments, so it needs 1 partials"):
        chainrule.primitive()(softplus)
    with pytest.raises(TypeError, match="partial 1 of softplus must take the 1 arguments and the output"):
        chainrule.primitive(lambda x: 1.0)(softplus)
    with pytest.raises(TypeError, match="plain positional arguments"):
        chainrule.primitive(lambda x, out: 1.0)(lambda *xs: 0.0)


def test_t05_second_derivatives_need_partials_written_with_chainrule():
    @chainrule.primitive(lambda x, out: math.cos(x))
    def my_sin(x):
        return math.sin(x)

    assert chainrule.grad(my_sin)(0.3) == math.cos(0.3)
    with pytest.raises(TypeError, match=r"the partial 1 of the op 'my_sin' cannot be run on Values"):
        chainrule.hessian(my_sin)(0.3)


def test_t06_a_primitive_must_return_a_number():
    @chainrule.primitive(lambda x, out: 1.0)
    def bad(x):
        return "x"

    with pytest.raises(TypeError, match=r"'bad' \(a chainrule.primitive\) returned takes a real number"):
        bad(Value(1.0))


def test_t07_a_function_given_the_wrong_number_of_arguments(capsys):
    err = _exit_2(capsys, "grad", "atan2(x)", "--at", "x=1")
    assert "atan2 takes exactly two arguments, got 1" in err and "^" in err


# --- Control flow: comparisons, where, jit's guards -----------------------------------------------


@pytest.mark.parametrize("compare", [lambda x: x < "a", lambda x: x <= None, lambda x: x > [1.0]])
def test_b01_a_comparison_with_what_is_not_a_number_is_refused(compare):
    with pytest.raises(TypeError, match=r"a comparison \(.+\) of a Value takes a real number .*got"):
        compare(Value(1.0))


@pytest.mark.parametrize("compare", [lambda v: v == 2.0, lambda v: v != 2.0, lambda v: v == 0])
def test_b02_a_value_and_a_number_compared_with_eq_are_refused(compare):
    with pytest.raises(TypeError, match=r"== is identity for Values\): write chainrule.equal\(v, x\)"):
        compare(Value(2.0))
    v, w = Value(2.0), Value(2.0)
    assert v == v and v != w and bool(chainrule.equal(v, w))  # identity between Values; equal() by number


@pytest.mark.parametrize("condition", ["yes", None, [True]])
def test_b03_a_condition_of_where_that_is_no_comparison_is_refused(condition):
    with pytest.raises(TypeError, match=r"where: the condition must be a comparison \(x > 0\), a Value or"):
        chainrule.where(condition, Value(1.0), 2.0)


@pytest.mark.parametrize(
    ("op", "symbol"),
    [(lambda x: x % 0, "%"), (lambda x: x // Value(0.0), "//"), (lambda x: divmod(x, 0)[1], "//")],
)
def test_b04_mod_and_floordiv_by_zero_raise_as_pythons_do(op, symbol):
    with pytest.raises(ZeroDivisionError, match=re.escape(f"division by zero in {symbol}: 7.5 {symbol} 0.0")):
        op(Value(7.5))


@pytest.mark.parametrize("digits", [1.5, "2", True])
def test_b05_round_with_digits_that_are_not_an_int_is_refused(digits):
    with pytest.raises(TypeError, match="round\\(Value, digits\\): digits must be an int"):
        round(Value(2.25), digits)


def test_b06_a_side_not_taken_that_has_no_value_raises_its_own_error():
    def f(x):
        return chainrule.where(x > 0, chainrule.math.sqrt(x), 0.0)

    with pytest.raises(ValueError, match=r"sqrt of -1\.0"):
        f(Value(-1.0))
    with pytest.raises(ValueError, match=r"sqrt of -1\.0"):
        chainrule.jit(f)(-1.0)
    safe = chainrule.jit(grad(lambda x: chainrule.where(x > 0, chainrule.math.sqrt(abs(x)), 0.0)))
    assert (safe(-1.0), safe(4.0)) == (0.0, 0.25)


def test_b07_a_branch_on_data_under_jit_is_announced_naming_the_line():
    def f(x):
        return x if x.data > 0 else -x

    line = f.__code__.co_firstlineno + 1
    with pytest.warns(chainrule.compiler.JitTraceWarning, match=rf"test_bad_input.py:{line} \(decides"):
        chainrule.jit(f)(1.0)


def test_b08_a_path_that_changes_at_every_call_falls_back_once_warned():
    def steps(x):
        n = Value(0.0)
        while x > 1.0:
            x, n = x / 2, n + 1
        return n

    compiled = chainrule.jit(steps)
    with pytest.warns(chainrule.compiler.JitFallbackWarning, match=r"steps has taken 8 paths") as caught:
        counts = [compiled(2.0**k) for k in range(1, 14)]
    assert len(caught) == 1 and counts == [steps(Value(2.0**k)).data for k in range(1, 14)]


@pytest.mark.parametrize("limit", [0, 2.5, True])
def test_b09_max_paths_must_be_a_whole_number_of_at_least_one(limit):
    with pytest.raises(
        ValueError, match=f"jit: max_paths must be a whole number >= 1, got {re.escape(repr(limit))}"
    ):
        chainrule.jit(lambda x: x, max_paths=limit)


# --- The playground ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bridge():
    """playground/bridge.py as the page's worker imports it (beside train.py), here in CPython."""
    folder = str(TABLE.parent.parent / "playground")
    sys.path.insert(0, folder)
    try:
        import bridge as module
    finally:
        sys.path.remove(folder)
    return module


def _never(dot: str) -> str:
    raise AssertionError("a refused input must not reach the layout")


def _refusal(answer: str) -> str:
    result = json.loads(answer)
    assert result["ok"] is False and "Traceback" not in result["error"]
    return result["error"]


@pytest.mark.parametrize(("text", "at"), [("tanh(w*x +", "w=1 x=2"), ("w // x", "w=1 x=2"), ("w * x", "w=1")])
def test_p01_an_expression_the_cli_refuses(bridge, capsys, text, at):
    err = _exit_2(capsys, "explain", text, "--at", *at.split())
    assert (
        _refusal(bridge.explain_expression(text, at, _never))
        == err[err.index("chainrule explain:") :].strip()
    )


def test_p02_python_that_does_not_parse(bridge):
    assert _refusal(bridge.explain_code("x = Value(2.0\ny = 1", _never)).splitlines() == [
        "line 1: SyntaxError: '(' was never closed",
        "  x = Value(2.0",
        "           ^",
    ]


@pytest.mark.parametrize(
    ("code", "lines"),
    [
        (
            'x = Value(-2.0, label="x")\ny = 3 * x\nz = (y + 1).log()\nz',
            [
                "line 3: DomainError: log needs a positive argument, got -5.0",
                "  z = (y + 1).log()",
                "      ^^^^^^^^^^^^^",
            ],
        ),
        (
            "def f(v):\n    return v.log()\nf(Value(-1.0))",
            [
                "line 2: DomainError: log needs a positive argument, got -1.0",
                "      return v.log()",
                "             ^^^^^^^",
            ],
        ),
        ("y = x + 1\ny", ["line 1: NameError: name 'x' is not defined", "  y = x + 1", "      ^"]),
        ("import sys\nsys.exit(3)\nValue(1.0)", ["line 2: SystemExit: 3", "  sys.exit(3)", "  ^^^^^^^^^^^"]),
    ],
)
def test_p03_python_that_raises(bridge, code, lines):
    assert _refusal(bridge.explain_code(code, _never)).splitlines() == lines


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("x = Value(1.0)", "the last line must be the Value to walk"),
        ("x = 1\nx", "the last line gives an int, not a Value: end with the one Value to walk"),
        ("[Value(1.0)]", "the last line gives a list, not a Value"),
    ],
)
def test_p04_python_that_does_not_end_with_a_value(bridge, code, message):
    assert _refusal(bridge.explain_code(code, _never)).startswith(message)


def test_p05_a_graph_too_large_to_walk(bridge):
    code = "x = Value(0.5)\ny = x\nfor _ in range(200):\n    y = (y * x).tanh()\ny"
    size = 1 + 2 * 200  # x, then a product and a tanh per turn
    assert _refusal(bridge.explain_code(code, _never)) == (
        f"the graph has {size} nodes; the playground walks at most {bridge.MAX_NODES}: try a smaller one"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"problem": "spiral"}, "problem must be xor or moons, got 'spiral'"),
        ({"hidden": ""}, "hidden layers: give one to three sizes, like 16, 16; got ''"),
        ({"hidden": "4, 4, 4, 4"}, "hidden layers: give one to three sizes"),
        ({"hidden": "0"}, "a hidden layer's size must be from 1 to 32, got 0"),
        ({"hidden": "4.5"}, "a hidden layer's size: '4.5' is not a whole number (from 1 to 32)"),
        ({"lr": "fast"}, "learning rate: 'fast' is not a number"),
        ({"lr": "0"}, "learning rate must be above 0 and at most 10, got 0"),
        ({"lr": "nan"}, "learning rate must be above 0 and at most 10, got nan"),
        ({"steps": "0"}, "steps must be from 1 to 5000, got 0"),
        ({"seed": "-1"}, "seed must be from 0 to 2147483647, got -1"),
    ],
)
def test_p06_training_settings_it_cannot_use(bridge, change, message):
    form = {"problem": "xor", "hidden": "4", "lr": "0.1", "steps": "10", "seed": "1337", "compiled": True}
    trainer = bridge.Trainer(json.dumps({**form, **change}))
    assert trainer.error == message or trainer.error.startswith(message)
    assert _refusal(trainer.start()) == trainer.error
