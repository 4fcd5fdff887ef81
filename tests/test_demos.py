import json

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
    with pytest.raises(ValueError, match='action_repeat'):
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


def test_task_without_builtin_expert_needs_expert_dir(debug_config):
    with pytest.raises(demos.DemoError, match='no --expert_dir given.*dmc_walker_walk'):
        demos.resolve_expert_dir(with_(debug_config, task='dmc_walker_walk'))
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
