"""gymnasium's CarRacing-v3 as 64- or 128-px pixels with the interface of `DMCEnv`.

- The ~1 s zoom-in animation at reset (50 frames at 50 FPS) is skipped with
  no-op steps that earn no reward and do not count toward `time_limit`.
- The HUD bar at the bottom (score digits, speed, ABS, steering and gyro
  bars) is blacked out, so that a discriminator cannot read the score.
- The 96x96 frame is area-averaged to 64x64 (exactly: each output pixel
  covers 1.5 x 1.5 input pixels) or to 128x128 (0.75 x 0.75), the two
  sizes the networks take.
- Actions in [-1, 1]^3 map to steering [-1, 1], gas and brake [0, 1].
- Besides `image`, observations carry the car's state and the track ahead in
  the car's frame (`car`, `track_ahead`): the scripted expert reads them;
  the agent sees only `image`.
"""
import math

import numpy as np

ZOOM_FRAMES = 50  # the zoom animation lasts 1 s at 50 FPS
HUD_ROWS = 12     # the bottom 5/40 of the 96-row frame
TRACK_AHEAD = 20  # waypoints of the track ahead given to the expert


# output size -> the integer upsampling after which 3x3 blocks give it from 96 px
UPSAMPLING = {64: 2, 128: 4}


def resize(frame, size):
    """(96, 96, 3) uint8 -> (size, size, 3): the mean over each output pixel's
    input area, 96 / size pixels wide (upsample, then 3x3 block means)."""
    factor = UPSAMPLING[size]
    upsampled = frame.repeat(factor, 0).repeat(factor, 1).astype(np.float32)
    blocks = upsampled.reshape(size, 3, size, 3, 3).mean((1, 3))
    return np.round(blocks).astype(np.uint8)


def to_car_frame(points, position, angle):
    """World points (N, 2) as (lateral, forward) coordinates of a car at
    `position` heading `angle` (Box2D: the car's nose is its local +y)."""
    forward = np.array([-math.sin(angle), math.cos(angle)])
    right = np.array([math.cos(angle), math.sin(angle)])
    offset = points - np.asarray(position)
    return np.stack([offset @ right, offset @ forward], -1)


class CarRacingEnv:
    """reset() -> obs; step(a) -> obs, reward, terminated, truncated, info."""

    action_size = 3

    def __init__(self, *, action_repeat, image_size, time_limit, seed):
        if image_size not in UPSAMPLING:
            raise ValueError(f'car racing renders 64 or 128 px images; got image_size {image_size}')
        from gymnasium.envs.box2d.car_racing import CarRacing
        self._env = CarRacing(continuous=True)
        self._repeat, self._limit, self._size = action_repeat, time_limit, image_size
        self._seed = seed
        self._steps = 0

    @property
    def step_seconds(self):
        """Simulated seconds per agent step."""
        from gymnasium.envs.box2d.car_racing import FPS
        return self._repeat / FPS

    @property
    def obs_spec(self):
        return {'image': ((self._size, self._size, 3), 'uint8'), 'car': ((6,), 'float32'),
                'track_ahead': ((2 * TRACK_AHEAD,), 'float32')}

    def _obs(self, frame):
        frame = frame.copy()
        frame[-HUD_ROWS:] = 0
        env = self._env.unwrapped if hasattr(self._env, 'unwrapped') else self._env
        hull = env.car.hull
        track = np.array([point[2:4] for point in env.track])
        nearest = int(np.argmin(np.sum((track - np.asarray(hull.position)) ** 2, -1)))
        ahead = track[(nearest + 1 + np.arange(TRACK_AHEAD)) % len(track)]
        velocity = to_car_frame(np.asarray(hull.linearVelocity)[None], (0.0, 0.0), hull.angle)[0]
        car = [hull.position[0], hull.position[1], hull.angle, velocity[0], velocity[1],
               hull.angularVelocity]
        return {'image': resize(frame, self._size), 'car': np.array(car, np.float32),
                'track_ahead': to_car_frame(ahead, hull.position, hull.angle)
                .reshape(-1).astype(np.float32)}

    def reset(self):
        seed, self._seed = self._seed, None  # seed the first reset only
        frame, _ = self._env.reset(seed=seed)
        for _ in range(ZOOM_FRAMES - 1):
            frame = self._env.step(None)[0]
        self._steps = 0
        return self._obs(frame)

    def step(self, action):
        action = np.asarray(action, np.float64)
        if action.shape != (3,):
            raise ValueError(f'action has shape {action.shape}, expected (3,)')
        action = np.clip(action, -1, 1)
        control = np.array([action[0], (action[1] + 1) / 2, (action[2] + 1) / 2])
        reward, terminated = 0.0, False
        for _ in range(self._repeat):
            frame, step_reward, terminated, _, _ = self._env.step(control)
            reward += step_reward
            self._steps += 1
            if terminated:
                break
        truncated = not terminated and self._steps >= self._limit
        return self._obs(frame), reward, terminated, truncated, {}

    def close(self):
        self._env.close()
