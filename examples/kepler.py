"""Kepler's equation E − e·sin E = M by Newton's method, and its derivatives through the iterations.

The eccentric anomaly E of an orbit of eccentricity e at mean anomaly M solves E − e·sin E = M. Newton's
steps E ← E − (E − e·sin E − M)/(1 − e·cos E) run until a step is below 1e-15. Differentiating the
iterations gives what the implicit-function theorem says of the solution: ∂E/∂M = 1/(1 − e·cos E) and
∂E/∂e = sin E/(1 − e·cos E) (the test checks both, at e up to 0.99).

Run: python examples/kepler.py
"""

from __future__ import annotations

import chainrule
import chainrule.math as cm

TOLERANCE = 1e-15


def eccentric_anomaly(mean_anomaly, eccentricity, max_steps=100):
    """E with E − e·sin E = M, by Newton from E = M (from π when e > 0.8, where M is a poor start)."""
    e, m = eccentricity, mean_anomaly
    anomaly = m if e <= 0.8 else cm.pi
    for _ in range(max_steps):
        step = (anomaly - e * cm.sin(anomaly) - m) / (1 - e * cm.cos(anomaly))
        anomaly = anomaly - step
        if abs(step) < TOLERANCE:
            return anomaly
    raise RuntimeError(f"Newton did not converge in {max_steps} steps")


def implicit_derivatives(mean_anomaly, eccentricity):
    """(∂E/∂M, ∂E/∂e) from the implicit-function theorem at the solution, in floats."""
    anomaly = eccentric_anomaly(chainrule.Value(mean_anomaly), chainrule.Value(eccentricity)).data
    slope = 1 - eccentricity * cm.cos(anomaly)
    return 1 / slope, cm.sin(anomaly) / slope


def main() -> None:
    for m, e in ((1.0, 0.1), (0.3, 0.9), (0.05, 0.99)):
        anomaly, (d_m, d_e) = chainrule.value_and_grad(eccentric_anomaly, (0, 1))(m, e)
        by_theorem = implicit_derivatives(m, e)
        print(
            f"M={m} e={e}: E={anomaly:.12f}, dE/dM={d_m:.10f} ({by_theorem[0]:.10f}), "
            f"dE/de={d_e:.10f} ({by_theorem[1]:.10f})"
        )


if __name__ == "__main__":
    main()
