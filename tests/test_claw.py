"""D'Claw (ROBEL): the reward, the scene copy, the pixel env, and a V-MAIL
run on demos recorded in it."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from helpers import WORKER_TIMEOUT
from vmail_tf import config as config_lib
from vmail_tf import demos, episodes
from vmail_tf.envs.claw import REST_POSE, prepare_scenes, valve_reward
from vmail_tf.envs.worker import EnvWorker, EnvWorkerError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_valve_reward_by_hand():
    pose = REST_POSE + np.array([0.3, 0.4] + [0.0] * 7)
    velocity = np.array([0.2, -0.6, 0.8] + [0.0] * 6)  # only |v| >= 0.5 is penalised
    expected = -0.5 - 1.0 + 5 * 1.0 * 0.7
    assert valve_reward(pose, velocity, 0.7, 1.0) == pytest.approx(expected)
    assert valve_reward(pose, velocity, 0.7, -1.0) == pytest.approx(-0.5 - 1.0 - 3.5)


def test_scene_copy_loads_without_declarations_and_has_a_four_prong_scene(tmp_path):
    root = prepare_scenes(tmp_path)
    assets = root / 'dclaw' / 'assets'
    for xml in root.rglob('*.xml'):
        assert '<?xml' not in xml.read_text(), xml
    assert 'assets/valve4.xml' in (assets / 'dclaw3xh_valve4_v0.xml').read_text()
    made = (root.stat().st_ino, (assets / 'dclaw3xh_valve4_v0.xml').stat().st_mtime_ns)
    assert prepare_scenes(tmp_path) == root
    # made once: the second call reuses the copy
    assert (root.stat().st_ino, (assets / 'dclaw3xh_valve4_v0.xml').stat().st_mtime_ns) == made


def test_scene_copy_frees_the_valve_and_replaces_a_copy_with_a_stopped_one(tmp_path):
    # ROBEL's valve hinge stops after one turn each way; the screw task turns on.
    import mujoco
    root = prepare_scenes(tmp_path)
    for scene in ('dclaw3xh_valve3_v0.xml', 'dclaw3xh_valve4_v0.xml'):
        model = mujoco.MjModel.from_xml_path(str(root / 'dclaw' / 'assets' / scene))
        assert model.jnt_limited[model.joint('valve_OBJRx').id] == 0, scene
    # A copy made before the valve was freed is made again.
    valve = root / 'robel-scenes' / 'dclaw_stations' / 'assets' / 'valve3.xml'
    valve.write_text(valve.read_text().replace('limited="false"', 'limited="true"'))
    assert prepare_scenes(tmp_path) == root
    assert 'limited="false"' in valve.read_text() and 'limited="true"' not in valve.read_text()


def test_scene_copy_is_made_again_when_its_links_no_longer_resolve(tmp_path):
    # As when the Python environment that made the copy has been removed.
    root = prepare_scenes(tmp_path)
    mesh = next(path for path in root.rglob('*.stl') if path.is_symlink())
    mesh.unlink()
    mesh.symlink_to(tmp_path / 'removed-environment' / mesh.name)
    assert not mesh.exists()
    assert prepare_scenes(tmp_path) == root
    assert mesh.exists() and all(path.exists() for path in root.rglob('*'))
    assert [p.name for p in tmp_path.iterdir()] == [root.name]  # nothing left aside


@pytest.mark.parametrize('task', ['claw_valve3_cw', 'claw_valve4_ccw'])
def test_claw_env_renders_steps_and_rewards_the_valve_turn(task):
    # in a worker process, as in training: the renderer and TensorFlow
    # (loaded by other test modules) cannot share a process
    spec = dict(task=task, render_backend='egl', action_repeat=1, image_size=128,
                time_limit=5, camera=-1, fast_render=True, seed=0)
    worker = EnvWorker(spec, WORKER_TIMEOUT)
    try:
        assert worker.action_size == 9
        assert worker.step_seconds == pytest.approx(0.1)  # ROBEL's control step
        obs = worker.reset()
        assert obs['image'].shape == (128, 128, 3) and obs['image'].dtype == np.uint8
        assert obs['image'].std() > 10  # a scene, not a blank frame
        np.testing.assert_allclose(np.hypot(*obs['valve']), 1.0, rtol=1e-5)
        for step in range(1, 6):
            obs, reward, terminated, truncated, _ = worker.step(np.zeros(9))
            assert math.isfinite(reward) and not terminated and truncated == (step == 5)
        with pytest.raises(EnvWorkerError, match=r'expected \(9,\)'):
            worker.step(np.zeros(3))
    finally:
        worker.close()
    with pytest.raises(EnvWorkerError, match="unknown D'Claw task `claw_valve5_cw`"):
        EnvWorker(dict(spec, task='claw_valve5_cw'), WORKER_TIMEOUT)


def test_a_debug_vmail_run_on_claw_with_recorded_demos(tmp_path):
    config = config_lib.merge(['claw', 'debug'], [('image_size', 128)])
    demo_dir = tmp_path / 'demos'
    returns = demos.record(lambda obs: np.zeros(9, np.float32), config, demo_dir, 2)
    assert len(returns) == 2
    episode = episodes.load(sorted(demo_dir.glob('*.npz'))[0])
    assert episode['image'].shape == (config.time_limit + 1, 128, 128, 3)
    logdir = tmp_path / 'run'
    result = subprocess.run(
        [sys.executable, '-m', 'vmail_tf.train', '--configs', 'claw', 'debug',
         '--image_size', '128', '--expert_dir', str(demo_dir), '--logdir', str(logdir)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert 'Done: 400 env steps' in result.stdout
    assert list((logdir / 'train_episodes').glob('*.npz'))


def test_the_claw_transfer_family_runs_at_debug_size(tmp_path):
    """The paper's D'Claw family end to end at debug size: a multi-task
    source run on three valve tasks, then transfer to the fourth."""
    sources = ['claw_valve3_cw', 'claw_valve3_ccw', 'claw_valve4_ccw']
    folders = {}
    for task in sources + ['claw_valve4_cw']:
        config = config_lib.merge(['claw', 'debug'], [('task', task), ('time_limit', 50)])
        folders[task] = tmp_path / 'demos' / task
        demos.record(lambda obs: np.zeros(9, np.float32), config, folders[task], 1)
    # 64 px (debug's size): the 128-px path is the debug run's above
    common = ['--time_limit', '50']
    source = tmp_path / 'source'
    result = subprocess.run(
        [sys.executable, '-m', 'vmail_tf.train', '--configs', 'claw', 'multitask',
         'claw_sources', 'debug', *common, '--steps', '150', '--prefill', '50',
         '--source_expert_dirs', ','.join(str(folders[t]) for t in sources),
         '--logdir', str(source)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    logged = [json.loads(line) for line in (source / 'metrics.jsonl').open()]
    assert any('eval/return/task2' in entry for entry in logged)
    target = tmp_path / 'target'
    result = subprocess.run(
        [sys.executable, '-m', 'vmail_tf.train', '--configs', 'claw', 'claw_valve4_cw',
         'transfer', 'debug', *common, '--transfer_from', str(source),
         '--expert_dir', str(folders['claw_valve4_cw']), '--transfer_steps', '2',
         '--transfer_eval_every', '2', '--logdir', str(target)],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    assert 'Done: 2 updates' in result.stdout
    assert not list(target.glob('*_episodes/*.npz'))
