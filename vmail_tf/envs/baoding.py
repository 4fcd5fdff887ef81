"""Baoding balls: two balls rotated about each other in the palm of a Shadow
Hand, as pixels with the interface of `DMCEnv`.

The hand (20 position actuators, 24 joints, its tendon couplings and contact
pairs) is the MJCF and meshes shipped in the gymnasium-robotics 1.4.2 wheel,
installed with `--no-deps` and read as files only: that package's own Python
envs fail under MuJoCo 3.17. Our scene includes the wheel's `hand/shared.xml`,
`shared_asset.xml` and `robot.xml` by absolute path and adds a floor, two
free balls (radius 2 cm, 40 g), two target markers and a fixed camera; it is
compiled from a string, so nothing is written to disk. Shadows and MSAA are
always off (a 128-px frame costs ~50 ms with shadows in software rendering,
~16 ms without); nothing in the scene reflects, so `fast_render` would
change nothing and is not taken.

The task is PDDM's Baoding (Nagabandi et al. 2019), counter-clockwise seen
from above. Two targets move on a circle of radius R = 2.2 cm (two balls
touching, plus 4 mm) about the centre c of the cupped hand's bowl, over the
knuckles, diametrically opposite, at one turn per 6 s; each starts at its
ball's starting point (-90 and +90 degrees: the balls lie along the fingers).
After each env step (0.1 s, PDDM's control step: 50 physics steps of 2 ms)
at time t,

    g_i(t) = c + R (cos(a_i + 2 pi t / 6), sin(a_i + 2 pi t / 6))
    r = -5 (d_1 + d_2) - 500 [a ball first falls this step],
    d_i = min(|b_i - g_i|, 0.1),

with b_i the balls' horizontal (x, y) positions (metres) and a ball fallen
when its centre is below DROP_HEIGHT, 5 cm under the palm surface. PDDM's
weights: 5 per metre, 500 for a drop. PDDM ends the episode at a drop; here
episodes always run to `time_limit` (random actions drop a ball within about
1 s, and the replay keeps no agent episode shorter than `batch_length`), so
the drop costs 500 once and a fallen ball then costs 0.5 a step: the cap of
10 cm keeps how far it rolls on the floor out of the return.
PDDM's wrist-lift penalty, specific to its hand model, is left out. Holding
the balls still in the cupped pose returns about -55 over 200 steps;
tracking perfectly, 0.

Each reset sets the hand flat with the balls over the bowl (1 mm of seeded
noise) and lets the cupped pose close for 0.5 s, outside the episode.

Actions: 20 values in [-1, 1], mapped linearly to the actuators' ctrlrange
(joint-angle targets). Observations: `image` (the palm and both balls seen
from beyond the fingertips, the targets drawn as small markers so that the
reward is a function of what is seen), proprioception `hand_qpos` and
`hand_qvel` (24 each) and, for state experts, `ball_pos`, `ball_vel` (both
balls, 6 each; positions relative to (c, 0), so z is the height) and
`target` (g_1 - c, g_2 - c).
"""
import importlib.util
import math
import pathlib
from xml.sax.saxutils import quoteattr

import numpy as np

from vmail_tf.envs.actions import to_range
from vmail_tf.envs.render_quality import drop_costly_effects

SUBSTEPS = 50              # physics steps of 2 ms per env step: 0.1 s, PDDM's control step
BALL_RADIUS = 0.02
# The bowl of the cupped hand, over the knuckles (x, y; the fingers point to -y):
# where the balls settle at reset and the scripted expert turns them.
CENTRE = np.array([0.984, 0.840])
PALM_Z = 0.151             # height of the palm surface with the wrist straight
ORBIT_RADIUS = 0.022
START_ANGLES = np.array([-math.pi / 2, math.pi / 2])
PERIOD = 6.0               # seconds per turn (PDDM: 60 control steps of 0.1 s)
DROP_HEIGHT = PALM_Z - 0.05
MAX_DISTANCE = 0.1         # m: a ball this far from its target is off the hand
TRACK_WEIGHT = 5.0
DROP_PENALTY = 500.0
SETTLE_STEPS = 250         # physics steps (0.5 s) the balls settle for at reset
# The hand's position actuators in the model's order (robot0:A_<name>).
ACTUATORS = ('WRJ1', 'WRJ0', 'FFJ3', 'FFJ2', 'FFJ1', 'MFJ3', 'MFJ2', 'MFJ1', 'RFJ3', 'RFJ2',
             'RFJ1', 'LFJ4', 'LFJ3', 'LFJ2', 'LFJ1', 'THJ4', 'THJ3', 'THJ2', 'THJ1', 'THJ0')
