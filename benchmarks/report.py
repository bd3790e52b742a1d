"""A benchmark's printed results, also written as Markdown for the documentation site (docs/benchmarks/).

Each script takes `--markdown FILE`: what it prints to stdout goes to FILE too, as a page fragment the
site includes (docs/benchmarks.md), under a line that says which command wrote it, when, and on what.
The tables are the scripts' own lines; the text lines around them become paragraphs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path


def add_option(parser: argparse.ArgumentParser, page: str) -> None:
    parser.add_argument(
        "--markdown",
        metavar="FILE",
        help=f"also write what is printed to FILE as Markdown (the site's copy: docs/benchmarks/{page}.md)",
    )


class _Tee(io.TextIOBase):
    def __init__(self, *streams: io.TextIOBase) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


@contextlib.contextmanager
def markdown(path: str | None, argv: Sequence[str] | None = None) -> Iterator[None]:
    """Inside: stdout as usual, and with a path, also kept and written to path as Markdown at the end."""
    if path is None:
        yield
        return
    kept = io.StringIO()
    with contextlib.redirect_stdout(_Tee(sys.stdout, kept)):  # type: ignore[arg-type]
        yield
    Path(path).write_text(page(kept.getvalue().splitlines(), _command(argv)), encoding="utf-8")


def _command(argv: Sequence[str] | None) -> str:
    words = list(sys.argv[1:] if argv is None else argv)
    if "--markdown" in words:  # the file it was written to is not part of what was measured
        del words[words.index("--markdown") : words.index("--markdown") + 2]
    script = Path(sys.argv[0]).name if argv is None else "…"
    return " ".join(["python", f"benchmarks/{script}", *words])


def page(lines: Sequence[str], command: str) -> str:
    """Markdown of printed lines: table rows as they are, list items together, other lines as paragraphs."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    out = [
        f"Written by `{command}` on {time.strftime('%Y-%m-%d')}: Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average {load:.1f} at the end of the run.",
    ]
    previous = "text"
    for line in lines:
        if not line.strip():
            continue
        kind = "table" if line.startswith("|") else "list" if line.lstrip().startswith("- ") else "text"
        if kind != previous or kind == "text":
            out.append("")
        out.append(line.strip())
        previous = kind
    return "\n".join(out) + "\n"
