import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from helpers import WORKER_TIMEOUT
from vmail_tf import config as config_lib
from vmail_tf.driver import Driver
from vmail_tf.envs.render_quality import drop_costly_effects
from vmail_tf.envs.worker import EnvWorker, EnvWorkerError, env_spec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def spec(**overrides):
    base = dict(task='dmc_cartpole_swingup', render_backend='egl', action_repeat=4,
                image_size=64, time_limit=40, camera=-1, fast_render=True, seed=0)
    return {**base, **overrides}


@pytest.fixture
def worker():
    w = EnvWorker(spec(), WORKER_TIMEOUT)
    yield w
    w.close()


def test_worker_gives_pixels_state_and_a_time_limit(worker):
    assert worker.action_size == 1
    assert worker.step_seconds == pytest.approx(4 * 0.01)  # cartpole's control step, repeat 4
    assert Driver([worker], 4, max_restarts=0).video_fps == pytest.approx(25)  # videos play in real time
    obs = worker.reset()
    assert obs['image'].shape == (64, 64, 3) and obs['image'].dtype == np.uint8
    assert obs['image'].std() > 0  # a real rendered frame, not a blank
    assert obs['position'].shape == (3,) and obs['position'].dtype == np.float32
    steps, done = 0, False
    while not done:
        obs, reward, terminated, truncated, _ = worker.step(np.array([0.5]))
        assert 0.0 <= reward <= 4.0  # summed over 4 repeats of rewards in [0, 1]
        steps += 1
        done = terminated or truncated
    assert steps == 10 and truncated and not terminated


def test_same_seed_same_frames_and_fast_render_changes_pixels():
    a, b = EnvWorker(spec(), WORKER_TIMEOUT), EnvWorker(spec(), WORKER_TIMEOUT)
    slow = EnvWorker(spec(fast_render=False), WORKER_TIMEOUT)
    try:
        first = a.reset()['image']
        np.testing.assert_array_equal(first, b.reset()['image'])
        assert not np.array_equal(first, slow.reset()['image'])
    finally:
        for w in (a, b, slow):
            w.close()


def test_bad_action_shape_is_reported_with_the_worker_traceback(worker):
    worker.reset()
    with pytest.raises(EnvWorkerError, match=r'action has shape \(2,\), expected \(1,\)'):
        worker.step(np.zeros(2))
    worker.step(np.zeros(1))  # the worker survives its own errors


def test_unknown_task_fails_at_start_with_the_known_tasks():
    with pytest.raises(EnvWorkerError, match='unknown dm_control task `cartpole_fly`.*cartpole_swingup'):
        EnvWorker(spec(task='dmc_cartpole_fly'), WORKER_TIMEOUT)
    with pytest.raises(EnvWorkerError, match='unknown task `gym_cartpole_swingup`; expected car_racing'):
        EnvWorker(spec(task='gym_cartpole_swingup'), WORKER_TIMEOUT)


def test_a_killed_worker_is_detected_not_waited_on(worker):
    worker.reset()
    os.kill(worker._process.pid, signal.SIGKILL)
    with pytest.raises(EnvWorkerError, match='died with exit code -9'):
        worker.step(np.zeros(1))


def test_driver_restarts_a_dead_worker_and_keeps_collecting():
    workers = [EnvWorker(spec(), WORKER_TIMEOUT), EnvWorker(spec(seed=1), WORKER_TIMEOUT)]
    driver = Driver(workers, action_repeat=4, max_restarts=1)
    policy = lambda obs, first: np.zeros((len(first), 1))
    try:
        taken, finished = driver.run(policy, steps=4 * 4)
        assert taken == 16 and finished == []
        os.kill(workers[0]._process.pid, signal.SIGKILL)
        taken, finished = driver.run(policy, episodes=2)
        # worker 1 finishes its episode; worker 0 restarted with a fresh one.
        lengths = sorted(len(e['action']) for e in finished)
        assert lengths == [11, 11] and driver.restarts == 1
        for episode in finished:
            np.testing.assert_array_equal(episode['action'][0], [0.0])
            assert episode['reward'][0] == 0 and episode['discount'][0] == 1
            assert episode['image'].shape == (11, 64, 64, 3)
        os.kill(workers[1]._process.pid, signal.SIGKILL)
        os.kill(workers[0]._process.pid, signal.SIGKILL)
        with pytest.raises(EnvWorkerError, match='died'):
            driver.run(policy, steps=8)
    finally:
        driver.close()


def test_env_spec_takes_the_env_settings_of_a_config(debug_config):
    settings = {'task': 'dmc_reacher_easy', 'render_backend': 'osmesa', 'action_repeat': 4,
                'image_size': 128, 'time_limit': 300, 'camera': 1, 'fast_render': False}
    config = config_lib.Config(dict(debug_config, **settings))
    assert env_spec(config, seed=3) == dict(settings, seed=3)


def test_entry_modules_do_not_import_tensorflow():
    # spawn re-imports the main module in every env worker: TensorFlow there
    # would crash beside the renderer.
    code = ('import sys, vmail_tf.train, vmail_tf.envs.worker, vmail_tf.driver; '
            'assert "tensorflow" not in sys.modules, "tensorflow imported"')
    subprocess.run([sys.executable, '-c', code], check=True, cwd=ROOT)


def test_drop_costly_effects_keeps_reflections_only_when_asked():
    import mujoco
    xml = """<mujoco><asset><material name="floor" reflectance="0.3"/></asset>
      <visual><quality shadowsize="4096" offsamples="4"/></visual>
      <worldbody><geom type="plane" size="1 1 0.1" material="floor"/></worldbody></mujoco>"""
    kept, dropped = (mujoco.MjModel.from_xml_string(xml) for _ in range(2))
    drop_costly_effects(kept, reflections=True)
    drop_costly_effects(dropped)
    for model in (kept, dropped):
        assert model.vis.quality.shadowsize == 0 and model.vis.quality.offsamples == 0
    assert kept.mat_reflectance[0] == pytest.approx(0.3)
    assert dropped.mat_reflectance[0] == 0
