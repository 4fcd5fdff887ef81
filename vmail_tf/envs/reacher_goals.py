"""Reacher "reach a fixed, unseen goal": a family of dm_control tasks for the
paper's transfer experiment on the reacher (docs/design.md section 9).

`reacher_goal0` .. `reacher_goal3` are the suite's reacher easy except for
the target: it sits at one fixed point per task instead of a random one per
episode, and it is not drawn. The tasks then differ only in which point the
demonstrations move the finger to, as the paper's walker speed and claw
direction tasks differ only in what the demos do; a world model learned on
goals 0-2 knows the arm's dynamics and the (identical) scene, and a new goal
has to be learned from its demos. Everything else is the suite's: model,
observations (`position`, `to_target`, `velocity`, so the scripted
ReacherToTarget expert works unchanged), random arm start, timing (the
physics step of 0.02 s as control step, 20 s = 1000 steps) and reward.

Imports dm_control: import it only where MUJOCO_GL is already set (see
vmail_tf/envs/dmc.py).
"""
import numpy as np
from dm_control.rl import control
from dm_control.suite import reacher

# Distance (m) of every goal from the shoulder. The arm reaches 0.24 m (two
# 0.12 m links); at 0.15 m the wrist bends about 103 degrees, far from both
# the straight arm (where the Jacobian is singular and a J^T controller
# stalls) and the wrist's 160 degree limit. It lies inside the suite's
# target radii (0.05-0.20), and neighbouring goals (90 degrees apart) are
# 0.21 m apart, more than twice the rewarded radius of 0.06 m, so no finger
# position is rewarded by two tasks.
GOAL_RADIUS = 0.15
# Goal directions in degrees, counter-clockwise from the +x axis (the
# top-down camera's right): goal0 right, goal1 up, goal2 left, goal3 down.
GOAL_ANGLES = (0.0, 90.0, 180.0, 270.0)
# The suite's "easy" target radius: with the finger's 0.01 m, reward 1
# within 0.06 m of the goal, 0 elsewhere.
TARGET_SIZE = reacher._BIG_TARGET


def goal_position(index, radius=GOAL_RADIUS):
    """The (x, y) of goal `index` in metres, in the arm's plane."""
    angle = np.deg2rad(GOAL_ANGLES[index])
    # Rounded so that 90, 180, 270 degrees give exact zeros, not 1e-17.
    return np.round(radius * np.array([np.cos(angle), np.sin(angle)]), 12)


class FixedGoalReacher(reacher.Reacher):
    """The suite's Reacher with the target fixed at `goal` (x, y) and hidden
    from the cameras. Reward, observations and the arm's random start are
    the suite's."""

    def __init__(self, goal, target_size=TARGET_SIZE, random=None):
        super().__init__(target_size=target_size, random=random)
        self._goal = np.asarray(goal, np.float64)

    def initialize_episode(self, physics):
        # The suite's start: target size, random joint angles, a random
        # target; then the target moved to the goal. The state is computed
        # (mj_forward) after this method, by the environment's reset.
        super().initialize_episode(physics)
        physics.named.model.geom_pos['target', ['x', 'y']] = self._goal
        # Invisible: alpha 0. A geom rgba other than MuJoCo's default grey
        # overrides its material's colour, so the target material's red is
        # not drawn either. The geom has no collisions (contacts are off in
        # reacher.xml), so nothing but the reward and `to_target` sees it.
        physics.named.model.geom_rgba['target', 3] = 0.0


def _loader(index):
    def load(time_limit=reacher._DEFAULT_TIME_LIMIT, random=None, environment_kwargs=None):
        # As the suite's reacher easy: no control_timestep, so one control
        # step is one 0.02 s physics step.
        physics = reacher.Physics.from_xml_string(*reacher.get_model_and_assets())
        task = FixedGoalReacher(goal_position(index), random=random)
        return control.Environment(physics, task, time_limit=time_limit,
                                   **(environment_kwargs or {}))
    load.__name__ = f'goal{index}'
    load.__doc__ = (f'The reacher goal{index} environment (target fixed at '
                    f'{GOAL_ANGLES[index]:g} degrees, {GOAL_RADIUS} m), with '
                    f'the signature of the suite\'s task loaders.')
    return load


# Task name -> loader, for vmail_tf.envs.dmc.custom_tasks.
TASKS = {f'goal{i}': _loader(i) for i in range(len(GOAL_ANGLES))}
