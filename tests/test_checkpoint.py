"""Checkpoints: bit-exact round trips, atomic saves, and clear errors for every kind of bad file."""

from __future__ import annotations

import errno
import json
import math
import os
import pickle
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule
from chainrule import MLP, CheckpointError, Neuron, Value
from chainrule.storage import checkpoint as ckpt


def _model(seed: int = 0, **kwargs) -> MLP:
    return MLP(3, [4, 2], rng=random.Random(seed), **kwargs)


def _bits(state: dict[str, float]) -> dict[str, bytes]:
    return {name: struct.pack("<d", number) for name, number in state.items()}


# --- state_dict -------------------------------------------------------------------------------


def test_named_parameters_are_the_parameters_in_order():
    model = _model()
    named = model.named_parameters()
    assert len(named) == len(model.parameters())
    assert all(a is b for (_, a), b in zip(named, model.parameters()))
    assert len({name for name, _ in named}) == len(named)
    assert named[0][0] == "layers.0.neurons.0.w.0" and named[-1][0] == "layers.1.neurons.1.b"


def test_state_dict_round_trips_into_another_model():
    source, target = _model(1), _model(2)
    target.load_state_dict(source.state_dict())
    assert target.state_dict() == source.state_dict()
    point = [0.1, -0.2, 0.3]
    assert [o.data for o in target(point)] == [o.data for o in source(point)]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda s: s.pop("layers.1.neurons.1.b"), ValueError),  # missing
        (lambda s: s.update({"layers.2.neurons.0.b": 0.0}), ValueError),  # unexpected
        (lambda s: s.update({"layers.1.neurons.1.b": "0.5"}), TypeError),  # not a number
        (lambda s: s.update({"layers.1.neurons.1.b": True}), TypeError),
    ],
)
def test_a_bad_state_changes_nothing(change, error):
    model = _model()
    before = model.state_dict()
    state = {name: 9.0 for name in before}
    change(state)
    with pytest.raises(error, match=r"layers\.") as raised:
        model.load_state_dict(state)
    assert model.state_dict() == before
    assert "layers.1.neurons.1.b" in str(raised.value) or "layers.2" in str(raised.value)


# --- save and load -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nin", "nouts", "activation", "output_activation"),
    [(2, [4, 1], "tanh", None), (2, [16, 16, 1], "relu", "linear"), (1, [1], "linear", None)],
)
def test_round_trip_rebuilds_the_architecture(tmp_path, nin, nouts, activation, output_activation):
    model = MLP(nin, nouts, activation, output_activation, rng=random.Random(3))
    chainrule.save(model, tmp_path / "m.json")
    loaded = chainrule.load(tmp_path / "m.json")
    assert (loaded.nin, loaded.nouts, loaded.activation, loaded.output_activation) == (
        model.nin, model.nouts, model.activation, model.output_activation,
    )  # fmt: skip
    assert repr(loaded) == repr(model)
    assert _bits(loaded.state_dict()) == _bits(model.state_dict())


@given(st.lists(st.floats(allow_nan=False), min_size=17, max_size=17))
def test_every_float_round_trips_bit_exactly(tmp_path_factory, numbers):
    path = tmp_path_factory.mktemp("bits") / "m.json"
    model = MLP(2, [4, 1], rng=random.Random(0))
    for p, number in zip(model.parameters(), numbers):
        p.data = number
    chainrule.save(model, path)
    assert _bits(chainrule.load(path).state_dict()) == _bits(model.state_dict())


def test_nan_survives_as_nan_and_the_file_is_strict_json(tmp_path):
    model = _model()
    model.parameters()[0].data = math.nan
    chainrule.save(model, tmp_path / "m.json")
    json.loads((tmp_path / "m.json").read_text(), parse_constant=pytest.fail)  # no bare NaN/Infinity
    assert math.isnan(chainrule.load(tmp_path / "m.json").parameters()[0].data)


def test_info_is_saved_and_read_back(tmp_path):
    chainrule.save(_model(), tmp_path / "m.json", {"step": 7, "note": ["any", "json"]})
    assert ckpt.read(tmp_path / "m.json").info == {"step": 7, "note": ["any", "json"]}


def test_loading_leaves_the_global_random_state_alone(tmp_path):
    chainrule.save(_model(), tmp_path / "m.json")
    random.seed(5)
    expected = random.random()
    random.seed(5)
    chainrule.load(tmp_path / "m.json")
    assert random.random() == expected


def test_saving_replaces_the_previous_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "m.json"
    chainrule.save(_model(1), path)
    chainrule.save(_model(2), path)
    assert chainrule.load(path).state_dict() == _model(2).state_dict()
    assert os.listdir(tmp_path) == ["m.json"]


@pytest.mark.parametrize(
    ("model", "info", "error"),
    [
        (Neuron(2), None, TypeError),
        (MLP(2, [1]), {"x": object()}, TypeError),
        (MLP(2, [1]), {"x": math.inf}, TypeError),
    ],
)
def test_what_cannot_be_saved_is_refused_before_any_file_is_written(tmp_path, model, info, error):
    with pytest.raises(error):
        chainrule.save(model, tmp_path / "m.json", info)
    assert os.listdir(tmp_path) == []


