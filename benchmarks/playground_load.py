"""The playground's figures: its size, how long it takes to load, to walk again, to train.

Builds the playground (playground/build.py), serves it on 127.0.0.1 and opens it in Debian's Chromium
(tests/real_browser.py). Cold: a fresh browser context, nothing cached. Warm: the same context reloaded,
Pyodide's files from the browser's cache. Both are timed to the moment the page says it is ready (Python,
chainrule and Graphviz loaded). A rerun is Run pressed again on the walk of tanh(w*x + b), timed in the
worker; training is the Train tab's default moons run (MLP(2, [16, 16, 1]), 100 steps, compiled).

    python benchmarks/playground_load.py              # 3 loads of each kind, 9 reruns
    python benchmarks/playground_load.py --loads 5 --reruns 20 --built DIR
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the page tests' browser and server helpers
sys.path.insert(0, str(ROOT / "playground"))

import build  # noqa: E402 (playground/build.py)
from real_browser import ARGS, chromium_path, serve  # noqa: E402

READY = 180_000  # ms


def sizes(folder: Path) -> tuple[int, int]:
    """Bytes of the built folder, as stored and as a server that gzips would send them."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), sum(len(gzip.compress(p.read_bytes(), 6)) for p in files)


def ready(page) -> float:
    page.wait_for_selector("body[data-state=ready]", timeout=READY)
    return float(page.get_attribute("body", "data-load-seconds"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--reruns", type=int, default=9)
    parser.add_argument("--built", type=Path, help="a folder playground/build.py made (default: build one)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.built or Path(scratch) / "playground"
        if args.built is None:
            started = time.perf_counter()
            build.build(folder)
            print(f"build (cached npm tarballs): {time.perf_counter() - started:.1f} s")
        stored, sent = sizes(folder)
        print(f"size: {stored / 1e6:.1f} MB stored, {sent / 1e6:.1f} MB gzipped")
        with serve(folder) as served, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=ARGS)
            cold, warm, reruns = [], [], []
            for _ in range(args.loads):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(served.site + "index.html")
                cold.append(ready(page))
                page.reload()
                warm.append(ready(page))
                context.close()
            page = browser.new_context().new_page()
            page.goto(served.site + "index.html")
            ready(page)
            for run in range(1, args.reruns + 1):
                page.click("#run")
                page.wait_for_selector(f"#walk[data-runs='{run}']", timeout=60_000)
                reruns.append(float(page.get_attribute("#walk", "data-seconds")))
            page.click("#tab-train")
            page.select_option("#problem", "moons")
            started = time.perf_counter()
            page.click("#train-button")
            page.wait_for_selector("#train[data-state=done]", timeout=READY)
            trained = time.perf_counter() - started
            browser.close()
    print(f"load, cold: median {statistics.median(cold):.1f} s of {', '.join(f'{t:.1f}' for t in cold)}")
    print(f"load, warm: median {statistics.median(warm):.1f} s of {', '.join(f'{t:.1f}' for t in warm)}")
    print(f"walk again (tanh(w*x + b)): median {1000 * statistics.median(reruns[1:] or reruns):.0f} ms")
    print(f"train moons, 100 steps, compiled: {trained:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
