
import numpy as np
import pytest
from dm_control import suite

from vmail_tf import config as config_lib
from vmail_tf.demos import BUILTIN_EXPERTS, builtin_expert_name
from vmail_tf.envs import reacher_goals
from vmail_tf.envs.dmc import DMCEnv, custom_tasks, load_task, split_task
from vmail_tf.experts.reaching import REACHER_LINKS, ReacherToTarget

GOALS = range(4)
# The fixed points by hand: 0.15 m at 0, 90, 180, 270 degrees from +x.
POINTS = [(0.15, 0.0), (0.0, 0.15), (-0.15, 0.0), (0.0, -0.15)]


def place_finger(physics, point):
    """Sets the arm's joint angles (inverse kinematics, elbow one way) so the
    finger is at `point` (x, y), at rest."""
    l1, l2 = REACHER_LINKS
    x, y = point
    wrist = np.arccos((x * x + y * y - l1 * l1 - l2 * l2) / (2 * l1 * l2))
    shoulder = np.arctan2(y, x) - np.arctan2(l2 * np.sin(wrist), l1 + l2 * np.cos(wrist))
    physics.named.data.qpos[['shoulder', 'wrist']] = shoulder, wrist
    physics.named.data.qvel[:] = 0
    physics.forward()
    np.testing.assert_allclose(physics.named.data.geom_xpos['finger', :2], point, atol=1e-9)


@pytest.mark.parametrize('goal', GOALS)
def test_goal_positions_are_the_chosen_fixed_points(goal):
    np.testing.assert_allclose(reacher_goals.goal_position(goal), POINTS[goal], atol=1e-12)
    assert np.linalg.norm(POINTS[goal]) < sum(REACHER_LINKS)  # within the arm's reach


@pytest.mark.parametrize('goal', GOALS)
@pytest.mark.parametrize('seed', [0, 1, 7])
def test_target_is_at_the_fixed_point_after_every_reset(goal, seed):
    env = load_task('reacher', f'goal{goal}', seed)
    for _ in range(3):
        timestep = env.reset()
        physics = env.physics
        np.testing.assert_allclose(physics.named.data.geom_xpos['target', :2], POINTS[goal],
                                   atol=1e-12)
        # The observation's finger-to-target vector points at that goal.
        finger = physics.named.data.geom_xpos['finger', :2]
        np.testing.assert_allclose(timestep.observation['to_target'], POINTS[goal] - finger,
                                   atol=1e-12)
        # The suite's easy target size.
        assert physics.named.model.geom_size['target', 0] == pytest.approx(0.05)


def test_arm_start_varies_with_seed_and_episode_as_in_the_suite():
    starts = []
    for seed in range(4):
        env = load_task('reacher', 'goal3', seed)
        first = env.reset().observation['position'].copy()
        second = env.reset().observation['position'].copy()
        assert not np.allclose(first, second)
        starts.append(first)
        # The arm starts as the suite's reacher easy's with the same seed.
        suite_env = suite.load('reacher', 'easy', task_kwargs={'random': seed})
        np.testing.assert_allclose(suite_env.reset().observation['position'], first)
    assert len({tuple(np.round(s, 6)) for s in starts}) == 4


# The suite's reacher reward is tolerance(distance, bounds=(0, 0.05 + 0.01))
# with the default margin 0 (dm_control/suite/reacher.py): 1 within 0.06 m of
# the target's centre, 0 beyond, with no gaussian tail.
@pytest.mark.parametrize('distance, reward', [
    (0.0, 1.0),
    (0.03, 1.0),
    (0.0599, 1.0),
    (0.0601, 0.0),
    (0.1, 0.0),
    (0.3, 0.0),  # the opposite goal
])
@pytest.mark.parametrize('goal', GOALS)
def test_reward_at_hand_set_finger_positions(goal, distance, reward):
    env = load_task('reacher', f'goal{goal}', 0)
    env.reset()
    physics = env.physics
    # Move the finger `distance` from the goal, towards the shoulder.
    point = np.array(POINTS[goal]) * (1 - distance / 0.15)
    place_finger(physics, point)
    assert physics.finger_to_target_dist() == pytest.approx(distance, abs=1e-9)
    assert env.task.get_reward(physics) == reward


