"""DeepMind Control tasks as 64x64 pixels with a gymnasium-style interface.

Imported only inside env worker processes: dm_control's Mesa renderer and
TensorFlow crash when loaded into one process (see docs/design.md section 5).
"""
import ctypes.util
import os

import numpy as np

from vmail_tf.envs.actions import to_range
from vmail_tf.envs.render_quality import drop_costly_effects

QUADRUPED_CAMERA = 2


def set_render_backend(backend):
    """Sets MUJOCO_GL before dm_control is imported; egl falls back to osmesa
    when no EGL library is installed. Returns the backend chosen."""
    if backend == 'egl' and not ctypes.util.find_library('EGL'):
        backend = 'osmesa'
    os.environ['MUJOCO_GL'] = backend
    os.environ['PYOPENGL_PLATFORM'] = backend
    return backend


def custom_tasks():
    """Our tasks beside the suite's, as (domain, task) -> a loader with the
    signature of the suite's (time_limit, random, environment_kwargs).
    Imported here, not at the top: they import dm_control."""
    from vmail_tf.envs import reacher_goals, walker_band
    return {('walker', 'walk_band'): walker_band.walk_band,
            **{('reacher', name): load for name, load in reacher_goals.TASKS.items()}}


def split_task(name):
    """'point_mass_easy' -> ('point_mass', 'easy'), using the suite's tasks
    and ours."""
    from dm_control import suite
    tasks = list(suite.ALL_TASKS) + list(custom_tasks())
    domains = sorted({d for d, _ in tasks}, key=len, reverse=True)
    for domain in domains:
        if name.startswith(domain + '_'):
            task = name[len(domain) + 1:]
            if (domain, task) in tasks:
                return domain, task
    known = ', '.join(f'{d}_{t}' for d, t in tasks)
    raise ValueError(f'unknown dm_control task `{name}`; known tasks: {known}')


def load_task(domain, task, seed):
    """The dm_control environment of a suite task or one of ours."""
    from dm_control import suite
    environment_kwargs = {'flat_observation': False}
    loader = custom_tasks().get((domain, task))
    if loader:
        return loader(random=seed, environment_kwargs=environment_kwargs)
    return suite.load(domain, task, task_kwargs={'random': seed},
                      environment_kwargs=environment_kwargs)


class DMCEnv:
    """A dm_control task: reset() -> obs; step(a) -> obs, reward, terminated,
    truncated, info. Observations hold `image` (uint8, `image_size` square;
    none without an `image_size`) and the suite's state vectors as float32;
    actions are in [-1, 1]; rewards are summed over `action_repeat`;
    `time_limit` counts env steps. `camera` -1 is the domain's usual view.
    """

    def __init__(self, name, *, action_repeat, time_limit, seed, image_size=None,
                 camera=-1, fast_render=False):
        from dm_control.mujoco.engine import Camera
        domain, task = split_task(name)
        self._env = load_task(domain, task, seed)
        self._physics = self._env.physics
        spec = self._env.action_spec()
        self._low, self._high = spec.minimum, spec.maximum
        self.action_size = int(spec.shape[0])
        self._repeat = action_repeat
        self._limit = time_limit
        self._steps = 0
        self._camera = None
        if image_size is None:
            return
        if camera < 0:
            camera = QUADRUPED_CAMERA if domain == 'quadruped' else 0
        if fast_render:
            drop_costly_effects(self._physics.model)
        self._camera = Camera(self._physics, image_size, image_size, camera)

    @property
    def physics(self):
        """The simulator's physics, for measurements a return does not show
        (e.g. a walker's speed)."""
        return self._physics

    @property
    def step_seconds(self):
        """Simulated seconds per agent step."""
        return self._env.control_timestep() * self._repeat

    @property
    def obs_spec(self):
        spec = {}
        if self._camera:
            spec['image'] = ((self._camera.height, self._camera.width, 3), 'uint8')
        for key, value in self._env.observation_spec().items():
            spec[key] = (tuple(value.shape) or (1,), 'float32')
        return spec

    def _obs(self, timestep):
        obs = {k: np.asarray(v, np.float32).reshape(-1)
               for k, v in timestep.observation.items()}
        if self._camera:
            obs['image'] = self._camera.render()
        return obs

    def reset(self):
        self._steps = 0
        return self._obs(self._env.reset())

    def step(self, action):
        scaled = to_range(action, self._low, self._high)
        reward = 0.0
        terminated = False
        for _ in range(self._repeat):
            timestep = self._env.step(scaled)
            reward += timestep.reward or 0.0
            self._steps += 1
            if timestep.last():
                terminated = timestep.discount == 0
                break
        truncated = not terminated and (
            self._steps >= self._limit or timestep.last())
        return self._obs(timestep), reward, terminated, truncated, {}

    def close(self):
        self._env.close()