# joint-angle targets (rad) of the cupped hand; unnamed actuators at 0
CUP_POSE = {'FFJ2': 0.3, 'MFJ2': 0.3, 'RFJ2': 0.3, 'LFJ2': 0.3,
            'FFJ1': 0.5, 'MFJ1': 0.5, 'RFJ1': 0.5, 'LFJ1': 0.5,
            'THJ4': 1.0, 'THJ3': 1.0, 'THJ1': 0.3, 'THJ0': -0.3}
CAMERA_POS = np.array([1.05, 0.68, 0.32])
CAMERA_LOOKAT = np.array([0.984, 0.84, 0.15])
BALL_COLOURS = ('0.95 0.75 0.2', '0.8 0.25 0.3')


def asset_root():
    """The gymnasium-robotics assets folder, found without importing the
    package (its envs import code that fails under MuJoCo 3.17)."""
    spec = importlib.util.find_spec('gymnasium_robotics')
    if spec is None or spec.origin is None:
        raise RuntimeError(
            'the Baoding env needs the Shadow Hand assets of gymnasium-robotics '
            '1.4.2: run `bash setup.sh`, or `pip install --no-deps '
            'gymnasium-robotics==1.4.2`')
    root = pathlib.Path(spec.origin).parent / 'envs' / 'assets'
    if not (root / 'hand' / 'robot.xml').exists():
        raise RuntimeError(f'{root}/hand/robot.xml is missing: expected the '
                           f'gymnasium-robotics 1.4.2 wheel')
    return root


def camera_axes(pos, lookat):
    """MJCF `xyaxes` of a camera at `pos` looking at `lookat`, level with
    the ground (its x axis horizontal)."""
    forward = (lookat - pos) / np.linalg.norm(lookat - pos)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    return np.concatenate([right, np.cross(right, forward)])


def scene_xml(root):
    """The MJCF of the scene, with the wheel's hand files included by
    absolute path (quoted: the path may hold any character)."""
    hand = root / 'hand'
    balls = []
    for i, angle in enumerate(START_ANGLES):
        x, y = CENTRE + ORBIT_RADIUS * np.array([math.cos(angle), math.sin(angle)])
        balls.append(f"""
    <body name="ball{i}" pos="{x:.4f} {y:.4f} {PALM_Z + BALL_RADIUS + 0.005:.4f}">
      <freejoint name="ball{i}"/>
      <geom name="ball{i}" type="sphere" size="{BALL_RADIUS}" mass="0.04" condim="4"
            friction="1 0.005 0.001" contype="1" conaffinity="1" rgba="{BALL_COLOURS[i]} 1"/>
    </body>
    <body name="target{i}" mocap="true">
      <site name="target{i}" type="sphere" size="0.006" rgba="{BALL_COLOURS[i]} 1"/>
    </body>""")
    axes = ' '.join(f'{v:.4f}' for v in camera_axes(CAMERA_POS, CAMERA_LOOKAT))
    return f"""<mujoco model="baoding">
  <compiler angle="radian" meshdir={quoteattr(str(root / 'stls' / 'hand'))}
            texturedir={quoteattr(str(root / 'textures'))}/>
  <option timestep="0.002" iterations="20"/>
  <include file={quoteattr(str(hand / 'shared.xml'))}/>
  <asset>
    <include file={quoteattr(str(hand / 'shared_asset.xml'))}/>
    <material name="baoding_floor" texture="robot0:texplane" texrepeat="4 4"/>
  </asset>
  <worldbody>
    <geom name="floor" pos="1 1 0" size="1 1 1" type="plane" material="baoding_floor"/>
    <light directional="true" diffuse="0.8 0.8 0.8" specular="0.3 0.3 0.3" pos="0 0 4"
           dir="0 0 -1" castshadow="false"/>
    <include file={quoteattr(str(hand / 'robot.xml'))}/>{''.join(balls)}
    <camera name="palm" pos="{' '.join(map(str, CAMERA_POS))}" xyaxes="{axes}" fovy="45"/>
  </worldbody>
</mujoco>"""


def targets(time):
    """The two targets' (x, y) at `time` seconds into the episode, (2, 2)."""
    angles = START_ANGLES + 2 * math.pi * time / PERIOD
    return CENTRE + ORBIT_RADIUS * np.stack([np.cos(angles), np.sin(angles)], -1)


def baoding_reward(ball_pos, goals, dropped_before):
    """The reward of one step and whether a ball has dropped by its end:
    `ball_pos` (2, 3) world positions, `goals` (2, 2) target (x, y),
    `dropped_before` whether a ball had dropped in an earlier step."""
    distance = np.minimum(np.linalg.norm(ball_pos[:, :2] - goals, axis=-1), MAX_DISTANCE).sum()
    dropped = dropped_before or bool(np.any(ball_pos[:, 2] < DROP_HEIGHT))
    penalty = DROP_PENALTY if dropped and not dropped_before else 0.0
    return float(-TRACK_WEIGHT * distance - penalty), dropped