# --- atomic save -------------------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_save_failing_before_the_rename_leaves_the_old_file_intact(tmp_path, monkeypatch, failing):
    path = tmp_path / "m.json"
    chainrule.save(_model(1), path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(f"simulated failure in os.{failing}")

    monkeypatch.setattr(ckpt.os, failing, fail)
    with pytest.raises(OSError, match="simulated"):
        chainrule.save(_model(2), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.json"]  # the temporary file is cleaned up


WRITE_CUT_SHORT = """
import random, resource, signal, sys
import chainrule
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write then fails with EFBIG instead of killing us
model = chainrule.MLP(2, [64, 64, 1], rng=random.Random(2))
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))  # no file may pass 4 KiB
try:
    chainrule.save(model, sys.argv[1])
except OSError as error:
    print(error.errno)
"""


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="needs Linux RLIMIT_FSIZE")
def test_a_write_that_fails_midway_leaves_the_old_file_intact(tmp_path):
    path = tmp_path / "m.json"
    chainrule.save(_model(1), path)
    before = path.read_bytes()
    result = subprocess.run(
        [sys.executable, "-c", WRITE_CUT_SHORT, str(path)], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == str(errno.EFBIG)  # the kernel stopped the write past 4 KiB
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.json"]


# --- bad files -------------------------------------------------------------------------------


def _saved(tmp_path: Path) -> Path:
    path = tmp_path / "m.json"
    chainrule.save(_model(), path, {"step": 3})
    return path


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_a_truncated_file_is_named_and_refused(tmp_path, fraction):
    path = _saved(tmp_path)
    text = path.read_bytes()
    path.write_bytes(text[: int(len(text) * fraction)])
    with pytest.raises(CheckpointError, match=rf"{path.name}: not valid JSON, truncated or corrupted"):
        chainrule.load(path)


def _edited(tmp_path: Path, edit) -> Path:
    """The file with its content edited and summed again: a whole file, but not one chainrule can load."""
    path = _saved(tmp_path)
    document = edit(json.loads(path.read_text()))
    if isinstance(document, dict):
        document = {**document, "sha256": ckpt.checksum(document)}
    path.write_text(json.dumps(document))
    return path


def _set(document: dict, keys: tuple, value) -> dict:
    target = document
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    return document


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: [], "not a chainrule checkpoint"),
        (lambda d: {"format": "other"}, "not a chainrule checkpoint"),
        (lambda d: _set(d, ("version",), 3), "version 3; this chainrule reads versions 1 and 2"),
        (lambda d: _set(d, ("model",), "Transformer"), "'Transformer' is not one this chainrule can build"),
        (lambda d: _set(d, ("architecture", "nouts"), [4, 3]), "MLP\\(3, \\[4, 3\\]\\) has 31 parameters"),
        (lambda d: _set(d, ("architecture", "nouts"), [4, "2"]), "positive whole numbers"),
        (lambda d: _set(d, ("architecture", "nin"), 0), "positive whole numbers"),
        (lambda d: _set(d, ("architecture", "activation"), "gelu"), "unknown activation 'gelu'"),
        (lambda d: _set(d, ("architecture",), {"nin": 3}), "must give exactly"),
        (
            lambda d: _set(d, ("parameters", "layers.0.neurons.0.b"), "0.5"),
            "layers.0.neurons.0.b must be a number",
        ),
        (
            lambda d: _set(d, ("parameters", "layers.0.neurons.0.b"), None),
            "layers.0.neurons.0.b must be a number",
        ),
        (lambda d: _set(d, ("parameters", "layers.0.neurons.0.b"), 10**400), "too large for a float"),
        (lambda d: _set(d, ("info",), []), "must be JSON objects"),
        (
            lambda d: {**d, "parameters": {k.replace("w.0", "w.9"): v for k, v in d["parameters"].items()}},
            "missing \\['layers.0.neurons.0.w.0'",
        ),
    ],
)
def test_a_wrong_format_or_architecture_is_named_and_refused(tmp_path, edit, message):
    path = _edited(tmp_path, edit)
    with pytest.raises(CheckpointError, match=message) as raised:
        chainrule.load(path)
    assert str(raised.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'{"format": 1, "format": 2}', "a key appears twice"),
        (b'{"format": NaN}', "NaN is not JSON"),
        (b"\xff\xfe\x00garbage", "not a text file"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_a_corrupted_file_is_named_and_refused(tmp_path, text, message):
    path = tmp_path / "m.json"
    path.write_bytes(text)
    with pytest.raises(CheckpointError, match=message):
        chainrule.load(path)


class _Trap:
    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_is_refused_without_running_it(tmp_path):
    trap = _Trap()
    trap.marker = tmp_path / "ran"
    path = tmp_path / "m.json"
    path.write_bytes(pickle.dumps(trap))
    with pytest.raises(CheckpointError):
        chainrule.load(path)
    assert not trap.marker.exists()


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.json"):
        chainrule.load(tmp_path / "nothing.json")


def test_loading_into_an_existing_model_with_another_architecture_changes_nothing():
    small, large = MLP(2, [4, 1], rng=random.Random(0)), MLP(2, [8, 1], rng=random.Random(1))
    before = large.state_dict()
    with pytest.raises(ValueError, match=r"missing .* unexpected"):
        large.load_state_dict(small.state_dict())
    assert large.state_dict() == before


def test_a_module_whose_parameters_cannot_be_named_says_so():
    class Pair(chainrule.Module):
        def __init__(self) -> None:
            self.weights = {"a": Value(1.0), "b": Value(2.0)}  # a dict: not walked

        def parameters(self) -> list[Value]:
            return list(self.weights.values())

    with pytest.raises(TypeError, match="cannot name the parameters of Pair"):
        Pair().state_dict()
