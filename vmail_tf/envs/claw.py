"""ROBEL's D'Claw turning a valve, as pixels with the interface of `DMCEnv`.

The robot, its action mapping (joint-position targets, speed-limited) and
the scenes are ROBEL's (`robel` 0.1.2, its `DClawScrewFixed` env on
dm_control's MuJoCo); the task is the paper's: turn a 3- or 4-prong valve
clockwise or counter-clockwise, rewarded by

    r = -||q_claw - q_rest|| - ||fast joint velocities|| + 5 * direction * valve angular velocity,

the pose and velocity penalties being ROBEL's own terms. ROBEL's moving
goal marker is hidden and its goal-based reward unused. ROBEL's valve
hinge stops after one turn each way, which caps what turning can earn in an
episode; the screw task turns it continuously, so the scene copy below frees
it (as the paper's authors' own valve scenes do). Three adaptations
to ROBEL on current Python and MuJoCo, none inside the installed package:
its scene XMLs carry an `<?xml?>` declaration after their licence comment,
which MuJoCo refuses, so a copy without it is made once under `asset_cache`;
`collections.Mapping` (gone since Python 3.10) is aliased for its space
construction; and shadows and anti-aliasing are turned off before the first
render (with them a 128-px frame takes hundreds of milliseconds in software
rendering); `fast_render` also drops the floor's reflection.

Observations: `image` (a camera looking down at the valve) and, for state
experts only, `claw_qpos`, `claw_qvel` (9 each), `valve` (cos, sin of its
angle) and `valve_velocity`.
"""
import collections
import collections.abc
import math
import os
import pathlib
import re
import shutil
import tempfile
import warnings

import numpy as np

from vmail_tf.envs.render_quality import drop_costly_effects

VARIANTS = {  # task name -> (scene file, direction: +1 counter-clockwise seen from above)
    'claw_valve3_ccw': ('dclaw3xh_valve3_v0.xml', 1.0),
    'claw_valve3_cw': ('dclaw3xh_valve3_v0.xml', -1.0),
    'claw_valve4_ccw': ('dclaw3xh_valve4_v0.xml', 1.0),
    'claw_valve4_cw': ('dclaw3xh_valve4_v0.xml', -1.0),
}
REST_POSE = np.array([0.0, -math.pi / 3, math.pi / 3] * 3)  # ROBEL's nominal claw pose
FAST_JOINT = 0.5         # rad/s: slower joints are not penalised (ROBEL's rule)
VALVE_WEIGHT = 5.0
_DECLARATION = re.compile(r'<\?xml[^>]*\?>\s*')
_LIMITED_VALVE = re.compile(r'(<joint name="valve_OBJRx"[^>]*limited=")true(")')
VALVE_FILES = ('valve3.xml', 'valve4.xml')  # in robel-scenes/dclaw_stations/assets


def prepare_scenes(cache):
    """A copy of ROBEL's D'Claw scenes under `cache` that MuJoCo can load:
    the XML files without their declaration (meshes and textures linked),
    plus a 4-prong-valve scene using the `valve4.xml` ROBEL's scene set ships.
    Made atomically (several env workers may start together), and made again
    when a link no longer resolves: the links point into the Python
    environment that made the copy, which may since have been removed."""
    import importlib.metadata

    import robel
    version = importlib.metadata.version('robel')
    target = pathlib.Path(cache).expanduser() / f'robel-{version}'
    if _scenes_complete(target):
        return target
    source = pathlib.Path(robel.__file__).parent
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(dir=target.parent, prefix='.staging-'))
    for sub in ('dclaw/assets', 'robel-scenes'):
        for path in (source / sub).rglob('*'):
            copy = staging / path.relative_to(source)
            if path.is_dir():
                copy.mkdir(parents=True, exist_ok=True)
            elif path.suffix == '.xml':
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_text(_LIMITED_VALVE.sub(r'\1false\2',
                                                   _DECLARATION.sub('', path.read_text())))
            else:
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.symlink_to(path)
    assets = staging / 'dclaw' / 'assets'
    three = (assets / VARIANTS['claw_valve3_cw'][0]).read_text()
    (assets / VARIANTS['claw_valve4_cw'][0]).write_text(
        three.replace('assets/valve3.xml', 'assets/valve4.xml'))
    if target.exists():  # a stale copy: move it aside, then remove it
        stale = pathlib.Path(tempfile.mkdtemp(dir=target.parent, prefix='.stale-'))
        try:
            target.rename(stale / target.name)
        except OSError:  # another worker moved it first
            pass
        shutil.rmtree(stale, ignore_errors=True)
    try:
        staging.rename(target)
    except OSError:  # another worker finished first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _scenes_complete(target):
    """Whether `target` holds the 4-prong scene and free valves, and every link resolves."""
    valves = [target / 'robel-scenes' / 'dclaw_stations' / 'assets' / name for name in VALVE_FILES]
    return ((target / 'dclaw' / 'assets' / VARIANTS['claw_valve4_cw'][0]).exists()
            and all(v.exists() and not _LIMITED_VALVE.search(v.read_text()) for v in valves)
            and all(path.exists() for path in target.rglob('*')))


