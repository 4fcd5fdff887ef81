
import numpy as np
import pytest
from dm_control import suite

from vmail_tf import config as config_lib
from vmail_tf.envs.dmc import DMCEnv, split_task
from vmail_tf.envs.walker_band import walk_band
from vmail_tf.experts.state_env import flatten_state, make_state_env, state_size


def set_state(physics, speed, rootz=0.0):
    """The model's initial pose (torso 1.3 m high, upright) shifted by `rootz`,
    the whole body sliding forward at `speed`, so its centre of mass moves at
    `speed`."""
    physics.named.data.qpos[:] = 0
    physics.named.data.qvel[:] = 0
    physics.named.data.qpos['rootz'] = rootz
    physics.named.data.qvel['rootx'] = speed
    physics.forward()


@pytest.fixture
def band_env():
    env = walk_band(random=0)
    env.reset()
    return env


# Move reward by hand: 1 in [2, 4]; else linear, 1 - 0.5 * distance / margin
# (margin 1, 0.5 at the margin), 0 from twice the margin out.
@pytest.mark.parametrize('speed, move_reward', [
    (3.0, 1.0),
    (2.0, 1.0),
    (4.0, 1.0),
    (1.5, 1 - 0.5 * 0.5),   # 0.5 below the band
    (5.0, 1 - 0.5 * 1.0),   # 1 above: the margin
    (0.0, 0.0),             # 2 below: twice the margin
    (7.0, 0.0),
])
def test_band_reward_at_full_stand_reward_by_hand(band_env, speed, move_reward):
    physics = band_env.physics
    set_state(physics, speed)
    assert physics.torso_height() == pytest.approx(1.3)  # above 1.2: standing = 1
    assert physics.torso_upright() == pytest.approx(1.0)  # upright = 1
    assert physics.horizontal_velocity() == pytest.approx(speed)
    assert band_env.task.get_reward(physics) == pytest.approx((5 * move_reward + 1) / 6)


def test_band_reward_scales_with_the_suites_stand_reward(band_env):
    physics = band_env.physics
    set_state(physics, 3.0, rootz=-0.5)
    assert physics.torso_height() == pytest.approx(0.8)
    # Suite's standing: gaussian tolerance, 0.1 at the margin 0.6 below 1.2,
    # i.e. 0.1 ** ((distance / margin) ** 2); stand = (3 * standing + upright) / 4.
    standing = 0.1 ** ((0.4 / 0.6) ** 2)
    stand_reward = (3 * standing + 1) / 4
    assert band_env.task.get_reward(physics) == pytest.approx(stand_reward * (5 * 1 + 1) / 6)


@pytest.mark.parametrize('speed, walk, band', [
    (3.0, 1.0, 1.0),                     # in the band and above walk's 1 m/s
    (5.0, 1.0, (5 * 0.5 + 1) / 6),       # too fast for the band only
    (1.5, 1.0, (5 * 0.75 + 1) / 6),      # too slow for the band only
    (0.0, 1 / 6, 1 / 6),                 # standing still: no move reward in either
])
def test_band_differs_from_suite_walk_where_it_should(band_env, speed, walk, band):
    physics = band_env.physics
    set_state(physics, speed)
    suite_walk = suite.load('walker', 'walk', task_kwargs={'random': 0})
    assert suite_walk.task.get_reward(physics) == pytest.approx(walk)
    assert band_env.task.get_reward(physics) == pytest.approx(band)


def test_band_task_keeps_the_suite_walkers_timing():
    band = walk_band()
    assert band.control_timestep() == suite.load('walker', 'walk').control_timestep()
    band.reset()
    steps = 1
    while not band.step(np.zeros(6)).last():
        steps += 1
    assert steps == 1000  # as the suite walker's episodes: time_limit 1000 at action repeat 1


def test_task_name_resolves_and_is_listed_among_known_tasks():
    assert split_task('walker_walk_band') == ('walker', 'walk_band')
    assert split_task('walker_walk') == ('walker', 'walk')
    with pytest.raises(ValueError, match='unknown dm_control task `walker_fly`.*walker_walk_band'):
        split_task('walker_fly')


def test_dmc_env_steps_the_band_task_without_rendering():
    env = DMCEnv('walker_walk_band', action_repeat=2, time_limit=6, seed=0)
    assert env.action_size == 6
    keys = {'orientations', 'height', 'velocity'}
    assert set(env.obs_spec) == keys
    obs = env.reset()
    assert set(obs) == keys and obs['orientations'].shape == (14,)
    steps, done = 0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(np.zeros(6))
        assert 0.0 <= reward <= 2.0  # summed over 2 repeats of rewards in [0, 1]
        steps += 1
        done = terminated or truncated
    assert steps == 3 and truncated and not terminated
    env.close()


def test_state_env_and_expert_config_for_sac():
    config = config_lib.merge(['walker_band'], blocks=config_lib.load_blocks('expert_sac'))
    assert (config.task, config.units) == ('dmc_walker_walk_band', 512)
    env = make_state_env(config.task, config.action_repeat, config.time_limit, seed=0)
    assert state_size(env) == 14 + 1 + 9
    obs = env.reset()
    assert flatten_state(obs).shape == (24,)
    obs, *_ = env.step(np.zeros(env.action_size))
    assert flatten_state(obs).shape == (24,)
    env.close()
    assert config_lib.merge(['dmc', 'walker_band']).task == 'dmc_walker_walk_band'
