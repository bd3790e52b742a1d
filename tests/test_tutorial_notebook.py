"""docs/tutorial.ipynb: stored without outputs, and it runs top to bottom in a fresh kernel (nbclient)."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "tutorial.ipynb"
REFERENCE = (Path(__file__).parent / "data" / "reference_xor.txt").read_text()


def _read():
    nbformat = pytest.importorskip("nbformat")
    return nbformat.read(NOTEBOOK, as_version=4)


def test_the_notebook_is_stored_without_outputs():
    code = [cell for cell in _read().cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)


def _text(cell) -> str:
    return "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")


def test_the_notebook_runs_top_to_bottom(tmp_path, dot):
    from nbclient import NotebookClient

    notebook = _read()
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(o.output_type != "error" for cell in code for o in cell.outputs)
    by_source = {cell.source.splitlines()[0]: cell for cell in code}
    neuron = _text(by_source['x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")'])
    assert "o = 0.7071\n" in neuron and "do/dx1 = -1.5000" in neuron and "do/dw1 = 1.0000" in neuron
    assert math.isclose(float(re.search(r"o = (\S+)", neuron).group(1)), math.sqrt(0.5), abs_tol=1e-4)
    drawn = by_source["from chainrule import draw"].outputs[0]["data"]
    assert "image/svg+xml" in drawn or "text/html" in drawn or "text/plain" in drawn
    shown = by_source["from chainrule import walkthrough"].outputs[0]["data"]["text/html"]
    assert shown.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in shown
    explained = _text(by_source["from chainrule import explain"])  # after o.backward(): the derivatives
    assert "∂o/∂x1  =  -1.5\n" in explained and "Note: these leaves held gradients before" in explained
    loop = by_source["import random"]  # the training loop, written out: the loss falls at every step
    assert all(f"{call}" in loop.source for call in ("model.zero_grad()", "loss.backward()", "p.data -="))
    printed = [float(x) for x in re.findall(r"^step +\d+  loss (\S+)$", _text(loop), re.M)]
    assert (
        len(printed) == 20
        and all(a > b for a, b in itertools.pairwise(printed))
        and printed[-1] < printed[0] / 10
    )
    assert _text(by_source["from chainrule import jit"]) == "the same losses as the engine's: True\n"
    firsts = [cell.source.splitlines()[0] for cell in code]
    uses_jit = [i for i, cell in enumerate(code) if "jit(" in cell.source]
    assert firsts.index("import random") < firsts.index("from chainrule.demos import xor") < min(uses_jit)
    assert firsts.index("from chainrule import jit") == min(uses_jit)  # jit is introduced in its own cell
    assert _text(by_source["from chainrule.demos import xor"]) == REFERENCE  # the reference log
    moons_cell = by_source["import tempfile"]
    assert "after 30 steps: accuracy" in _text(moons_cell)
    assert any("image/png" in o.get("data", {}) for o in moons_cell.outputs)
