"""The agent's actions in [-1, 1], mapped onto an env's actuator ranges."""
import numpy as np


def to_range(action, low, high):
    """`action` (checked against the shape of `low`, clipped to [-1, 1])
    mapped linearly onto [low, high]."""
    action = np.asarray(action, np.float64)
    if action.shape != np.shape(low):
        raise ValueError(f'action has shape {action.shape}, expected {np.shape(low)}')
    return low + (np.clip(action, -1, 1) + 1) / 2 * (high - low)