class BaodingEnv:
    """reset() -> obs; step(a) -> obs, reward, terminated, truncated, info.
    `time_limit` counts env steps of 0.1 s."""

    action_size = len(ACTUATORS)

    def __init__(self, *, action_repeat, time_limit, seed, image_size=None):
        from dm_control import mujoco
        self._physics = mujoco.Physics.from_xml_string(scene_xml(asset_root()))
        model = self._physics.model
        names = tuple(model.id2name(i, 'actuator').removeprefix('robot0:A_')
                      for i in range(model.nu))
        if names != ACTUATORS:  # the expert and the cupped pose rely on this order
            raise RuntimeError(f'{asset_root()}/hand/shared.xml has the actuators '
                               f'{names}, expected {ACTUATORS}')
        self._low, self._high = model.actuator_ctrlrange.T.copy()
        self._cup = np.array([CUP_POSE.get(name, 0.0) for name in ACTUATORS])
        # the action that keeps the reset's cupped pose (and the balls still)
        self.hold_action = (2 * (self._cup - self._low) / (self._high - self._low)
                            - 1).astype(np.float32)
        joints = [i for i in range(model.njnt)
                  if model.id2name(i, 'joint').startswith('robot0:')]
        self._hand_qpos = model.jnt_qposadr[joints]
        self._hand_qvel = model.jnt_dofadr[joints]
        balls = [model.name2id(f'ball{i}', 'joint') for i in range(2)]
        self._ball_qpos = model.jnt_qposadr[balls]
        self._ball_qvel = model.jnt_dofadr[balls]
        self._ball_bodies = [model.name2id(f'ball{i}', 'body') for i in range(2)]
        self._target_mocaps = model.body_mocapid[
            [model.name2id(f'target{i}', 'body') for i in range(2)]]
        self._rng = np.random.default_rng(seed)
        self._repeat, self._limit = action_repeat, time_limit
        self._steps, self._dropped = 0, False
        self._camera = None
        if image_size is not None:
            from dm_control.mujoco import Camera
            drop_costly_effects(model, reflections=True)
            self._camera = Camera(self._physics, image_size, image_size, 'palm')

    @property
    def step_seconds(self):
        """Simulated seconds per agent step."""
        return SUBSTEPS * self._physics.model.opt.timestep * self._repeat

    @property
    def obs_spec(self):
        spec = {'hand_qpos': ((24,), 'float32'), 'hand_qvel': ((24,), 'float32'),
                'ball_pos': ((6,), 'float32'), 'ball_vel': ((6,), 'float32'),
                'target': ((4,), 'float32')}
        if self._camera:
            size = self._camera.height
            spec['image'] = ((size, size, 3), 'uint8')
        return spec

    def _time(self):
        return self._steps * SUBSTEPS * self._physics.model.opt.timestep

    def _ball_positions(self):
        return self._physics.data.xpos[self._ball_bodies].copy()

    def _obs(self):
        data = self._physics.data
        goals = targets(self._time())
        # The markers float above the balls' tops, where the balls cannot hide them.
        data.mocap_pos[self._target_mocaps] = np.concatenate(
            [goals, np.full((2, 1), PALM_Z + 2.5 * BALL_RADIUS)], -1)
        self._physics.forward()  # positions of bodies and markers at the current state
        ball_pos = self._ball_positions() - np.append(CENTRE, 0.0)
        ball_vel = np.stack([data.qvel[i:i + 3] for i in self._ball_qvel])
        obs = {'hand_qpos': data.qpos[self._hand_qpos], 'hand_qvel': data.qvel[self._hand_qvel],
               'ball_pos': ball_pos.reshape(-1), 'ball_vel': ball_vel.reshape(-1),
               'target': (goals - CENTRE).reshape(-1)}
        obs = {k: np.asarray(v, np.float32) for k, v in obs.items()}
        if self._camera:
            obs['image'] = self._camera.render().copy()  # the camera reuses its buffer
        return obs

    def reset(self):
        physics = self._physics
        physics.reset()
        for address in self._ball_qpos:
            physics.data.qpos[address:address + 2] += self._rng.uniform(-1e-3, 1e-3, 2)
        physics.data.ctrl[:] = self._cup
        physics.step(SETTLE_STEPS)
        self._steps, self._dropped = 0, False
        return self._obs()

    def step(self, action):
        self._physics.data.ctrl[:] = to_range(action, self._low, self._high)
        reward = 0.0
        for _ in range(self._repeat):
            self._physics.step(SUBSTEPS)
            self._steps += 1
            step_reward, self._dropped = baoding_reward(
                self._ball_positions(), targets(self._time()), self._dropped)
            reward += step_reward
        return self._obs(), reward, False, self._steps >= self._limit, {}

    def close(self):
        self._camera = None
