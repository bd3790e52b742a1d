"""A projectile with air drag: its range and the range's gradient, by stepping the motion until it lands.

The ball leaves the ground at `speed` (m/s) and `angle` (radians) and feels gravity and a drag
-k·|v|·v (k = `drag`, per metre). Semi-implicit Euler steps of `dt` seconds run until the ball is below
the ground, then the landing point is interpolated between the last two positions (an early return).
Without drag the range is v²·sin(2θ)/g, and its slope in θ is 2v²·cos(2θ)/g: the test checks both.

Run: python examples/projectile.py
"""

from __future__ import annotations

import chainrule
import chainrule.math as cm

GRAVITY = 9.81


def flight_range(speed, angle, drag=0.0, dt=1e-3, max_steps=100_000):
    """Where the ball lands: x at the step where y crosses 0, linearly interpolated."""
    x, y = 0.0 * speed, 0.0 * speed
    vx, vy = speed * cm.cos(angle), speed * cm.sin(angle)
    for _ in range(max_steps):
        air = drag * cm.sqrt(vx * vx + vy * vy)
        vx = vx - air * vx * dt
        vy = vy - (GRAVITY + air * vy) * dt
        x_next, y_next = x + vx * dt, y + vy * dt
        if y_next < 0:
            return x + (x_next - x) * y / (y - y_next)  # landed: where the chord meets y = 0
        x, y = x_next, y_next
    raise RuntimeError("the ball did not land within max_steps")


def main() -> None:
    speed, angle = 30.0, 0.6
    for drag in (0.0, 0.01):
        distance, (d_speed, d_angle) = chainrule.value_and_grad(flight_range, (0, 1))(speed, angle, drag)
        print(f"drag {drag}: range {distance:.3f} m, d/dspeed {d_speed:.4f} s, d/dangle {d_angle:.3f} m/rad")
    print(f"no drag, closed form: {speed**2 * cm.sin(2 * angle) / GRAVITY:.3f} m")


if __name__ == "__main__":
    main()
