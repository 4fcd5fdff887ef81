"""Scripted cartpole swing-up expert on the true state (numpy only).

Far from upright it pumps energy into the pole (energy shaping, with a spring
that keeps the cart near the centre); near upright it balances with a linear
state-feedback gain. The gains are discrete-time LQR solutions (Q = diag(1,
30, 1, 1) on [x, angle, x_dot, angle_dot], R = 1) for the dm_control model
linearised at the upright pose, one per control period (action repeat x 10 ms).
"""
import numpy as np

LQR_GAINS = {
    1: np.array([-0.883, -10.853, -1.59, -2.648]),
    2: np.array([-0.781, -9.799, -1.41, -2.395]),
    4: np.array([-0.613, -8.066, -1.114, -1.979]),
    8: np.array([-0.388, -5.728, -0.719, -1.416]),
}
POLE_MASS, POLE_HALF_LENGTH, GRAVITY = 0.1, 0.5, 9.81
POLE_INERTIA = POLE_MASS * (2 * POLE_HALF_LENGTH) ** 2 / 3


class CartpoleSwingup:
    """Acts on the `position` (cart x, cos, sin) and `velocity` (cart v,
    angular v) observations of dm_control's cartpole."""

    def __init__(self, action_repeat, energy_gain=10.0, centre_gain=1.0,
                 balance_cosine=0.7):
        if action_repeat not in LQR_GAINS:
            raise ValueError(
                f'cartpole expert has gains for action_repeat in '
                f'{sorted(LQR_GAINS)}, not {action_repeat}')
        self.gain = LQR_GAINS[action_repeat]
        self.energy_gain = energy_gain
        self.centre_gain = centre_gain
        self.balance_cosine = balance_cosine

    def __call__(self, obs):
        x, cos, sin = obs['position']
        x_dot, angle_dot = obs['velocity']
        angle = np.arctan2(sin, cos)
        if cos > self.balance_cosine:
            action = -self.gain @ np.array([x, angle, x_dot, angle_dot])
        else:
            energy = (0.5 * POLE_INERTIA * angle_dot ** 2
                      + POLE_MASS * GRAVITY * POLE_HALF_LENGTH * (cos - 1))
            action = (self.energy_gain * energy * angle_dot * cos
                      - self.centre_gain * (x + 0.5 * x_dot))
        return np.clip(np.array([action], np.float32), -1, 1)
