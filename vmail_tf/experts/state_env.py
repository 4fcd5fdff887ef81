"""dm_control tasks on true states, with no renderer: for training experts.

Sets MUJOCO_GL=disable before dm_control is imported, so TensorFlow can share
the process (only the renderer clashes with it).
"""
import os
import sys

import numpy as np


def flatten_state(obs):
    """The state vector of an observation dict: every key but `image`, in
    sorted order, flattened. Pixel-env observations give the same vector."""
    return np.concatenate([np.asarray(obs[k], np.float32).reshape(-1)
                           for k in sorted(obs) if k != 'image'])


class StateEnv:
    """reset() -> obs; step(a) -> obs, reward, terminated, truncated, where
    obs is the suite's dict of state vectors (flatten_state makes it one).
    Actions in [-1, 1]; rewards summed over `action_repeat`."""

    def __init__(self, task, action_repeat=2, time_limit=1000, seed=0):
        if 'dm_control' in sys.modules and os.environ.get('MUJOCO_GL') != 'disable':
            raise RuntimeError(
                'dm_control was imported with a renderer before StateEnv; '
                'TensorFlow and the renderer cannot share a process')
        os.environ['MUJOCO_GL'] = 'disable'
        from dm_control import suite
        from vmail_tf.envs.dmc import split_task
        suite_name, _, name = task.partition('_')
        if suite_name != 'dmc':
            raise ValueError(f'state experts support dmc tasks only, not `{task}`')
        domain, task_name = split_task(name)
        self._env = suite.load(domain, task_name, task_kwargs={'random': seed},
                               environment_kwargs={'flat_observation': False})
        spec = self._env.action_spec()
        self._low, self._high = spec.minimum, spec.maximum
        self.action_size = int(spec.shape[0])
        self.obs_size = int(sum(np.prod(v.shape) or 1
                                for v in self._env.observation_spec().values()))
        self._repeat, self._limit, self._steps = action_repeat, time_limit, 0

    @staticmethod
    def _obs(timestep):
        return {k: np.asarray(v, np.float32).reshape(-1) for k, v in timestep.observation.items()}

    def reset(self):
        self._steps = 0
        return self._obs(self._env.reset())

    def step(self, action):
        action = np.clip(np.asarray(action, np.float64), -1, 1)
        scaled = self._low + (action + 1) / 2 * (self._high - self._low)
        reward, terminated = 0.0, False
        for _ in range(self._repeat):
            timestep = self._env.step(scaled)
            reward += timestep.reward or 0.0
            self._steps += 1
            if timestep.last():
                terminated = timestep.discount == 0
                break
        truncated = not terminated and (self._steps >= self._limit or timestep.last())
        return self._obs(timestep), reward, terminated, truncated
