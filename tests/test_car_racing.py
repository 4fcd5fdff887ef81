"""Car Racing: frame processing, the car's frame, the env's reset, actions and
time limit, the scripted expert, and a V-MAIL run on it."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from vmail_tf import episodes
from vmail_tf.envs.car_racing import HUD_ROWS, CarRacingEnv, resize, to_car_frame
from vmail_tf.experts.car_racing import TrackFollower


def test_resize_averages_each_pixels_area_exactly():
    ramp = np.broadcast_to(np.arange(96, dtype=np.uint8)[None, :, None] * 2, (96, 96, 3))
    small = resize(ramp, 64)
    assert small.shape == (64, 64, 3)
    # output column 0 covers input columns 0 and half of 1: (2*0 + 2) / 3
    assert small[5, 0, 0] == round((0 + 0 + 2) / 3)
    # output column 1 covers the other half of column 1 and column 2: (2 + 4 + 4) / 3
    assert small[5, 1, 0] == round((2 + 4 + 4) / 3)
    halves = np.zeros((96, 96, 3), np.uint8)
    halves[:, 48:] = 255
    assert np.all(resize(halves, 64)[:, :32] == 0) and np.all(resize(halves, 64)[:, 32:] == 255)
    big = resize(ramp, 128)
    assert big.shape == (128, 128, 3)
    # 128 px: output columns 0-3 cover 3/4 of an input column each, so column 1
    # takes 1/4 of input column 0 and 2/4 of column 1: (0 + 2 + 2) / 3
    assert big[5, 0, 0] == 0 and big[5, 1, 0] == round((0 + 2 + 2) / 3)
    assert big[5, 2, 0] == round((2 + 2 + 4) / 3) and big[5, 3, 0] == 4
    assert np.all(resize(halves, 128)[:, :64] == 0) and np.all(resize(halves, 128)[:, 64:] == 255)
    with pytest.raises(ValueError, match='car racing renders 64 or 128 px images; got image_size 96'):
        CarRacingEnv(action_repeat=2, image_size=96, time_limit=1000, seed=0)


def test_car_frame_is_lateral_right_and_forward():
    points = np.array([[1.0, 3.0], [2.0, 1.0], [0.0, 1.0]])
    np.testing.assert_allclose(to_car_frame(points, (1.0, 1.0), 0.0),
                               [[0, 2], [1, 0], [-1, 0]], atol=1e-9)
    # heading pi/2: the nose points to -x
    np.testing.assert_allclose(to_car_frame(points, (1.0, 1.0), math.pi / 2),
                               [[2, 0], [0, -1], [0, 1]], atol=1e-9)


@pytest.fixture
def env():
    env = CarRacingEnv(action_repeat=2, image_size=64, time_limit=20, seed=3)
    yield env
    env.close()


def test_reset_skips_the_zoom_and_masks_the_hud(env):
    obs = env.reset()
    assert env._env.t == pytest.approx(1.0)  # 50 frames of 1/50 s: the zoom is over
    assert obs['image'].shape == (64, 64, 3) and obs['image'].dtype == np.uint8
    hud = math.ceil(HUD_ROWS * 64 / 96)
    assert np.all(obs['image'][-hud:] == 0) and obs['image'][:-hud].mean() > 50
    assert obs['track_ahead'].shape == (40,)


def test_128_px_frames_have_the_hud_masked_too():
    env = CarRacingEnv(action_repeat=2, image_size=128, time_limit=20, seed=3)
    try:
        obs = env.reset()
        assert env.obs_spec['image'][0] == obs['image'].shape == (128, 128, 3)
        hud = HUD_ROWS * 128 // 96
        assert np.all(obs['image'][-hud:] == 0) and obs['image'][:-hud].mean() > 50
    finally:
        env.close()


def test_actions_map_to_gas_and_brake_and_the_limit_counts_after_the_zoom(env):
    obs = env.reset()
    assert env.step_seconds == pytest.approx(2 / 50)  # two frames of 1/50 s
    for step in range(1, 11):
        obs, _, terminated, truncated, _ = env.step([0.0, 1.0, -1.0])  # full gas, no brake
        assert not terminated and truncated == (step == 10)  # 20 env steps, repeat 2
    assert env._env.t == pytest.approx(1.0 + 10 * env.step_seconds)
    fast = np.hypot(*obs['car'][3:5])
    assert fast > 10
    env.reset()
    for _ in range(10):
        obs, *_ = env.step([0.0, -1.0, -1.0])  # no gas: the car stays put
    assert np.hypot(*obs['car'][3:5]) < 1
    with pytest.raises(ValueError, match=r'expected \(3,\)'):
        env.step([0.0, 1.0])


def test_the_scripted_expert_drives_along_the_track():
    env = CarRacingEnv(action_repeat=2, image_size=64, time_limit=300, seed=1)
    expert, total = TrackFollower(), 0.0
    obs = env.reset()
    while True:
        obs, reward, terminated, truncated, _ = env.step(expert(obs))
        total += reward
        if terminated or truncated:
            break
    env.close()
    # 300 frames cost 30 and a lap's tiles are worth 1000: the expert covers
    # over a fifth of a lap in 6 s (282.7 here), where standing still scores -30
    assert total > 200


def test_a_debug_vmail_run_on_car_racing_writes_episodes(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    logdir = tmp_path / 'car'
    result = subprocess.run(
        [sys.executable, '-m', 'vmail_tf.train', '--configs', 'car', 'debug', '--steps', '200',
         '--logdir', str(logdir), '--demo_cache', str(tmp_path / 'demos')],
        cwd=root, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert 'Done: 200 env steps' in result.stdout
    files = sorted((logdir / 'train_episodes').glob('*.npz'))
    assert files
    episode = episodes.load(files[0])
    assert episode['image'].shape[1:] == (64, 64, 3) and episode['action'].shape[1] == 3
