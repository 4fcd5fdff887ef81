import hashlib
import json
import pathlib
import shutil

import numpy as np
import pytest

from vmail_tf import config as config_lib
from vmail_tf import demos, episodes
from vmail_tf.experts.cartpole import CartpoleSwingup

from helpers import make_episode


def with_(config, **overrides):
    return config_lib.Config(dict(config, **overrides))


def test_cartpole_expert_balances_from_upright_and_pushes_back_when_tilted():
    expert = CartpoleSwingup(action_repeat=2)
    upright = {'position': np.array([0.0, 1.0, 0.0]), 'velocity': np.zeros(2)}
    np.testing.assert_allclose(expert(upright), [0.0], atol=1e-9)
    tilted = {'position': np.array([0.0, np.cos(0.1), np.sin(0.1)]), 'velocity': np.zeros(2)}
    # LQR: u = -K s with K[angle] = -9.799 for repeat 2
    np.testing.assert_allclose(expert(tilted), [np.clip(9.799 * 0.1, -1, 1)], rtol=1e-4)
    with pytest.raises(ValueError, match=r'gains for action_repeat in \[1, 2, 4, 8\], not 3'):
        CartpoleSwingup(action_repeat=3)


def test_builtin_demos_are_recorded_once_then_reused(debug_config):
    config = with_(debug_config, time_limit=80)
    first = demos.resolve_expert_dir(config)
    assert first == demos.cache_dir(config)
    files = episodes.list_files(first)
    assert len(files) == config.num_demos
    info = json.loads((first / 'demos.json').read_text())
    assert info['task'] == 'dmc_cartpole_swingup' and len(info['returns']) == 2
    assert info['fast_render'] is True
    loaded = demos.load_experts(first, config, action_size=1)
    assert loaded[0]['image'].shape == (11, 64, 64, 3)
    assert sorted(loaded[0]) == ['action', 'discount', 'image', 'position', 'reward', 'velocity']
    mtimes = [f.stat().st_mtime_ns for f in files]
    assert demos.resolve_expert_dir(config) == first
    assert [f.stat().st_mtime_ns for f in episodes.list_files(first)] == mtimes
    assert not list(first.parent.glob('.*partial*'))


def test_a_recording_finished_second_keeps_the_first_runs_demos(debug_config, tmp_path):
    first = demos.resolve_expert_dir(with_(debug_config, time_limit=80,
                                           demo_cache=str(tmp_path / 'cache')))
    before = {f.name: f.read_bytes() for f in first.iterdir()}
    late = first.with_name('.late.partial')
    shutil.copytree(first, late)
    (late / 'demos.json').write_text('{}')
    demos.publish_recording(late, first)
    assert not late.exists()
    assert {f.name: f.read_bytes() for f in first.iterdir()} == before
    stray = tmp_path / 'stray'
    stray.mkdir()
    (stray / 'notes.txt').write_text('kept')
    late.mkdir()
    (late / 'demos.json').write_text('{}')
    with pytest.raises(demos.DemoError, match=f'{stray}: it exists without a demos.json'):
        demos.publish_recording(late, stray)
    assert (stray / 'notes.txt').read_text() == 'kept'


def test_task_without_builtin_expert_needs_expert_dir(debug_config):
    with pytest.raises(demos.DemoError, match='no --expert_dir given.*dmc_hopper_hop'):
        demos.resolve_expert_dir(with_(debug_config, task='dmc_hopper_hop'))
    with pytest.raises(demos.DemoError, match='is not a directory'):
        demos.resolve_expert_dir(with_(debug_config, expert_dir='/nonexistent/demos'))


