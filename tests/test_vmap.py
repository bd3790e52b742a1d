"""vmap: a batch of points in one call, held to the points called one by one, to the bit."""

from __future__ import annotations

import pytest

import chainrule
from chainrule import Value, jit, value_and_grad, vmap

np = pytest.importorskip("numpy")


def _oscillator(k, c, x0, steps=200, dt=0.01):
    x, v, total = x0, 0.0, 0.0
    for t in range(steps):
        a = -k * x - c * v
        x, v = x + dt * v, v + dt * a
        r = x - 0.002 * t
        total = total + r * r
    return total


BACKENDS = ["python", "native"]


def _backend(backend, request):
    if backend == "native":
        request.getfixturevalue("numba")  # skips without numba, unless CHAINRULE_REQUIRE_NUMBA=1
    return backend


@pytest.mark.parametrize("backend", BACKENDS)
def test_value_and_grad_over_a_batch_is_the_points_one_by_one_to_the_bit(backend, request):
    f = jit(value_and_grad(_oscillator, argnums=(0, 1, 2)), backend=_backend(backend, request))
    ks, cs, xs = np.linspace(2.0, 4.0, 97), np.linspace(0.1, 0.9, 97), np.linspace(-1.0, 1.0, 97)
    values, (gk, gc, gx) = vmap(f)(ks, cs, xs)
    assert all(isinstance(column, np.ndarray) for column in (values, gk, gc, gx))
    for i, point in enumerate(zip(ks.tolist(), cs.tolist(), xs.tolist())):
        value, grads = f(*point)
        assert (values[i], gk[i], gc[i], gx[i]) == (value, *grads)
    engine = [Value(p) for p in (ks[5], cs[5], xs[5])]
    loss = _oscillator(*engine)
    loss.backward()
    assert (values[5], gk[5], gc[5], gx[5]) == (loss.data, *(p.grad for p in engine))


@pytest.mark.parametrize("backend", BACKENDS)
def test_lists_in_lists_out_and_nested_points(backend, request):
    w = Value(0.5)  # closed over: read at every call

    def f(point, scale):
        return chainrule.math.tanh(point[0] * w + point[1]) * scale

    g = jit(f, backend=_backend(backend, request))
    points, scales = [[0.1, 0.2], [0.3, -0.4], [1.5, 2.0]], [1.0, 2.0, -3.0]
    assert vmap(g)(points, scales) == [float(g(p, s)) for p, s in zip(points, scales)]
    w.data = -2.0
    assert vmap(g)(points, scales) == [float(f(p, s).data) for p, s in zip(points, scales)]


def test_a_plain_function_is_mapped_point_by_point():
    f = chainrule.grad(lambda x, y: x * y + chainrule.math.sin(x), argnums=(0, 1))
    xs, ys = [0.1, 0.2, 0.3], (1.0, 2.0, 3.0)
    assert vmap(f)(xs, ys) == tuple(list(column) for column in zip(*(f(x, y) for x, y in zip(xs, ys))))


def test_ints_fall_back_to_the_calls_one_by_one(numba):
    g = jit(lambda x: x * x + 1.0, backend="native")
    assert vmap(g)([1, 2, 3]) == [2.0, 5.0, 10.0]


def test_batches_from_several_threads_at_once_each_get_their_own_numbers(numba):
    import threading

    # one jitted function each (one program's arrays serve one call at a time); numba's parallel regions
    # at once are what is tested
    fs = [jit(value_and_grad(_oscillator, argnums=(0, 1, 2)), backend="native") for _ in range(4)]
    batches = [np.linspace(2.0 + i, 3.0 + i, 50) for i in range(4)]
    alone = [vmap(f)(ks, np.full(50, 0.5), np.ones(50)) for f, ks in zip(fs, batches)]
    together: list = [None] * 4

    def run(i):
        together[i] = vmap(fs[i])(batches[i], np.full(50, 0.5), np.ones(50))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for mine, theirs in zip(together, alone):
        assert mine[0].tolist() == theirs[0].tolist()
        assert [g.tolist() for g in mine[1]] == [g.tolist() for g in theirs[1]]


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_array_of_rows_maps_its_rows_and_trees_out_stack_leaf_by_leaf(backend, request):
    def f(w):
        return w[0] * w[1] + chainrule.math.sin(w[1])

    g = jit(chainrule.grad(f), backend=_backend(backend, request))
    rows = np.array([[1.0, 2.0], [3.0, -4.0], [0.5, 0.25]])
    stacked = vmap(g)(rows)
    assert isinstance(stacked, np.ndarray) and stacked.shape == (3, 2)
    assert stacked.tolist() == [g(row).tolist() for row in rows]
    both = jit(value_and_grad(lambda d: d["a"] * d["b"]), backend=_backend(backend, request))
    points = [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": -5.0}]
    values, grads = vmap(both)(points)
    one_by_one = [both(point) for point in points]
    assert values == [value for value, _ in one_by_one]
    assert grads == {key: [grad[key] for _, grad in one_by_one] for key in "ab"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_function_that_branches_is_mapped_by_each_points_own_path(backend, request):
    def huber(x):
        return 0.5 * x * x if abs(x) <= 1.0 else abs(x) - 0.5

    g = jit(value_and_grad(huber), backend=_backend(backend, request))
    points = [0.5, -3.0, 0.25, 2.0, -0.75]
    g(0.5)  # traced on the quadratic side first: the others must not run its program
    values, slopes = vmap(g)(points)
    assert (values, slopes) == (
        [value_and_grad(huber)(x)[0] for x in points],
        [value_and_grad(huber)(x)[1] for x in points],
    )


@pytest.mark.parametrize("bad", [199, 100, 0], ids=["last point", "a middle point", "first point"])
@pytest.mark.parametrize("threads", [True, False], ids=["threads", "the calling thread"])
def test_a_point_that_raises_in_a_big_batch_raises_the_calls_error(bad, threads, numba, monkeypatch):
    """Every chunk of points runs where its error reaches vmap (an error in a chunk that numba's
    prange ran on a worker thread was once dropped, and that chunk's numbers were uninitialised)."""
    from chainrule import math as cmath
    from chainrule.compiler import batch_native
    from chainrule.floatmath import DomainError

    if threads:
        monkeypatch.setattr(batch_native, "SHARED_WORK", 0)

    forward = jit(lambda k, c: (cmath.log(c) + k, k * 2.0), backend="native")
    slope = jit(value_and_grad(lambda x, c: cmath.log(x) * c), backend="native")
    for f in (forward, slope):
        first, second = [1.5] * 200, [2.0] * 200
        (second if f is forward else first)[bad] = -1.0
        with pytest.raises(DomainError) as one_by_one:
            [f(*point) for point in zip(first, second)]
        with pytest.raises(DomainError) as batched:
            vmap(f)(first, second)
        assert str(batched.value) == str(one_by_one.value)
