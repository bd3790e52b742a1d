"""Mutation testing of chainrule's core: does a test notice when the code computes another number?

    python tools/mutation.py                      # every core module (about 25 minutes on two cores)
    python tools/mutation.py engine rules         # modules whose path holds these words
    python tools/mutation.py --list engine        # the mutants, without running anything
    python tools/mutation.py --only 'relu' engine # the mutants whose name holds this text
    python tools/mutation.py --jobs 1 --json out.json

Each mutant is the module with one change (tools/mutants.py: `+=` → `=`, an operator, a comparison,
a number, a rule's `o.gt` → `o.ge`, a `where`'s sides swapped, a piece of the generated code); it is
written into a copy of the package and the module's fast tests (MODULES) run against it, in a process
forked from one that has imported pytest, hypothesis, torch and numba already (not chainrule), so a
mutant costs its tests, not those imports. A mutant is killed when a test fails (or it hangs past
the timeout), and survives when they all pass. The score of a module is killed / (mutants -
equivalent ones and those below rounding); tools/equivalent_mutants.txt lists them, each with the reason
no test can see it.

Not run by CI (it takes minutes, not seconds): the score and how long a full run takes are on the
guarantees page (docs/guarantees.md), measured with this script.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants import Mutant, mutants  # tools/ is not a package

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = Path(__file__).resolve().parent / "equivalent_mutants.txt"
# A reason that starts so: the mutant changes a result by a few ulps only, below what the function promises
# (its tests' tolerance); the score sets it aside, and the column "with rounding's" counts it as survived.
ROUNDING = "Below rounding:"

# module -> (does it write generated code in strings, the tests that hold it: fastest killers first).
# "-k not native" where a mutant changes the native interpreter's text, which numba would compile anew.
_EXACT, _PYTHON_ONLY = "tests/test_exact_numbers.py", ["-k", "not native"]
_JIT = [_EXACT, "tests/test_jit.py", "tests/test_rules.py", "tests/test_higher_order.py"]  # jit(grad(f))
_SHIPPED = "tests/test_pickle.py::test_a_shipped_program_gives_the_numbers_at_home_without_tracing_again"
_NATIVE = [_EXACT, "tests/test_native_program.py", "tests/test_native_loops.py", "tests/test_jit_native.py"]
MODULES: dict[str, tuple[bool, list[str]]] = {
    "chainrule/engine.py": (
        False,
        [_EXACT, "tests/test_engine.py", "tests/test_rules.py", "tests/test_numbers.py"],
    ),
    "chainrule/rules.py": (
        False,
        [
            "tests/test_rules.py",
            _EXACT,
            "tests/test_forward.py",
            "tests/test_jit.py",
            "tests/test_higher_order.py",
            *_PYTHON_ONLY,
        ],
    ),
    "chainrule/math/table.py": (False, ["tests/test_rules.py", "tests/test_math.py", _EXACT, *_PYTHON_ONLY]),
    "chainrule/floatmath/core.py": (
        False,
        [_EXACT, "tests/test_math.py", "tests/test_engine.py", "tests/test_numbers.py", *_PYTHON_ONLY],
    ),
    "chainrule/floatmath/special.py": (
        False,
        [_EXACT, "tests/test_math.py", "tests/test_rules.py", *_PYTHON_ONLY],
    ),
    "chainrule/derivatives/forward.py": (
        False,
        [_EXACT, "tests/test_forward.py", "tests/test_fuzz_forward.py"],
    ),
    "chainrule/compiler/python_code.py": (True, [*_JIT, _SHIPPED, *_PYTHON_ONLY]),
    "chainrule/compiler/symbols.py": (True, ["tests/test_symbols.py", *_JIT, *_PYTHON_ONLY]),
    "chainrule/compiler/native_kernel.py": (True, _NATIVE),
    "chainrule/compiler/native.py": (True, _NATIVE),
    "chainrule/compiler/native_loops.py": (True, ["tests/test_native_loops.py"]),  # the loops' own tests
}
PRELOADED = ("pytest", "hypothesis", "torch", "numba", "numpy", "scipy")  # imported once, before forking


def equivalent() -> dict[str, str]:
    """id -> why no test can tell the mutant from the module (tools/equivalent_mutants.txt: a line
    holding a mutant's id, then its reason on indented lines; # starts a comment)."""
    reasons: dict[str, str] = {}
    name = ""
    for line in EQUIVALENT.read_text().splitlines() if EQUIVALENT.exists() else []:
        if not line.strip() or line.startswith("#"):
            continue
        if line[0].isspace():
            reasons[name] = f"{reasons[name]} {line.strip()}".strip()
        else:
            name = line.strip()
            reasons[name] = ""
    return reasons


ORIGINAL: dict[str, bytes] = {}  # each module's text as the run began: edits made meanwhile are not seen


def chosen(words: list[str], only: str) -> list[Mutant]:
    found = []
    for path, (strings, _) in MODULES.items():
        if words and not any(word in path for word in words):
            continue
        source = ORIGINAL.setdefault(path, (ROOT / path).read_bytes())
        found += [m for m in mutants(path, source, strings) if only in m.name]
    return found


def _child(copy: Path, tests: list[str]) -> None:
    """In the forked process: the copied package first on the path, the module's tests, the exit code."""
    sys.path[:] = [str(copy), *(p for p in sys.path if Path(p or ".").resolve() != ROOT)]
    os.environ["PYTHONPATH"] = str(copy)  # subprocesses that tests start import the mutant too
    os.chdir(copy)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    import pytest

    options = [
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(ROOT),
        "-c",
        str(ROOT / "pyproject.toml"),
    ]
    code = pytest.main([*options, *(str(ROOT / t) if t.startswith("tests/") else t for t in tests)])
    os._exit(int(code))


class Worker:
    """A copy of the package that one mutant at a time is written into."""

    def __init__(self, base: Path, k: int) -> None:
        self.copy = base / f"worker{k}"
        shutil.copytree(
            ROOT / "chainrule", self.copy / "chainrule", ignore=shutil.ignore_patterns("__pycache__")
        )
        self.pid = 0
        self.mutant: Mutant | None = None
        self.began = 0.0

    def start(self, mutant: Mutant | None, path: str) -> None:
        self.mutant, self.path = mutant, path
        target = self.copy / path
        original = ORIGINAL[path]
        target.write_bytes(mutant.apply(original) if mutant else original)
        shutil.rmtree(target.parent / "__pycache__", ignore_errors=True)
        self.began = time.monotonic()
        self.pid = os.fork()
        if self.pid == 0:
            _child(self.copy, MODULES[path][1])

    def restore(self) -> None:
        (self.copy / self.path).write_bytes(ORIGINAL[self.path])
        self.pid = 0


def run(todo: list[tuple[Mutant | None, str]], jobs: int, timeout: float, report) -> None:
    """Run each (mutant, module) in a free worker; report(mutant, module, outcome, seconds)."""
    base = Path(tempfile.mkdtemp(prefix="chainrule-mutation-"))
    os.environ["XDG_CACHE_HOME"] = str(base / "cache")  # the native kernels of mutants, dropped at the end
    os.environ.setdefault("CHAINRULE_HYPOTHESIS_PROFILE", "dev")
    workers = [Worker(base, k) for k in range(jobs)]
    queue = list(todo)
    try:
        while queue or any(w.pid for w in workers):
            for worker in workers:
                if not worker.pid and queue:
                    worker.start(*queue.pop(0))
            time.sleep(0.02)
            for worker in workers:
                if not worker.pid:
                    continue
                pid, status = os.waitpid(worker.pid, os.WNOHANG)
                seconds = time.monotonic() - worker.began
                if pid == 0 and seconds < timeout:
                    continue
                if pid == 0:  # hung: a mutant that loops forever is killed by the timeout
                    os.kill(worker.pid, signal.SIGKILL)
                    os.waitpid(worker.pid, 0)
                    outcome = "timeout"
                else:
                    outcome = "survived" if os.waitstatus_to_exitcode(status) == 0 else "killed"
                report(worker.mutant, worker.path, outcome, seconds)
                worker.restore()
    finally:
        for worker in workers:
            if worker.pid:
                os.kill(worker.pid, signal.SIGKILL)
                os.waitpid(worker.pid, 0)
        shutil.rmtree(base, ignore_errors=True)


def classified(mutant_id: str, outcome: str, set_aside: dict[str, str]) -> str:
    """killed, timeout, survived; or, for a mutant the list sets aside, equivalent or rounding (when it
    survived: a listed mutant the tests kill says so, `killed (listed as equivalent)`)."""
    outcome = "survived" if outcome in ("equivalent", "rounding") else outcome.split(" (listed")[0]
    if mutant_id not in set_aside:
        return outcome
    kind = "rounding" if set_aside[mutant_id].startswith(ROUNDING) else "equivalent"
    return kind if outcome == "survived" else f"{outcome} (listed as {kind})"


def print_scores(outcomes: dict[str, list[str]]) -> None:
    """The table of the guarantees page: per module, its mutants by outcome and its score."""
    print(
        "\n| module | mutants | killed | equivalent | below rounding | survived | score | with rounding's |"
    )
    print("| --- | --: | --: | --: | --: | --: | --: | --: |")
    for path, rows in outcomes.items():
        count = {kind: rows.count(kind) for kind in ("equivalent", "rounding", "survived")}
        killed = sum(o.startswith(("killed", "timeout")) for o in rows)
        score = killed / max(1, len(rows) - count["equivalent"] - count["rounding"])
        strict = killed / max(1, len(rows) - count["equivalent"])
        print(
            f"| `{path}` | {len(rows)} | {killed} | {count['equivalent']} | {count['rounding']} | "
            f"{count['survived']} | {score:.1%} | {strict:.1%} |"
        )


def earlier(paths: list[Path]) -> dict[str, str]:
    """id -> outcome in earlier runs' --json files (or .partial.jsonl), the latest one that ran it wins."""
    found: dict[str, str] = {}
    for path in paths:
        text = path.read_text()
        rows = (
            json.loads(text) if path.suffix == ".json" else [json.loads(line) for line in text.splitlines()]
        )
        found.update((row["id"], row["outcome"]) for row in rows)
    return found


def rescore(paths: list[Path]) -> None:
    """The scores of earlier runs, by today's mutants and today's list of equivalents."""
    set_aside, found = equivalent(), earlier(paths)
    outcomes: dict[str, list[str]] = {}
    for mutant in chosen([], ""):
        if mutant.id not in found:
            print(f"  not run   {mutant.id}")
            continue
        outcomes.setdefault(mutant.path, []).append(classified(mutant.id, found[mutant.id], set_aside))
        if outcomes[mutant.path][-1] == "survived":
            print(f"  survived  {mutant.id}")
    print_scores(outcomes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="words of the module paths to mutate (default: all)")
    parser.add_argument("--only", default="", help="only the mutants whose name holds this text")
    parser.add_argument("--list", action="store_true", help="print the mutants and stop")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--json", type=Path, help="write every mutant's outcome here")
    parser.add_argument(
        "--score", type=Path, nargs="+", help="print the scores of earlier runs' --json files"
    )
    parser.add_argument(
        "--again", type=Path, nargs="+", help="run only what earlier runs' --json files left alive"
    )
    args = parser.parse_args(argv)
    if args.score:
        rescore(args.score)
        return 0
    found = chosen(args.modules, args.only)
    if args.again:
        alive = earlier(args.again)
        found = [m for m in found if not alive.get(m.id, "").startswith(("killed", "timeout"))]
    if args.list:
        for mutant in found:
            print(f"{mutant.path}:{mutant.line}: {mutant.name}")
        return 0
    for module in PRELOADED:
        __import__(module)
    set_aside = equivalent()
    paths = sorted({m.path for m in found}, key=list(MODULES).index)
    # the unmutated module first: its tests must pass, and their time sets the timeout
    baseline: dict[str, float] = {}
    for path in paths:
        run([(None, path)], 1, 600, lambda m, p, out, s: baseline.update({p: s if out == "survived" else -1}))
        if baseline[path] < 0:
            print(f"{path}: its tests fail without any mutant; fix that first")
            return 1
    timeout = 10 + 4 * max(baseline.values())
    outcomes: dict[str, list] = {path: [] for path in paths}
    began = time.monotonic()

    def report(mutant: Mutant, path: str, outcome: str, seconds: float) -> None:
        outcome = classified(mutant.id, outcome, set_aside)
        outcomes[path].append((mutant, outcome, seconds))
        if args.json:  # as it goes, one line a mutant: a run stopped early still tells what it found
            with args.json.with_suffix(".partial.jsonl").open("a") as partial:
                partial.write(json.dumps({"id": mutant.id, "outcome": outcome}, ensure_ascii=False) + "\n")
        if outcome == "survived":
            print(f"  survived  {mutant.path}:{mutant.line}: {mutant.name}", flush=True)

    run([(m, m.path) for m in found], args.jobs, timeout, report)
    elapsed = time.monotonic() - began
    print_scores({path: [o for _, o, _ in rows] for path, rows in outcomes.items()})
    print(
        f"\n{len(found)} mutants in {elapsed / 60:.1f} min with --jobs {args.jobs} (baselines: "
        + ", ".join(f"{Path(p).name} {s:.1f} s" for p, s in baseline.items())
        + ")"
    )
    stale = set(set_aside) - {m.id for m in chosen([], "")}
    if stale and not args.modules and not args.only:
        print("listed as equivalent but no longer a mutant:", *sorted(stale), sep="\n  ")
    if args.json:
        rows = [
            {"id": m.id, "line": m.line, "outcome": o, "seconds": round(s, 2)}
            for path in paths
            for m, o, s in outcomes[path]
        ]
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
