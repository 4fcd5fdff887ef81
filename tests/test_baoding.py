"""Baoding balls: the reward, the env on states, the scripted expert, the
pixel env in a worker, and demos recorded from it."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from helpers import WORKER_TIMEOUT
from vmail_tf import config as config_lib
from vmail_tf import demos, episodes
from vmail_tf.envs.baoding import DROP_HEIGHT, BaodingEnv, baoding_reward, targets
from vmail_tf.envs.worker import EnvWorker, EnvWorkerError
from vmail_tf.experts.baoding import BaodingExpert

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pair_turns(ball_positions):
    """Counter-clockwise turns of the line from ball 0 to ball 1 over
    ball positions (steps, 2, 3)."""
    pairs = np.asarray(ball_positions)
    angles = np.unwrap(np.arctan2(*(pairs[:, 1, :2] - pairs[:, 0, :2]).T[::-1]))
    return (angles[-1] - angles[0]) / (2 * math.pi)


def run(env, policy):
    """Return and ball positions of an episode; episodes run to the time limit."""
    obs = env.reset()
    balls, total, truncated = [obs['ball_pos']], 0.0, False
    while not truncated:
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        assert not terminated
        balls.append(obs['ball_pos'])
        total += reward
    return total, np.array(balls).reshape(-1, 2, 3)


def test_targets_circle_the_bowl_counter_clockwise_once_per_six_seconds():
    # centre (0.984, 0.840), radius 0.022; the balls start at -90 and +90 degrees
    np.testing.assert_allclose(targets(0.0), [[0.984, 0.818], [0.984, 0.862]], atol=1e-12)
    np.testing.assert_allclose(targets(1.5), [[1.006, 0.840], [0.962, 0.840]], atol=1e-12)
    np.testing.assert_allclose(targets(6.0), targets(0.0), atol=1e-12)


def test_reward_by_hand():
    goals = np.array([[1.006, 0.840], [0.962, 0.840]])
    # ball 0 is (3, 4) mm from its target, ball 1 12 mm; heights do not count
    balls = np.array([[1.009, 0.844, 0.17], [0.962, 0.828, 0.16]])
    reward, dropped = baoding_reward(balls, goals, False)
    assert reward == pytest.approx(-5 * (0.005 + 0.012)) and not dropped
    balls[1, 2] = DROP_HEIGHT - 0.001  # below the palm: the drop penalty, once
    reward, dropped = baoding_reward(balls, goals, False)
    assert reward == pytest.approx(-5 * 0.017 - 500) and dropped
    reward, dropped = baoding_reward(balls, goals, True)
    assert reward == pytest.approx(-5 * 0.017) and dropped
    balls[1, :2] = [1.262, 0.840]  # 30 cm away, on the floor: counts as 10 cm
    reward, dropped = baoding_reward(balls, goals, True)
    assert reward == pytest.approx(-5 * (0.005 + 0.1)) and dropped


def test_env_on_states_holds_the_balls_and_charges_a_drop_once():
    env = BaodingEnv(action_repeat=1, time_limit=5, seed=3)
    assert env.action_size == 20 and 'image' not in env.obs_spec
    obs = env.reset()
    assert {key: value.shape for key, value in obs.items()} == {
        key: shape for key, (shape, _) in env.obs_spec.items()}
    assert all(value.dtype == np.float32 for value in obs.values())
    balls = obs['ball_pos'].reshape(2, 3)
    assert np.all(balls[:, 2] > DROP_HEIGHT + 0.04)  # settled in the cupped hand
    assert np.all(np.linalg.norm(balls[:, :2], axis=-1) < 0.03)  # near the bowl's centre
    np.testing.assert_allclose(obs['target'], (targets(0.0) - [0.984, 0.840]).reshape(-1),
                               atol=1e-6)
    again = BaodingEnv(action_repeat=1, time_limit=5, seed=3)
    np.testing.assert_array_equal(again.reset()['ball_pos'], obs['ball_pos'])  # seeded
    for step in range(1, 6):
        obs, reward, terminated, truncated, _ = env.step(np.zeros(20))
        assert -1.0 < reward < 0 and not terminated and truncated == (step == 5)
    with pytest.raises(ValueError, match=r'expected \(20,\)'):
        env.step(np.zeros(3))
    # a flat hand tilted to the fingers lets the balls roll off; the episode
    # goes on, with one drop penalty and the (capped) distances from the observations
    env = BaodingEnv(action_repeat=1, time_limit=50, seed=0)
    env.reset()
    total, expected, truncated = 0.0, -500.0, False
    while not truncated:
        obs, reward, terminated, truncated, _ = env.step(-np.ones(20))
        distances = obs['ball_pos'].reshape(2, 3)[:, :2] - obs['target'].reshape(2, 2)
        expected -= 5 * np.minimum(np.linalg.norm(distances, axis=-1), 0.1).sum()
        total += reward
    assert np.all(obs['ball_pos'].reshape(2, 3)[:, 2] < DROP_HEIGHT)
    assert total == pytest.approx(expected, abs=1e-3)


def test_the_scripted_expert_turns_the_balls_and_beats_holding_them_still():
    env = BaodingEnv(action_repeat=1, time_limit=200, seed=1)
    expert_return, balls = run(env, BaodingExpert())
    still_return, _ = run(env, lambda _: env.hold_action)
    assert len(balls) == 201 and np.all(balls[:, :, 2] > DROP_HEIGHT)
    assert pair_turns(balls) > 2
    assert expert_return > still_return + 5


def test_pixel_env_in_a_worker_renders_the_palm_and_records_demos(tmp_path):
    # in a worker process, as in training: the renderer and TensorFlow
    # (loaded by other test modules) cannot share a process
    spec = dict(task='baoding', render_backend='egl', action_repeat=1, image_size=128,
                time_limit=3, camera=-1, fast_render=False, seed=0)
    worker = EnvWorker(spec, WORKER_TIMEOUT)
    try:
        assert worker.action_size == 20
        assert worker.step_seconds == pytest.approx(0.1)  # 50 physics steps of 2 ms
        obs = worker.reset()
        assert obs['image'].shape == (128, 128, 3) and obs['image'].dtype == np.uint8
        assert obs['image'].std() > 10  # a scene, not a blank frame
        assert obs['hand_qpos'].shape == (24,)
        for step in range(1, 4):
            obs, reward, terminated, truncated, _ = worker.step(np.zeros(20))
            assert math.isfinite(reward) and not terminated and truncated == (step == 3)
        assert not np.array_equal(obs['image'], worker.reset()['image'])  # the hand moved
    finally:
        worker.close()
    with pytest.raises(EnvWorkerError, match='unknown task `baoding_cw`'):
        EnvWorker(dict(spec, task='baoding_cw'), WORKER_TIMEOUT)
    config = config_lib.merge(['baoding'], [('time_limit', 10)])
    returns = demos.record(BaodingExpert(), config, tmp_path, 1)
    files = sorted(tmp_path.glob('*.npz'))
    assert len(returns) == 1 and len(files) == 1
    episode = episodes.load(files[0])
    assert episode['image'].shape == (11, 128, 128, 3)
    assert episode['action'].shape == (11, 20) and episode['hand_qvel'].shape == (11, 24)
    assert episodes.episode_return(episode) == pytest.approx(returns[0])


def test_a_debug_vmail_run_on_baoding_with_the_built_in_expert(tmp_path):
    logdir = tmp_path / 'run'
    result = subprocess.run(
        [sys.executable, '-m', 'vmail_tf.train', '--configs', 'baoding', 'debug',
         '--image_size', '128', '--num_demos', '2', '--demo_cache', str(tmp_path / 'demos'),
         '--logdir', str(logdir)],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    assert 'Recording 2 built-in expert demos for baoding' in result.stderr
    assert 'Done: 400 env steps' in result.stdout
    assert list((logdir / 'train_episodes').glob('*.npz'))
