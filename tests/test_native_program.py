"""The native program's bookkeeping between calls (compiler/native.py): which call's values its arrays
hold, a result that is a leaf, and where the interpreter is cached. Each was a mutant no test saw."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from chainrule import Value, jit
from chainrule import math as cmath
from chainrule.floatmath import DomainError

pytestmark = pytest.mark.usefixtures("numba")


def test_a_call_that_raises_does_not_pass_for_an_earlier_calls_values():
    """A call that fails midway has overwritten part of the arrays: an earlier result's backward()
    must compute its values again, not read what the failed call left."""
    w = Value(2.0)
    f = jit(lambda x: cmath.log(x * w) * x, backend="native")
    earlier = f(2.0)
    with pytest.raises(DomainError):
        f(-1.0)  # x * w = -2: log refuses it, after x and x * w were written
    earlier.backward()
    assert w.grad == 2.0 / 2.0  # d (x log(x w))/dw = x/w, at x = 2
    assert earlier.data == math.log(4.0) * 2.0


def test_a_closed_over_leaf_returned_gets_its_gradient():
    w1, w2 = Value(1.5), Value(-0.5)
    f = jit(lambda x, y: w2 if x is not None else w1 * y, backend="native")  # returns w2 itself
    out = f(1.0, 2.0)
    out.backward()
    assert (out.data, w2.grad, w1.grad) == (-0.5, 1.0, 0.0)


def test_a_returned_number_lifted_to_a_value_has_no_gradient_to_give():
    f = jit(lambda x: Value(3.0), backend="native")  # a constant of the program, held by no one else
    out = f(1.0)
    out.backward()  # nothing to give it to: no error
    assert out.data == 3.0


def test_the_interpreter_is_cached_under_the_home_folder_without_xdg(monkeypatch, tmp_path):
    from chainrule.compiler import native_kernel

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert native_kernel.cache_dir() == Path(tmp_path) / ".cache" / "chainrule" / "native"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    assert native_kernel.cache_dir() == tmp_path / "elsewhere" / "chainrule" / "native"
