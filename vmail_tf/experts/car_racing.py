"""A scripted expert for Car Racing (numpy only): a Stanley controller on
the track's centre line, which the env exposes in the car's frame
(`track_ahead`), with a target speed that drops before sharp turns."""
import math

import numpy as np


class TrackFollower:
    """Steering: the track's heading relative to the car plus a term that
    pulls the car back onto the centre line (Stanley's rule), damped by the
    car's yaw rate. Speed: `fast` on straights, down to `slow` where the track
    turns by `sharp` radians within the next `preview` waypoints."""

    def __init__(self, fast=65.0, slow=30.0, preview=12, sharp=1.0, gain=3.0,
                 yaw_damping=0.2):
        self.fast, self.slow, self.preview, self.sharp = fast, slow, preview, sharp
        self.gain, self.yaw_damping = gain, yaw_damping

    def __call__(self, obs):
        ahead = obs['track_ahead'].reshape(-1, 2)  # (lateral, forward) per waypoint
        speed = float(np.hypot(*obs['car'][3:5]))
        direction = ahead[2] - ahead[0]
        heading = math.atan2(direction[0], direction[1])
        # signed distance of the centre line from the car, across the track
        cross = (ahead[0][0] * direction[1] - ahead[0][1] * direction[0]) / max(
            np.linalg.norm(direction), 1e-6)
        angle = heading + math.atan2(self.gain * cross, speed + 5.0)
        # a right turn has a negative yaw rate
        steer = float(np.clip(angle / 0.5 + self.yaw_damping * obs['car'][5], -1, 1))
        segments = np.diff(ahead[:self.preview + 1], axis=0)
        bends = np.abs(np.arctan2(segments[:, 0], segments[:, 1]) - heading)
        turn = float(np.max(np.minimum(bends, 2 * math.pi - bends)))
        target = self.fast - (self.fast - self.slow) * min(turn / self.sharp, 1.0)
        gas = 1.0 if speed < target else -1.0
        brake = 0.6 if speed > target + 10 else -1.0
        return np.array([steer, gas, brake], np.float32)
