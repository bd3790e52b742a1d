"""The figures of issue 16, measured: threads, the compile cache, damaged and interrupted checkpoints.

    python benchmarks/trust.py threads [--trials 50]   # XOR beside a no_grad() evaluator; racing blocks
    python benchmarks/trust.py cache [--longest 2000]  # one jitted fn called with lists of 1..N numbers
    python benchmarks/trust.py bits                    # every single-bit flip of a small checkpoint
    python benchmarks/trust.py kills [--trials 20]     # a saving process killed at random moments

Counts, not timings: each says how often something went wrong (0 is the goal). The cache's memory is
tracemalloc's count of the bytes still allocated after the calls, with the programs the jit holds.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

from chainrule import MLP, Value, grad_mode, jit, no_grad
from chainrule.demos import xor
from chainrule.storage import checkpoint

ROOT = Path(__file__).resolve().parent.parent


def _records() -> bool:
    return bool((Value(1.0) * 2.0)._prev)


def _beside_an_evaluator(work):
    """work() run in a thread while another thread evaluates a model under no_grad() until it is done."""
    done, result = threading.Event(), []
    evaluator = MLP(2, [4, 1])

    def evaluate() -> None:
        while not done.is_set():
            with no_grad():
                evaluator([0.5, -0.5])

    def train() -> None:
        result.append(work())
        done.set()

    threads = [threading.Thread(target=evaluate), threading.Thread(target=train)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result[0]


def _enter_and_leave() -> None:
    for _ in range(2000):
        with no_grad():
            Value(1.0) * 2.0


def threads(trials: int) -> None:
    lone: list[float] = []
    list(xor.run(xor.XorConfig(), lone))
    raced: list[float] = []
    _beside_an_evaluator(lambda: list(xor.run(xor.XorConfig(), raced)))
    differing = sum(a != b for a, b in zip(lone, raced))
    print(
        f"XOR beside a no_grad() evaluator: losses differ at {differing} of {len(lone)} steps "
        f"(final {raced[-1]:.6f}, alone {lone[-1]:.6f})"
    )
    x, y = Value(1.5), Value(2.0)
    bare = _beside_an_evaluator(lambda: sum(not (x * y)._prev for _ in range(20_000)))
    print(f"ops that recorded no graph beside the evaluator: {bare} of 20000")
    left_off = 0
    for _ in range(trials):
        racers = [threading.Thread(target=_enter_and_leave) for _ in range(2)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        if not _records():
            left_off += 1
            grad_mode.enabled = True  # type: ignore[attr-defined]  # the code before issue 16: one flag
    print(f"grad mode left off after two racing threads finished: {left_off} of {trials} trials")


def cache(longest: int) -> None:
    def loss(xs):
        return sum(((x - 0.5) ** 2 for x in xs), Value(0.0))

    jitted = jit(loss)
    tracemalloc.start()
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in range(1, longest + 1):
            jitted([0.25] * n)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    programs = len(jitted._programs)
    print(
        f"lists of 1..{longest}: {programs} programs held, {held / 1e6:.1f} MB still allocated "
        f"({time.perf_counter() - started:.0f} s)"
    )


def _small_checkpoint(folder: Path) -> tuple[Path, dict[str, float], dict]:
    model = MLP(2, [2, 1], rng=random.Random(0))
    path = folder / "small.json"
    checkpoint.save(model, path, {"step": 7})
    return path, model.state_dict(), {"step": 7}


def bits() -> None:
    with tempfile.TemporaryDirectory() as name:
        path, state, info = _small_checkpoint(Path(name))
        original = path.read_bytes()
        counts = {"refused": 0, "loaded identical": 0, "loaded different": 0, "other error": 0}
        for bit in range(len(original) * 8):
            damaged = bytearray(original)
            damaged[bit // 8] ^= 1 << (bit % 8)
            path.write_bytes(damaged)
            try:
                saved = checkpoint.read(path)
            except checkpoint.CheckpointError:
                counts["refused"] += 1
                continue
            except Exception:  # a count of what should never happen
                counts["other error"] += 1
                continue
            same = json.dumps(saved.model.state_dict()) == json.dumps(state) and saved.info == info
            counts["loaded identical" if same else "loaded different"] += 1
    print(
        f"{len(original) * 8} single-bit flips of a {len(original)}-byte checkpoint: "
        + ", ".join(f"{what} {count}" for what, count in counts.items())
    )


# writes two saved checkpoints' texts over the target in turn, as save does once it has the text
_SAVER = """
import sys
from pathlib import Path
from chainrule.storage.checkpoint import _write_atomically
target, texts = Path(sys.argv[1]), [Path(name).read_text() for name in sys.argv[2:]]
print("ready", flush=True)
while True:
    for text in texts:
        _write_atomically(target, text)
"""


def _temporaries(folder: Path, *kept: str) -> list[Path]:
    return [p for p in folder.iterdir() if p.name not in {*kept, "a.txt", "b.txt"}]


def kills(trials: int) -> None:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    whole = orphaned = after_next_save = orphan_bytes = 0
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path, texts = folder / "big.json", [folder / "a.txt", folder / "b.txt"]
        for text in texts:
            checkpoint.save(MLP(2, [600, 600, 1]), text)
        path.write_text(texts[0].read_text())
        for _ in range(trials):
            present = set(_temporaries(folder, path.name))
            saver = subprocess.Popen(
                [sys.executable, "-c", _SAVER, str(path), *map(str, texts)],
                stdout=subprocess.PIPE,
                env=environment,
            )
            assert saver.stdout is not None and saver.stdout.readline() == b"ready\n"
            time.sleep(random.uniform(0.0, 1.0))
            saver.send_signal(signal.SIGKILL)
            saver.wait()
            try:
                checkpoint.load(path)
                whole += 1
            except checkpoint.CheckpointError:
                pass
            left = set(_temporaries(folder, path.name)) - present
            orphaned += bool(left)
            orphan_bytes += sum(p.stat().st_size for p in left)
            checkpoint.save(MLP(1, [1]), folder / "next.json")
            after_next_save += bool(_temporaries(folder, path.name, "next.json"))
            (folder / "next.json").unlink()
    print(
        f"{trials} saves killed at random moments: the file whole {whole} times; a temporary file "
        f"left {orphaned} times ({orphan_bytes / 1e6:.0f} MB), still there after the next save "
        f"{after_next_save} times"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("figure", choices=["threads", "cache", "bits", "kills"])
    parser.add_argument("--trials", type=int, default=None)
    parser.add_argument("--longest", type=int, default=2000)
    args = parser.parse_args()
    if args.figure == "threads":
        threads(args.trials or 50)
    elif args.figure == "cache":
        cache(args.longest)
    elif args.figure == "bits":
        bits()
    else:
        kills(args.trials or 20)


if __name__ == "__main__":
    main()