def valve_reward(claw_qpos, claw_qvel, valve_velocity, direction):
    """The paper's D'Claw reward for one step."""
    fast = claw_qvel[np.abs(claw_qvel) >= FAST_JOINT]
    return float(-np.linalg.norm(claw_qpos - REST_POSE) - np.linalg.norm(fast)
                 + VALVE_WEIGHT * direction * valve_velocity)


class ClawEnv:
    """reset() -> obs; step(a) -> obs, reward, terminated, truncated, info.
    Actions: 9 joint-position targets in [-1, 1] (ROBEL's mapping); one env
    step is ROBEL's 0.1 s control step."""

    action_size = 9

    def __init__(self, task, *, action_repeat, time_limit, seed, image_size=None,
                 fast_render=False, asset_cache='~/.cache/vmail_tf/robel'):
        if task not in VARIANTS:
            raise ValueError(f"unknown D'Claw task `{task}`; expected one of "
                             f"{', '.join(VARIANTS)}")
        if not hasattr(collections, 'Mapping'):
            collections.Mapping = collections.abc.Mapping
        import robel
        from robel.dclaw.screw import DClawScrewFixed
        from robel.simulation.sim_scene import SimBackend
        scene, self._direction = VARIANTS[task]
        path = prepare_scenes(asset_cache) / 'dclaw' / 'assets' / scene
        # ROBEL resolves asset paths below its package directory only.
        relative = os.path.relpath(path, pathlib.Path(robel.__file__).parent)
        with warnings.catch_warnings():  # ROBEL loads dm_control's viewer, which wants a display
            warnings.filterwarnings('ignore', message='.*DISPLAY.*')
            self._env = DClawScrewFixed(sim_backend=SimBackend.DM_CONTROL,
                                        asset_path=f'robel/{relative}')
        self._env.seed(seed)
        self._physics = self._env.sim
        self._repeat, self._limit, self._steps = action_repeat, time_limit, 0
        model = self._physics.model
        marker = model.name2id('target', 'body')  # ROBEL's goal marker: hidden
        model.geom_rgba[model.geom_bodyid == marker, 3] = 0
        model.site_rgba[model.site_bodyid == marker, 3] = 0
        self._camera = None
        if image_size is not None:
            from dm_control.mujoco import MovableCamera
            drop_costly_effects(model, reflections=not fast_render)
            self._camera = MovableCamera(self._physics, image_size, image_size)
            self._camera.set_pose(lookat=np.array([0.0, 0.0, 0.08]), distance=0.3,
                                  azimuth=90, elevation=-90)

    @property
    def step_seconds(self):
        """Simulated seconds per agent step."""
        return self._env.dt * self._repeat

    @property
    def obs_spec(self):
        spec = {'claw_qpos': ((9,), 'float32'), 'claw_qvel': ((9,), 'float32'),
                'valve': ((2,), 'float32'), 'valve_velocity': ((1,), 'float32')}
        if self._camera:
            size = self._camera.height
            spec['image'] = ((size, size, 3), 'uint8')
        return spec

    def _obs(self):
        state = self._env.get_obs_dict()
        obs = {'claw_qpos': state['claw_qpos'], 'claw_qvel': state['claw_qvel'],
               'valve': np.concatenate([np.atleast_1d(state['object_x']),
                                        np.atleast_1d(state['object_y'])]),
               'valve_velocity': np.atleast_1d(state['object_qvel'])}
        obs = {k: np.asarray(v, np.float32) for k, v in obs.items()}
        if self._camera:
            obs['image'] = self._camera.render().copy()  # the camera reuses its buffer
        return obs

    def reset(self):
        self._env.reset()
        self._steps = 0
        return self._obs()

    def step(self, action):
        action = np.asarray(action, np.float64)
        if action.shape != (9,):
            raise ValueError(f'action has shape {action.shape}, expected (9,)')
        reward = 0.0
        for _ in range(self._repeat):
            self._env.step(np.clip(action, -1, 1))
            state = self._env.get_obs_dict()
            reward += valve_reward(state['claw_qpos'], state['claw_qvel'],
                                   float(np.squeeze(state['object_qvel'])), self._direction)
            self._steps += 1
        return self._obs(), reward, False, self._steps >= self._limit, {}

    def close(self):
        self._camera = None
