"""Scripted experts on true states for dm_control's point_mass and reacher
(numpy only): proportional-derivative control towards the target."""
import numpy as np

REACHER_LINKS = (0.12, 0.12)  # shoulder-to-wrist, wrist-to-finger (reacher.xml)


class PointMassToTarget:
    """Pushes the point mass to the target at the origin: a = -kp x - kd v."""

    def __init__(self, kp=50.0, kd=5.0):
        self.kp, self.kd = kp, kd

    def __call__(self, obs):
        action = -self.kp * obs['position'] - self.kd * obs['velocity']
        return np.clip(action, -1, 1).astype(np.float32)


class ReacherToTarget:
    """Moves the finger to the target: joint torques J^T (kp e) - kd q_dot,
    where e is the finger-to-target vector and J the arm's Jacobian."""

    def __init__(self, kp=200.0, kd=0.1):
        self.kp, self.kd = kp, kd

    def __call__(self, obs):
        q1, q2 = obs['position']
        l1, l2 = REACHER_LINKS
        s1, c1 = np.sin(q1), np.cos(q1)
        s12, c12 = np.sin(q1 + q2), np.cos(q1 + q2)
        jacobian = np.array([[-l1 * s1 - l2 * s12, -l2 * s12],
                             [l1 * c1 + l2 * c12, l2 * c12]])
        torque = jacobian.T @ (self.kp * obs['to_target']) - self.kd * obs['velocity']
        return np.clip(torque, -1, 1).astype(np.float32)
