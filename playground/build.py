"""Build the playground: one folder holding the page, chainrule's wheel, Pyodide and Graphviz's WebAssembly.

    python playground/build.py OUTDIR [--cache DIR]

The wheel is built from this repository by pip. Pyodide (CPython compiled to WebAssembly) and the layout
library (Graphviz compiled to WebAssembly) come from the npm registry by `npm pack`, pinned by version and
checked against the hashes below, and are kept in the cache (--cache, else $CHAINRULE_PLAYGROUND_CACHE,
else ~/.cache/chainrule-playground): a second build downloads nothing. Serve OUTDIR from any static web
server (the worker and its fetches need http, not file://); the page then asks for nothing elsewhere.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import string
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MARKER = ".chainrule-playground"  # marks a folder this script made, so it may empty it again

# name: (version, the registry's sha512 integrity of its tarball, {file in the tarball: where it goes})
PACKAGES = {
    "pyodide": (
        "314.0.8",
        "sha512-74Wq1kXOC+CCEzAfxuRAO701nAcCMLjf8NrwvWpu8S41dVMXwXmLQ05dYB+F4e46AdnGo0oq7YHSVUpHsoarLQ==",
        {
            name: f"pyodide/{name}"
            for name in (
                "pyodide.mjs",
                "pyodide.asm.mjs",
                "pyodide.asm.wasm",
                "python_stdlib.zip",
                "pyodide-lock.json",
            )
        },
    ),
    "@hpcc-js/wasm-graphviz": (
        "1.29.2",
        "sha512-AkArBAZERT5OxH52/+kvCHB07cZ6ZNd9GnOvjw+S880bR88D6i27XfK6xj4dBhUDxNA2QPPMdgEcky3x4TJ3KA==",
        {"dist/index.js": "graphviz/index.js", "LICENSE": "graphviz/LICENSE"},
    ),
}
PAGE = ("playground.js", "worker.js", "playground.css")
PYTHON = ("bridge.py", "train.py")  # written into Pyodide beside the wheel
NOTICE = """The playground's parts and their licences:
- chainrule {version}: this project (chainrule-{version}-py3-none-any.whl).
- Pyodide {pyodide} (npm package pyodide, MPL-2.0): CPython and its standard library compiled to
  WebAssembly (CPython: PSF License); pyodide/.
- @hpcc-js/wasm-graphviz {graphviz} (Apache-2.0, graphviz/LICENSE): Graphviz (EPL-1.0) compiled to
  WebAssembly; graphviz/.
"""


class BuildError(RuntimeError):
    """A step of the build that could not be done; the message says which and what to do."""


def default_cache() -> Path:
    named = os.environ.get("CHAINRULE_PLAYGROUND_CACHE")
    if named:
        return Path(named)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "chainrule-playground"


def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def npm_tarball(name: str, cache: Path) -> Path:
    """The package's pinned tarball, from the cache, else fetched by `npm pack` into it; checked by hash."""
    version, integrity, _ = PACKAGES[name]
    folder = cache / "npm"
    tarball = folder / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    if not (tarball.exists() and _integrity(tarball) == integrity):
        npm = shutil.which("npm")
        if npm is None:
            raise BuildError("the playground needs npm to fetch Pyodide: install Node.js and npm")
        folder.mkdir(parents=True, exist_ok=True)
        command = [npm, "pack", f"{name}@{version}", "--pack-destination", str(folder), "--ignore-scripts"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not tarball.exists():
            raise BuildError(
                f"`{' '.join(command[1:])}` failed: {done.stderr.strip() or done.stdout.strip()}"
            )
    if _integrity(tarball) != integrity:
        tarball.unlink()
        raise BuildError(
            f"{name}@{version} from the registry is not the one pinned in {__file__}: removed it"
        )
    return tarball


def build_wheel(into: Path) -> Path:
    """chainrule's wheel, built by pip from a copy of the package's sources (no stale build/ is reused)."""
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "chainrule"
        source.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(REPO / name, source / name)
        shutil.copytree(
            REPO / "chainrule", source / "chainrule", ignore=shutil.ignore_patterns("__pycache__")
        )
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "--disable-pip-version-check"]
        done = subprocess.run([*command, "-w", str(into), str(source)], capture_output=True, text=True)
        if done.returncode != 0:
            raise BuildError(f"pip could not build chainrule's wheel: {done.stderr.strip()}")
    wheels = sorted(into.glob("chainrule-*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one chainrule wheel in {into}, found {[w.name for w in wheels]}")
    return wheels[0]


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def policy(wheel: Path) -> str:
    """The page's Content-Security-Policy. Scripts and styles come from the site itself, plus the
    walkthrough page's inline script and style (shown in a srcdoc frame, which keeps this policy); the
    worker is a blob: (so it keeps it too); code may be compiled from WebAssembly, never from a string;
    requests go to the site alone."""
    with zipfile.ZipFile(wheel) as archive:
        script, style = (
            archive.read(f"chainrule/show/static/walkthrough.{kind}").decode("utf-8")
            for kind in ("js", "css")
        )
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' 'wasm-unsafe-eval' {_sha256(script)}",
            f"style-src 'self' {_sha256(style)}",
            "img-src data:",
            "connect-src 'self'",
            "worker-src blob:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def _prepare(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise BuildError(f"{out} is not empty and was not made by this script: choose another folder")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by playground/build.py; it empties this folder when it builds again\n")


def build(out: Path, cache: Path | None = None) -> dict[str, int]:
    """Build the playground into `out` (emptied first if an earlier build made it); {file: bytes}."""
    cache = cache or default_cache()
    tarballs = {name: npm_tarball(name, cache) for name in PACKAGES}
    _prepare(out)
    wheel = build_wheel(out)
    for name, (_, _, files) in PACKAGES.items():
        with tarfile.open(tarballs[name]) as archive:
            for inside, target in files.items():
                extracted = archive.extractfile(f"package/{inside}")
                if extracted is None:
                    raise BuildError(f"{name}'s tarball has no file {inside}")
                (out / target).parent.mkdir(parents=True, exist_ok=True)
                (out / target).write_bytes(extracted.read())
    for name in (*PAGE, *PYTHON):
        shutil.copy2(HERE / ("page" if name in PAGE else ".") / name, out / name)
    version = wheel.name.split("-")[1]
    versions = {"pyodide": PACKAGES["pyodide"][0], "graphviz": PACKAGES["@hpcc-js/wasm-graphviz"][0]}
    template = string.Template((HERE / "page" / "index.html").read_text(encoding="utf-8"))
    page = template.substitute(policy=policy(wheel), wheel=wheel.name, version=version, **versions)
    (out / "index.html").write_text(page, encoding="utf-8")
    (out / "NOTICE.txt").write_text(NOTICE.format(version=version, **versions), encoding="utf-8")
    return {str(p.relative_to(out)): p.stat().st_size for p in sorted(out.rglob("*")) if p.is_file()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "outdir", type=Path, help="the folder to build into (made, or emptied if built before)"
    )
    parser.add_argument(
        "--cache", type=Path, help=f"where npm's tarballs are kept (default {default_cache()})"
    )
    args = parser.parse_args(argv)
    try:
        sizes = build(args.outdir, args.cache)
    except BuildError as error:
        print(f"playground/build.py: {error}", file=sys.stderr)
        return 1
    print(f"built the playground in {args.outdir}: {len(sizes)} files, {sum(sizes.values()) / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
