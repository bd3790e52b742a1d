"""A two-link arm: the angles that put its hand on a target (inverse kinematics), and their Jacobian.

Links of lengths 1.0 and 0.7 turn at the shoulder (angle a) and the elbow (b); the hand is at
(cos a + 0.7·cos(a+b), sin a + 0.7·sin(a+b)). The inverse puts the elbow by the law of cosines and the
shoulder with atan2. The Jacobian of the inverse, by chainrule.jacobian, is the inverse matrix of the
hand's Jacobian (by chainrule.jacfwd) at the angles it found: the test checks both products are I.

Run: python examples/two_link_arm.py
"""

from __future__ import annotations

import chainrule
import chainrule.math as cm

UPPER, FORE = 1.0, 0.7


def hand(angles):
    """Forward kinematics: where the hand is for shoulder and elbow angles."""
    a, b = angles
    return [UPPER * cm.cos(a) + FORE * cm.cos(a + b), UPPER * cm.sin(a) + FORE * cm.sin(a + b)]


def angles_for(target):
    """Inverse kinematics, elbow down: the (shoulder, elbow) angles that put the hand on target."""
    x, y = target
    cos_elbow = (x * x + y * y - UPPER**2 - FORE**2) / (2 * UPPER * FORE)
    elbow = cm.acos(cos_elbow)
    shoulder = cm.atan2(y, x) - cm.atan2(FORE * cm.sin(elbow), UPPER + FORE * cm.cos(elbow))
    return [shoulder, elbow]


def main() -> None:
    target = [1.1, 0.6]
    angles = angles_for(target)
    print("angles", angles, "hand back at", hand(angles))
    print("d(angles)/d(target)", chainrule.jacobian(angles_for)(target))
    print("d(hand)/d(angles)  ", chainrule.jacfwd(hand)(angles))


if __name__ == "__main__":
    main()
