"""Shared fixtures. Each one for something installed beside chainrule (torch, Graphviz's dot, numba, a
browser) skips without it, unless its CHAINRULE_REQUIRE_* switch is 1 (as in CI): then it fails."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def _missing(switch: str, what: str, install: str) -> NoReturn:
    """Fail under CHAINRULE_REQUIRE_<switch>=1 (CI must test it), else skip; both name the install."""
    if os.environ.get(f"CHAINRULE_REQUIRE_{switch}") == "1":
        pytest.fail(f"CHAINRULE_REQUIRE_{switch}=1 but {what} is missing: {install}")
    pytest.skip(f"{what} is not installed ({install} to run this test)")


@pytest.fixture(scope="session")
def torch():
    """PyTorch, for float64 reference gradients."""
    try:
        import torch as torch_module
    except ImportError:
        _missing("TORCH", "torch", "pip install torch==2.13.0")
    torch_module.set_default_dtype(torch_module.float64)
    return torch_module


def pytest_configure(config):
    """Hypothesis profiles: "ci" runs the property tests at full strength (a few thousand examples in all),
    the default "dev" keeps local runs quick; CHAINRULE_HYPOTHESIS_PROFILE=ci selects the first (.ci/run
    does). No deadline: the machines are shared, and timing is noise, never a test."""
    from hypothesis import settings

    settings.register_profile("dev", max_examples=100, deadline=None)
    settings.register_profile("ci", max_examples=1000, deadline=None, print_blob=True)
    settings.load_profile(os.environ.get("CHAINRULE_HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session")
def dot():
    """The path of Graphviz's `dot`. Skips without it, unless CHAINRULE_REQUIRE_DOT=1 (as in CI)."""
    import shutil

    path = shutil.which("dot")
    if path is None:
        _missing("DOT", "Graphviz's dot", "apt-get install graphviz")
    return path


@pytest.fixture(scope="session")
def numba():
    """numba, for the native backend. Skips without it, unless CHAINRULE_REQUIRE_NUMBA=1 (as in CI)."""
    try:
        import numba as numba_module
    except ImportError:
        _missing("NUMBA", "numba", 'pip install "chainrule[native]"')
    return numba_module


@pytest.fixture(params=["python", "native"])
def backend(request):
    """Each jit backend in turn; the native one needs numba (see the numba fixture)."""
    if request.param == "native":
        request.getfixturevalue("numba")
    return request.param


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium driven by Playwright (tests/real_browser.py). Skips without one, unless
    CHAINRULE_REQUIRE_BROWSER=1 (as in CI): apt-get install chromium, pip install playwright."""
    import real_browser as helper

    executable = helper.chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        executable = None
    if executable is None:
        _missing("BROWSER", "a headless browser", "apt-get install chromium; pip install playwright")
    with sync_playwright() as playwright:
        launched = helper.launch(playwright, executable)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def playground(tmp_path_factory, browser):
    """A site holding the built playground (docs/hooks/playground.py builds it at playground/app/), and the
    browser. Building needs npm and the pyodide package (kept in the build's cache after the first time):
    skips without them, unless CHAINRULE_REQUIRE_BROWSER=1 (as in CI): then it fails."""
    import importlib.util
    from pathlib import Path

    hook = Path(__file__).resolve().parent.parent / "docs" / "hooks" / "playground.py"
    spec = importlib.util.spec_from_file_location("chainrule_playground_hook", hook)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    site = tmp_path_factory.mktemp("site")
    try:
        app = module.build_into(site)
    except RuntimeError as error:  # the build's BuildError: npm, the registry or pip could not be had
        _missing("BROWSER", "the playground's build (npm and the pyodide package)", str(error))
    return site, app.relative_to(site), browser


@pytest.fixture(scope="session")
def docs_site(tmp_path_factory):
    """The documentation site, built: CHAINRULE_SITE names one built already (CI builds it with `mkdocs
    build --strict` first), else it is built here, strictly. Skips without MkDocs, unless
    CHAINRULE_REQUIRE_DOCS=1 (as in CI): pip install -e ".[docs]"."""
    import subprocess
    import sys
    from pathlib import Path

    built = os.environ.get("CHAINRULE_SITE")
    if built:
        site = Path(built).resolve()
        assert (site / "index.html").is_file(), f"CHAINRULE_SITE={built} holds no built site"
        return site
    try:
        import mkdocs  # noqa: F401
        import mkdocs_jupyter  # noqa: F401
        import mkdocstrings  # noqa: F401
    except ImportError:
        _missing("DOCS", "MkDocs and its plugins", 'pip install -e ".[docs]"')
    site = tmp_path_factory.mktemp("site")
    root = Path(__file__).resolve().parent.parent
    argv = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site)]
    built_run = subprocess.run(argv, cwd=root, capture_output=True, text=True)
    assert built_run.returncode == 0, built_run.stderr[-3000:]
    return site


@pytest.fixture(scope="session")
def served(docs_site):
    """The built site over HTTP on 127.0.0.1 (as a reader gets it: search and frames need a server)."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=docs_site))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    thread.join()