def test_expert_folder_checks_name_the_file_and_the_problem(debug_config, tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(demos.DemoError, match='holds no loadable'):
        demos.load_experts(empty, debug_config, 1)

    def folder(name, episode):
        path = tmp_path / name
        episodes.save(path, episode)
        return path

    with pytest.raises(demos.DemoError, match=r'`image` is uint8 \(32, 32, 3\)'):
        demos.load_experts(folder('small', make_episode(20, image_size=32)), debug_config, 1)
    with pytest.raises(demos.DemoError, match=r'`action` has shape \(20, 6\)'):
        demos.load_experts(folder('wide', make_episode(20, action_size=6)), debug_config, 1)
    with pytest.raises(demos.DemoError, match='fewer than batch_length'):
        demos.load_experts(folder('short', make_episode(5)), debug_config, 1)
    mismatch = folder('fullrender', make_episode(20))
    (mismatch / 'demos.json').write_text(json.dumps({'fast_render': False}))
    with pytest.raises(demos.DemoError, match='fast_render=False.*fast_render=True'):
        demos.load_experts(mismatch, debug_config, 1)
    (mismatch / 'demos.json').write_text(json.dumps({'task': 'dmc_reacher_goal0'}))
    with pytest.raises(demos.DemoError, match=f'demos of task dmc_reacher_goal0, this run.s '
                                              f'task is {debug_config.task}'):
        demos.load_experts(mismatch, debug_config, 1)
    (mismatch / 'demos.json').write_text(json.dumps({'task': debug_config.task}))
    assert len(demos.load_experts(mismatch, debug_config, 1)) == 1


def save_raw(folder, name, episode):
    """Writes an episode file as another codebase might, bypassing our saver."""
    folder.mkdir(exist_ok=True)
    np.savez_compressed(folder / name, **episode)


def test_expert_floats_of_any_precision_load_as_float32_and_integer_images_as_uint8(
        debug_config, tmp_path):
    episode = make_episode(20, action_size=1)
    episode = {k: v.astype(np.float16) if v.dtype == np.float32 else v
               for k, v in episode.items()}
    episode['height'] = np.linspace(0, 1, 20).astype(np.float64)
    episode['image'] = episode['image'].astype(np.int32)
    save_raw(tmp_path / 'half', 'ep-20.npz', episode)
    loaded = demos.load_experts(tmp_path / 'half', debug_config, 1)[0]
    for key in ('action', 'reward', 'discount', 'height'):
        assert loaded[key].dtype == np.float32, key
    assert loaded['image'].dtype == np.uint8
    np.testing.assert_array_equal(loaded['image'], make_episode(20)['image'])
    np.testing.assert_allclose(loaded['action'], make_episode(20)['action'])


@pytest.mark.parametrize('key, change, message', [
    ('action', lambda e: e['action'].__setitem__((7, 0), np.nan),
     r'`action` has 1 non-finite values \(NaN or inf\), first at entry 7'),
    ('reward', lambda e: e['reward'].__setitem__(3, np.inf),
     r'`reward` has 1 non-finite values \(NaN or inf\), first at entry 3'),
    ('image', lambda e: e.__setitem__('image', e['image'].astype(np.float32)),
     r'`image` is float32, expected an integer dtype'),
    ('image', lambda e: e.__setitem__('image', e['image'].astype(np.int16) + 250),
     r'`image` \(int16\) has values in \[250, 269\], expected \[0, 255\]'),
    ('image', lambda e: e.__setitem__('image', np.concatenate([e['image'], e['image'][..., :1]], -1)),
     r'`image` has shape \(20, 64, 64, 4\), expected \(length, height, width, 3\)'),
    ('discount', lambda e: e.__setitem__('discount', e['discount'][:-1]),
     r'keys differ in length'),
])
def test_expert_episodes_that_would_break_training_are_refused_by_name(
        debug_config, tmp_path, key, change, message):
    episode = make_episode(20)
    change(episode)
    folder = tmp_path / 'bad'
    episodes.save(folder, make_episode(20, seed=1))  # a good file does not rescue the folder
    save_raw(folder, 'zz-bad-20.npz', episode)
    with pytest.raises(demos.DemoError, match=r'zz-bad-20.npz: cannot be loaded: ' + message):
        demos.load_experts(folder, debug_config, 1)


def run_module(module, *args):
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parent.parent
    return subprocess.run([sys.executable, '-m', module, *args], cwd=root,
                          capture_output=True, text=True, timeout=300)


SHORT = ('--configs', 'dmc', 'cartpole', '--time_limit', '200', '--fast_render', 'true',
         '--batch_length', '8')


def test_recorder_writes_episodes_and_validator_accepts_them(tmp_path):
    out = tmp_path / 'demos'
    result = run_module('vmail_tf.record_demos', '--expert', 'builtin', '--out', str(out),
                        '--episodes', '2', *SHORT)
    assert result.returncode == 0, result.stderr
    assert 'demo 2/2' in result.stderr and 'Return' in result.stdout
    assert len(episodes.list_files(out)) == 2
    info = json.loads((out / 'demos.json').read_text())
    assert info['expert'].startswith('scripted:dmc_cartpole_swingup:') and info['time_limit'] == 200

    result = run_module('vmail_tf.check_demos', str(out), *SHORT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '2 episodes' in result.stdout and 'image: (64, 64, 3) uint8' in result.stdout
    assert 'OK: the folder can serve task dmc_cartpole_swingup' in result.stdout

    result = run_module('vmail_tf.record_demos', '--expert', 'builtin', '--out', str(out), *SHORT)
    assert result.returncode != 0 and 'is not empty' in result.stderr
    assert len(episodes.list_files(out)) == 2


def test_validator_fails_on_a_bad_folder_naming_each_problem(tmp_path):
    folder = tmp_path / 'bad'
    episodes.save(folder, make_episode(30, action_size=2))
    (folder / 'zzz-broken.npz').write_bytes(b'garbage')
    nan = make_episode(30)
    nan['action'][4] = np.nan
    save_raw(folder, 'yyy-nan-30.npz', nan)
    result = run_module('vmail_tf.check_demos', str(folder), *SHORT)
    assert result.returncode == 1
    assert 'zzz-broken.npz: cannot be loaded' in result.stdout
    assert 'yyy-nan-30.npz: cannot be loaded: `action` has 1 non-finite' in result.stdout
    assert '`action` has shape (30, 2), expected (length, 1)' in result.stdout
    assert result.stdout.count('FAIL:') == 3
    result = run_module('vmail_tf.check_demos', str(folder))  # without a config: same load rules
    assert result.returncode == 1 and 'yyy-nan-30.npz: cannot be loaded' in result.stdout

    only_text = tmp_path / 'text'
    only_text.mkdir()
    (only_text / 'notes.txt').write_text('no episodes here')
    result = run_module('vmail_tf.check_demos', str(only_text))
    assert result.returncode == 1 and 'holds no loadable *.npz' in result.stdout


def test_recorder_rejects_weights_for_another_task(tmp_path):
    from vmail_tf.experts.mlp_policy import MLPPolicy
    weights = tmp_path / 'policy.npz'
    MLPPolicy([np.zeros((24, 6))], [np.zeros(6)], 'dmc_walker_walk', 2).save(weights)
    result = run_module('vmail_tf.record_demos', '--expert', str(weights),
                        '--out', str(tmp_path / 'out'), *SHORT)
    assert result.returncode != 0
    assert 'trained for dmc_walker_walk' in result.stderr


def test_paper_format_walker_folder_trains_a_debug_step(tmp_path):
    # Laid out like the paper's published walker datasets (docs/design.md section 4).
    import re
    import uuid
    folder = tmp_path / 'walker_walk'
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        length = 501
        episode = {
            'image': rng.integers(0, 256, (length, 64, 64, 3), dtype=np.uint8),
            'orientations': rng.normal(size=(length, 14)).astype(np.float32),
            'height': rng.normal(size=(length, 1)).astype(np.float32),
            'velocity': rng.normal(size=(length, 9)).astype(np.float32),
            'action': rng.uniform(-1, 1, (length, 6)).astype(np.float32),
            'reward': rng.uniform(0, 1, length).astype(np.float32),
            'discount': np.ones(length, np.float32),
        }
        episode['action'][0] = 0
        name = f'20210115T10300{i}-{uuid.uuid4().hex}-{length}.npz'
        np.savez_compressed(folder / name, **episode)
        assert re.fullmatch(r'\d{8}T\d{6}-[0-9a-f]{32}-501\.npz', name)
    config = config_lib.merge(['dmc', 'walker', 'debug'])
    experts = demos.load_experts(folder, config, action_size=6)
    assert len(experts) == 2 and experts[0]['image'].shape == (501, 64, 64, 3)
    from vmail_tf.agent import Agent
    from vmail_tf.replay import Replay
    replay = Replay(capacity=1000, batch_length=config.batch_length)
    for episode in experts:
        replay.add_expert(episode)
    batch = next(iter(replay.dataset(config.batch_size, 'pooled', 0.5, 1)))
    metrics = Agent(config, action_size=6).train(batch)
    assert all(np.isfinite(float(v)) for v in metrics.values())


def test_shipped_walker_expert_is_a_builtin_and_checks_action_repeat(debug_config):
    config = with_(debug_config, task='dmc_walker_walk', action_repeat=2)
    expert = demos.BUILTIN_EXPERTS['dmc_walker_walk'](config)
    obs = {'orientations': np.zeros(14), 'height': np.ones(1), 'velocity': np.zeros(9)}
    action = expert(obs)
    assert action.shape == (6,) and np.all(np.abs(action) <= 1)
    with pytest.raises(demos.DemoError, match='acts every 2 env steps'):
        demos.BUILTIN_EXPERTS['dmc_walker_walk'](with_(config, action_repeat=4))


def envs_source():
    return b''.join(path.read_bytes() for path in sorted(demos.ENVS_DIR.glob('*.py')))


def test_demo_cache_is_keyed_by_the_shipped_weights(debug_config, tmp_path, monkeypatch):
    monkeypatch.setattr(demos, 'WEIGHTS_DIR', tmp_path)
    config = with_(debug_config, task='dmc_walker_walk')
    assert demos.cache_dir(config).name.endswith(f'-{config.num_demos}eps-scripted')
    assert demos.builtin_expert_name('dmc_walker_walk') == 'scripted:dmc_walker_walk'
    weights = tmp_path / 'dmc_walker_walk.npz'
    weights.write_bytes(b'old weights')
    old = demos.cache_dir(config)
    weights.write_bytes(b'new weights')
    new = demos.cache_dir(config)
    digest = hashlib.sha256(b'new weights' + envs_source()).hexdigest()[:10]
    assert old != new and new.name.endswith(f'-sac{digest}')
    assert demos.builtin_expert_name('dmc_walker_walk') == f'sac:dmc_walker_walk:{digest}'


def test_demo_cache_of_a_scripted_expert_is_keyed_by_its_source(debug_config):
    # Editing a scripted expert must not reuse the demos its old code recorded.
    from vmail_tf.experts import cartpole, reaching
    for task, module in (('dmc_cartpole_swingup', cartpole), ('dmc_reacher_goal3', reaching)):
        source = pathlib.Path(module.__file__).read_bytes()
        digest = hashlib.sha256(source + envs_source()).hexdigest()[:10]
        assert demos.cache_dir(with_(debug_config, task=task)).name.endswith(f'-scripted{digest}')
        assert demos.builtin_expert_name(task) == f'scripted:{task}:{digest}'


def test_demo_cache_is_keyed_by_the_env_code(debug_config, tmp_path, monkeypatch):
    # Edited env code (a goal moved, a render setting) must not reuse old demos.
    config = with_(debug_config, task='dmc_reacher_goal3')
    before = demos.cache_dir(config)
    envs = tmp_path / 'envs'
    shutil.copytree(demos.ENVS_DIR, envs)
    monkeypatch.setattr(demos, 'ENVS_DIR', envs)
    assert demos.cache_dir(config) == before  # the same code, the same folder
    with open(envs / 'reacher_goals.py', 'a') as f:
        f.write('\n# edited\n')
    assert demos.cache_dir(config) != before
