"""Walker "walk with a speed between 2 and 4": the paper's transfer task
on the walker (docs/design.md section 9), as a dm_control task.

The suite's walker walk and run reward any speed above a floor (1 and 8
m/s); this task rewards a speed band instead, so a policy must hold a pace
that neither source task (stand, run) asks for. Everything else is the
suite's walker: model, observations, episode start, timing and the stand
reward.

Imports dm_control: import it only where MUJOCO_GL is already set (see
vmail_tf/envs/dmc.py).
"""
from dm_control.rl import control
from dm_control.suite import walker
from dm_control.utils import rewards

# Horizontal speeds (m/s) with full move reward.
SPEED_BAND = (2.0, 4.0)
# Half the band's lower bound, as the suite's walker uses half its target
# speed: the move reward is 0.5 at 1 and 5 m/s and 0 at standing still
# (as in the suite's walk) or at 6 m/s and faster.
SPEED_MARGIN = 1.0


class BandWalker(walker.PlanarWalker):
    """The suite's planar walker rewarded for a horizontal speed in `band`:
    stand_reward * (5 * move_reward + 1) / 6, as the suite's walk and run,
    with move_reward = tolerance(speed, band, margin, value_at_margin=0.5,
    sigmoid='linear')."""

    def __init__(self, band=SPEED_BAND, margin=SPEED_MARGIN, random=None):
        # move_speed=0 makes the suite's reward the stand reward alone, which
        # get_reward then combines with the band's move reward.
        super().__init__(move_speed=0, random=random)
        self._band = band
        self._margin = margin

    def get_reward(self, physics):
        stand_reward = super().get_reward(physics)
        move_reward = rewards.tolerance(
            physics.horizontal_velocity(), bounds=self._band, margin=self._margin,
            value_at_margin=0.5, sigmoid='linear')
        return stand_reward * (5 * move_reward + 1) / 6


def walk_band(time_limit=walker._DEFAULT_TIME_LIMIT, random=None, environment_kwargs=None):
    """The walk_band environment, with the signature of the suite's task
    loaders. Time limit and control step are the suite walker's, so action
    repeat and episode length mean what they mean for walker walk."""
    physics = walker.Physics.from_xml_string(*walker.get_model_and_assets())
    return control.Environment(
        physics, BandWalker(random=random), time_limit=time_limit,
        control_timestep=walker._CONTROL_TIMESTEP, **(environment_kwargs or {}))