def test_reward_matches_the_suites_reacher_easy_at_the_same_state():
    env = load_task('reacher', 'goal1', 0)
    env.reset()
    suite_env = suite.load('reacher', 'easy', task_kwargs={'random': 0})
    suite_env.reset()
    suite_env.physics.named.model.geom_pos['target', ['x', 'y']] = POINTS[1]
    for point in [(0.0, 0.15), (0.02, 0.12), (0.05, 0.15), (0.1, 0.1), (-0.15, 0.0)]:
        place_finger(env.physics, point)
        place_finger(suite_env.physics, point)
        assert env.task.get_reward(env.physics) == suite_env.task.get_reward(suite_env.physics)


@pytest.mark.parametrize('goal', GOALS)
def test_target_geom_is_invisible(goal):
    env = load_task('reacher', f'goal{goal}', 0)
    env.reset()
    rgba = env.physics.named.model.geom_rgba['target']
    # Alpha 0, in a geom rgba that is not MuJoCo's default (0.5, 0.5, 0.5, 1),
    # so it overrides the target material's opaque red.
    assert rgba[3] == 0
    assert not np.allclose(rgba, [0.5, 0.5, 0.5, 1])
    # Every other geom is drawn as in the suite's reacher.
    suite_env = suite.load('reacher', 'easy', task_kwargs={'random': 0})
    suite_env.reset()
    changed = np.any(env.physics.model.geom_rgba != suite_env.physics.model.geom_rgba, axis=1)
    assert [env.physics.model.id2name(i, 'geom') for i in np.flatnonzero(changed)] == ['target']


def test_tasks_keep_the_suite_reachers_timing_and_observations():
    env = load_task('reacher', 'goal0', 0)
    suite_env = suite.load('reacher', 'easy')
    assert env.control_timestep() == suite_env.control_timestep() == 0.02
    assert list(env.observation_spec()) == ['position', 'to_target', 'velocity']
    assert env.action_spec().shape == suite_env.action_spec().shape == (2,)
    env.reset()
    steps = 1
    while not env.step(np.zeros(2)).last():
        steps += 1
    assert steps == 1000


def test_task_names_resolve_and_are_registered():
    for goal in GOALS:
        assert split_task(f'reacher_goal{goal}') == ('reacher', f'goal{goal}')
        assert ('reacher', f'goal{goal}') in custom_tasks()
    assert split_task('reacher_easy') == ('reacher', 'easy')
    with pytest.raises(ValueError, match='unknown dm_control task `reacher_goal4`.*reacher_goal3'):
        split_task('reacher_goal4')


def test_config_blocks_and_builtin_experts():
    for goal in GOALS:
        task = f'dmc_reacher_goal{goal}'
        config = config_lib.merge(['dmc', f'reacher_goal{goal}'])
        assert config.task == task
        assert isinstance(BUILTIN_EXPERTS[task](config), ReacherToTarget)
        assert builtin_expert_name(task).startswith(f'scripted:{task}:')
    config = config_lib.merge(['dmc', 'multitask', 'reacher_sources'])
    assert config_lib.split_list(config.source_tasks) == [
        'dmc_reacher_goal0', 'dmc_reacher_goal1', 'dmc_reacher_goal2']


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_scripted_expert_reaches_goal3_early(seed):
    env = DMCEnv('reacher_goal3', action_repeat=2, time_limit=1000, seed=seed)
    expert = ReacherToTarget()
    obs = env.reset()
    rewarded_at = None
    for step in range(100):  # 200 env steps at action repeat 2
        obs, reward, terminated, truncated, _ = env.step(expert(obs))
        assert not (terminated or truncated)
        if reward > 0:
            rewarded_at = step
            break
    assert rewarded_at is not None
    env.close()
