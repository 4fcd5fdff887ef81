"""A scripted Baoding expert (numpy only): an open-loop periodic hand motion.

Every actuator follows a sinusoid, action_j = centre_j + amplitude_j *
sin(psi + phase_j), clipped to [-1, 1], with one hand cycle psi per half turn
of the targets (3 s: after half a turn the balls have swapped places). The
cycle is read from the observed targets, whose angle advances at the task's
rate, so the expert needs no clock and acts on any observation of the env.
The 60 numbers were found by CMA-ES in simulation from the reset's cupped
pose: first on how far the ball pair turns counter-clockwise without a drop,
then on the env's return, over three seeds each.

It turns the balls counter-clockwise about 2.2 times in a 20 s episode (the
targets turn 3.3 times), in half turns (a quick swap, then a pause), and
never drops them: return about -43.5, against about -55 for holding the
balls still and below -500 for random actions, which drop a ball within a
second (results/baoding/expert.json).
"""
import math

import numpy as np

from vmail_tf.envs.baoding import ACTUATORS, START_ANGLES

# actuator -> (centre, amplitude) in action units, phase in radians
MOTION = {
    'WRJ1': (0.868, 0.210, 3.668),
    'WRJ0': (0.063, 0.298, 5.320),
    'FFJ3': (0.311, 0.978, 0.171),
    'FFJ2': (-0.984, 1.061, 1.914),
    'FFJ1': (0.143, 0.130, 4.920),
    'MFJ3': (-0.413, 0.266, 0.350),
    'MFJ2': (-1.512, 0.713, 1.490),
    'MFJ1': (0.062, 0.404, 2.652),
    'RFJ3': (-0.987, 0.649, 0.012),
    'RFJ2': (-1.104, 0.101, 0.157),
    'RFJ1': (-0.726, 0.062, 2.480),
    'LFJ4': (-1.255, 0.409, 5.543),
    'LFJ3': (0.250, 0.308, 0.119),
    'LFJ2': (-0.932, 1.399, 1.826),
    'LFJ1': (-0.419, 0.333, 1.755),
    'THJ4': (0.468, 0.596, 6.254),
    'THJ3': (-0.324, 0.842, 2.465),
    'THJ2': (-0.290, 0.743, 1.855),
    'THJ1': (0.690, 1.233, 3.367),
    'THJ0': (1.761, 0.004, 1.985),
}


class BaodingExpert:
    """expert(obs) -> action, from the observation's `target` alone."""

    def __init__(self):
        self.centre, self.amplitude, self.phase = np.array(
            [MOTION[name] for name in ACTUATORS]).T

    def __call__(self, obs):
        first = np.asarray(obs['target'], np.float64)[:2]  # the first ball's target
        turned = math.atan2(first[1], first[0]) - START_ANGLES[0]
        cycle = 2 * turned  # a half turn of the targets is one hand cycle
        action = self.centre + self.amplitude * np.sin(cycle + self.phase)
        return np.clip(action, -1, 1).astype(np.float32)
