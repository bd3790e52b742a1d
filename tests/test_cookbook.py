"""The cookbook (examples/, docs/cookbook.md): each program runs, eager and compiled on both backends, and
gives what a closed form or an independent computation says."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

import chainrule
from chainrule.derivatives.gradcheck import numerical_gradient

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BACKENDS = ["python", "native"]


def _example(name):
    spec = importlib.util.spec_from_file_location(f"cookbook_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=BACKENDS)
def backend(request):
    if request.param == "native":
        request.getfixturevalue("numba")
    return request.param


def test_every_example_is_in_the_cookbook_page():
    page = (EXAMPLES.parent / "docs" / "cookbook.md").read_text()
    assert all(f"examples/{path.name}" in page for path in EXAMPLES.glob("*.py"))


def test_projectile_range_and_its_gradient(backend):
    projectile = _example("projectile")
    speed, angle = 30.0, 0.6
    distance, (d_speed, d_angle) = chainrule.value_and_grad(projectile.flight_range, (0, 1))(speed, angle)
    g = projectile.GRAVITY
    assert distance == pytest.approx(speed**2 * math.sin(2 * angle) / g, rel=1e-3)
    assert d_angle == pytest.approx(2 * speed**2 * math.cos(2 * angle) / g, rel=1e-3)
    assert d_speed == pytest.approx(2 * speed * math.sin(2 * angle) / g, rel=1e-3)
    dragged = chainrule.grad(projectile.flight_range, (0, 1))(speed, angle, 0.01)
    central = numerical_gradient(lambda s, a: projectile.flight_range(s, a, 0.01), [speed, angle])
    assert dragged == pytest.approx(central, rel=1e-4)
    eager = chainrule.value_and_grad(projectile.flight_range, (0, 1))
    compiled = chainrule.jit(eager, backend=backend)
    # the ball lands at another step at each speed: each call's path is guarded, traced or run eagerly
    for point in ((speed, angle, 0.01), (12.0, 0.9, 0.01), (speed, angle, 0.01), (20.0, 0.3, 0.0)):
        assert compiled(*point) == eager(*point)


@pytest.mark.parametrize(("m", "e"), [(1.0, 0.1), (0.3, 0.9), (0.05, 0.99), (2.5, 0.6)])
def test_kepler_derivatives_are_the_implicit_function_theorems(m, e):
    kepler = _example("kepler")
    anomaly, gradient = chainrule.value_and_grad(kepler.eccentric_anomaly, (0, 1))(m, e)
    assert anomaly - e * math.sin(anomaly) == pytest.approx(m, abs=1e-14)
    assert gradient == pytest.approx(kepler.implicit_derivatives(m, e), rel=1e-12)


def test_kepler_compiled(backend):
    kepler = _example("kepler")
    both = chainrule.value_and_grad(kepler.eccentric_anomaly, (0, 1))
    compiled = chainrule.jit(both, backend=backend)
    # another number of Newton steps, and another start (e > 0.8), are other paths: each is the engine's
    for point in ((0.3, 0.9), (1.0, 0.1), (0.3, 0.9), (2.5, 0.6), (0.05, 0.99)):
        assert compiled(*point) == both(*point)


@pytest.mark.parametrize("spot", [70.0, 100.0, 140.0])
def test_black_scholes_greeks_are_the_closed_forms(spot, backend):
    bs = _example("black_scholes")
    _, delta, gamma, vega = bs.greeks(spot, 0.3)
    assert (delta, gamma, vega) == pytest.approx(bs.closed_form(spot, 0.3), rel=1e-10)
    both = chainrule.value_and_grad(bs.call_price, (0, 1))
    compiled = chainrule.jit(both, backend=backend)
    for point in ((spot, 0.3), (spot * 0.9, 0.2), (spot, 0.45)):
        assert compiled(*point) == both(*point)


def test_two_link_arm_jacobians_are_inverse_matrices(backend):
    np = pytest.importorskip("numpy")
    arm = _example("two_link_arm")
    for target in ([1.1, 0.6], [0.5, -0.9], [-1.2, 0.3]):
        angles = arm.angles_for(target)
        assert arm.hand(angles) == pytest.approx(target, abs=1e-14)
        inverse, forward = (
            np.array(chainrule.jacobian(arm.angles_for)(target)),
            np.array(chainrule.jacfwd(arm.hand)(angles)),
        )
        assert inverse @ forward == pytest.approx(np.eye(2), abs=1e-12)
        assert forward @ inverse == pytest.approx(np.eye(2), abs=1e-12)
    compiled = chainrule.jit(chainrule.jacobian(arm.angles_for), backend=backend)
    for target in ([1.1, 0.6], [0.5, -0.9], np.array([-1.2, 0.3])):
        eager = chainrule.jacobian(arm.angles_for)(target)
        assert np.array_equal(compiled(target), eager) and type(compiled(target)) is type(eager)


def test_logistic_regression_fitted_with_bfgs(backend):
    np = pytest.importorskip("numpy")
    pytest.importorskip("scipy")
    logistic = _example("logistic_regression")
    features, labels = logistic.points()
    w = np.array([0.4, -1.3, 0.2])
    gradient = chainrule.grad(logistic.loss)(w, features, labels)
    assert gradient == pytest.approx(logistic.closed_form_gradient(w, features, labels), rel=1e-12)
    eager = logistic.fit()
    assert eager.success
    assert np.abs(logistic.closed_form_gradient(eager.x, features, labels)).max() < 1e-5
    compiled = logistic.fit(backend)
    assert compiled.x == pytest.approx(eager.x, abs=1e-12) and compiled.nit == eager.nit


def test_ode_parameters_fitted_with_lbfgsb(backend):
    pytest.importorskip("scipy")
    ode = _example("ode_fit")
    start = [0.3, 20.0]
    gradient = chainrule.grad(ode.loss)(start)
    assert gradient == pytest.approx(numerical_gradient(lambda r, k: ode.loss([r, k]), start), rel=1e-5)
    for compiled in (None, backend):
        result = ode.fit(compiled)
        assert result.success
        assert result.x == pytest.approx([ode.TRUE_RATE, ode.TRUE_CAPACITY], rel=1e-4)
