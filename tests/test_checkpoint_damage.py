"""Damaged and interrupted checkpoints: a flipped bit never loads as another model, an old file without a
checksum still loads, and the temporary file of a killed save is removed by the next save, and only it."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import random
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import chainrule
from chainrule import MLP, CheckpointError
from chainrule.storage import checkpoint as ckpt

ROOT = Path(__file__).resolve().parent.parent
VERSION_1 = (
    Path(__file__).parent / "data" / "checkpoint_version_1.json"
)  # saved by chainrule before checksums


def _bits(model: MLP) -> dict[str, bytes]:
    return {name: struct.pack("<d", number) for name, number in model.state_dict().items()}


def _temporaries(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".chainrule-tmp"))


def test_every_single_bit_flip_is_refused_or_loads_identical(tmp_path):
    path = tmp_path / "m.json"
    model = MLP(2, [1], rng=random.Random(3))
    chainrule.save(model, path, {"step": 7})
    original, expected = path.read_bytes(), _bits(model)
    outcomes = {"refused as damaged": 0, "refused otherwise": 0, "loaded identical": 0, "loaded different": 0}
    with open(path, "r+b", buffering=0) as file:  # each byte changed in place, and put back
        for bit in range(len(original) * 8):
            at = bit // 8
            os.pwrite(file.fileno(), bytes([original[at] ^ (1 << bit % 8)]), at)
            try:
                saved = ckpt.read(path)
            except CheckpointError as error:
                assert str(error).startswith(f"{path}: ")
                damaged = "the file is damaged" in str(error)
                outcomes["refused as damaged" if damaged else "refused otherwise"] += 1
            else:
                same = _bits(saved.model) == expected and saved.info == {"step": 7}
                outcomes["loaded identical" if same else "loaded different"] += 1
            os.pwrite(file.fileno(), original[at : at + 1], at)
    assert path.read_bytes() == original
    assert outcomes["loaded different"] == 0
    assert outcomes["refused as damaged"] > 0 and sum(outcomes.values()) == len(original) * 8


def test_the_checksum_is_the_sha256_of_the_canonical_content(tmp_path):
    path = tmp_path / "m.json"
    chainrule.save(MLP(2, [3, 1]), path, {"note": "ünïcode", "steps": [1, 2.5]})
    document = json.loads(path.read_text())
    saved = document.pop("sha256")
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert saved == hashlib.sha256(canonical.encode()).hexdigest()
    assert document["version"] == 2


def _text_edited(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: {**d, "info": {"step": 4}}, "does not match the SHA-256 saved in it"),  # a whole new file
        (lambda d: {**d, "sha256": d["sha256"].upper()}, "does not match the SHA-256 saved in it"),
        (lambda d: {**d, "sha256": 5}, "does not match the SHA-256 saved in it"),
        (lambda d: {k: v for k, v in d.items() if k != "sha256"}, "a version 2 checkpoint carries a SHA-256"),
    ],
)
def test_a_file_that_does_not_match_its_checksum_is_refused_as_damaged(tmp_path, edit, message):
    path = tmp_path / "m.json"
    chainrule.save(MLP(2, [3, 1]), path, {"step": 3})
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    with pytest.raises(CheckpointError, match=f"^{path}: the file is damaged: .*{message}"):
        chainrule.load(path)


def test_a_version_1_file_without_a_checksum_still_loads():
    saved = ckpt.read(VERSION_1)
    assert "sha256" not in json.loads(VERSION_1.read_text())
    assert _bits(saved.model) == _bits(MLP(3, [4, 2], rng=random.Random(0))) and saved.info == {"step": 3}


def test_a_save_removes_what_interrupted_saves_left_and_nothing_else(tmp_path):
    left = [".m.json.0123456789ab.chainrule-tmp", ".other.json.fedcba987654.chainrule-tmp"]
    running = ".n.json.00000000ffff.chainrule-tmp"  # a save in progress: it holds its lock
    theirs = [
        ".m.json.0123456789ab.tmp",
        "notes.chainrule-tmp",
        ".m.json.0123456789AB.chainrule-tmp",
        ".m.json.0123.chainrule-tmp",
        "m.json.0123456789ab.chainrule-tmp",
    ]
    for name in [*left, running, *theirs]:
        (tmp_path / name).write_text("partial")
    (tmp_path / "victim").write_text("keep me")
    (tmp_path / ".link.json.aaaaaaaaaaaa.chainrule-tmp").symlink_to(tmp_path / "victim")
    with open(tmp_path / running) as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        chainrule.save(MLP(2, [1]), tmp_path / "x.json")
        assert sorted(os.listdir(tmp_path)) == sorted(
            [running, *theirs, "victim", ".link.json.aaaaaaaaaaaa.chainrule-tmp", "x.json"]
        )
    chainrule.save(MLP(2, [1]), tmp_path / "x.json")  # its save has ended: its file is left over now
    assert running not in os.listdir(tmp_path)
    assert (tmp_path / "victim").read_text() == "keep me"


def test_saves_from_threads_into_one_folder_never_remove_each_others_files(tmp_path):
    models = [MLP(3, [8, 1], rng=random.Random(seed)) for seed in range(2)]
    errors: list[BaseException] = []

    def keep_saving(i: int) -> None:
        try:
            for _ in range(40):
                chainrule.save(models[i], tmp_path / f"{i}.json")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=keep_saving, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert [_bits(chainrule.load(tmp_path / f"{i}.json")) for i in range(2)] == [_bits(m) for m in models]
    assert _temporaries(tmp_path) == []


# The child saves two models in turn, over and over, on a slow disk (its fsync waits): a kill at a random
# moment often lands while a temporary file is being written.
SAVING_FOREVER = """
import os, random, sys, time
from chainrule import MLP, save
fsync = os.fsync
os.fsync = lambda descriptor: (time.sleep(0.05), fsync(descriptor))
models = [MLP(3, [16, 16, 2], rng=random.Random(seed)) for seed in (1, 2)]
print("saving", flush=True)
while True:
    for model in models:
        save(model, sys.argv[1])
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_save_killed_at_random_moments_leaves_a_whole_file_and_the_next_save_no_temporary(tmp_path):
    path = tmp_path / "m.json"
    whole = [_bits(MLP(3, [16, 16, 2], rng=random.Random(seed))) for seed in (1, 2)]
    chainrule.save(MLP(3, [16, 16, 2], rng=random.Random(1)), path)
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng, left_behind = random.Random(16), 0
    for _ in range(6):
        saver = subprocess.Popen(
            [sys.executable, "-c", SAVING_FOREVER, str(path)], stdout=subprocess.PIPE, env=environment
        )
        assert saver.stdout is not None and saver.stdout.readline() == b"saving\n"
        time.sleep(rng.uniform(0.0, 0.3))
        saver.send_signal(signal.SIGKILL)
        saver.wait()
        saver.stdout.close()
        assert _bits(chainrule.load(path)) in whole  # the old file or the new one, whole
        left_behind += bool(_temporaries(tmp_path))
        chainrule.save(MLP(2, [1]), tmp_path / "next.json")
        assert _temporaries(tmp_path) == []
    assert left_behind  # the kills did land mid-write: there was something to remove
