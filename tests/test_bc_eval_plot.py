import json
import math
import os
import pathlib
import subprocess
import sys

import numpy as np
import PIL.Image
import pytest
import tensorflow as tf

from vmail_tf import config as config_lib
from vmail_tf import demos, dists
from vmail_tf.bc import BCAgent, expert_image_action_pairs
from vmail_tf.run_metrics import is_offline, read_returns, read_wall_seconds

from helpers import latest_checkpoint_value, make_episode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import plot  # noqa: E402


def test_tanh_normal_log_prob_by_hand():
    # a = tanh(u), u = 0.5: log N(0.5; 0, 2) - log(1 - tanh(0.5)^2)
    action = tf.constant([[math.tanh(0.5)]])
    expected = (-0.5 * (0.5 / 2) ** 2 - math.log(2) - 0.5 * math.log(2 * math.pi)
                - math.log(1 - math.tanh(0.5) ** 2))
    got = dists.tanh_normal_log_prob(action, tf.constant([[0.0]]), tf.constant([[2.0]]))
    assert float(got[0]) == pytest.approx(expected, rel=1e-5)


def test_bc_pairs_each_image_with_the_action_taken_there():
    episode = make_episode(6, action_size=2)
    batch = {k: v[None] for k, v in episode.items()}
    images, actions = expert_image_action_pairs(batch)
    np.testing.assert_array_equal(images[0, :, 0, 0, 0] + 1, actions[0, :, 0])


def test_bc_step_trains_encoder_and_actor(debug_config):
    config = config_lib.Config(dict(debug_config, method='bc'))
    agent = BCAgent(config, action_size=2)
    episode = make_episode(10, action_size=2)
    episode['action'] = np.clip(episode['action'] / 10, -1, 1)
    # noise images: the helper's flat grey frames left every ReLU of the
    # 4-channel debug encoder off in about one init in six, and no gradient
    episode['image'] = np.random.default_rng(0).integers(
        0, 256, episode['image'].shape, dtype=np.uint8)
    batch = {'expert': {k: np.stack([v[:9]] * 3) for k, v in episode.items()
                        if k in ('image', 'action')}}
    before = [v.numpy().copy() for v in agent.trainable_variables]
    first = float(agent.train(batch)['bc_loss'])
    for old, new in zip(before, agent.trainable_variables):
        assert not np.allclose(old, new.numpy()), new.name
    for _ in range(20):
        last = float(agent.train(batch)['bc_loss'])
    assert last < first
    action, _ = agent.policy(batch['expert']['image'][:, 0], agent.initial_policy_state(3),
                             np.ones(3, bool), False)
    assert action.shape == (3, 2)


def test_bc_run_then_evaluate_cli(tmp_path):
    config = config_lib.merge(['dmc', 'cartpole', 'debug'], [
        ('demo_cache', str(tmp_path / 'cache'))])
    expert_dir = demos.resolve_expert_dir(config)
    logdir = tmp_path / 'bc'
    base = [sys.executable, '-m']
    result = subprocess.run(
        base + ['vmail_tf.train', '--configs', 'dmc', 'cartpole', 'debug', 'bc',
                '--logdir', str(logdir), '--expert_dir', str(expert_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'Done: 6 updates' in result.stdout
    assert latest_checkpoint_value(logdir, 'agent/step') == 6
    gif = tmp_path / 'eval.gif'
    result = subprocess.run(
        base + ['vmail_tf.evaluate', '--logdir', str(logdir), '--episodes', '2',
                '--video', str(gif)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'over 2 episodes' in result.stdout and "% of the expert's" in result.stdout
    assert gif.read_bytes()[:6] == b'GIF89a'
    # one frame per agent step: 8 control steps of 10 ms
    assert PIL.Image.open(gif).info['duration'] == 80
    # a newest checkpoint cut short by a kill: the one before it is evaluated
    from vmail_tf.trainer_base import recorded_checkpoints
    before, newest = recorded_checkpoints(logdir / 'checkpoint')[-2:]
    data = pathlib.Path(f'{newest}.data-00000-of-00001')
    data.write_bytes(data.read_bytes()[:100])
    result = subprocess.run(
        base + ['vmail_tf.evaluate', '--logdir', str(logdir), '--episodes', '1'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f'skipping unreadable checkpoint {newest}' in result.stderr
    assert f'Evaluating {before} (bc, ' in result.stdout
    expert_dir.rename(tmp_path / 'moved')
    result = subprocess.run(
        base + ['vmail_tf.evaluate', '--logdir', str(logdir), '--episodes', '1'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f'over 1 episode; no expert episodes in {expert_dir} to compare with' in result.stdout
    result = subprocess.run(base + ['vmail_tf.evaluate', '--logdir', str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and 'config.yaml does not exist' in result.stderr


def write_metrics(directory, pairs, method=None):
    directory.mkdir(parents=True)
    with open(directory / 'metrics.jsonl', 'w') as f:
        for step, value in pairs:
            f.write(json.dumps({'step': step, 'train/model_loss': 1.0}) + '\n')
            f.write(json.dumps({'step': step, 'eval/return': value}) + '\n')
    if method:
        (directory / 'config.yaml').write_text(f'method: {method}\n')
    return directory


def test_plot_averages_seeds_on_shared_steps_and_writes_a_png(tmp_path):
    a = write_metrics(tmp_path / 'a', [(0, 0.0), (100, 10.0), (200, 30.0)])
    b = write_metrics(tmp_path / 'b', [(0, 2.0), (100, 20.0)])
    bc = write_metrics(tmp_path / 'bc', [(5, 7.0)], method='bc')
    steps, mean, sd = plot.curve([read_returns(a), read_returns(b)])
    np.testing.assert_array_equal(steps, [0, 100])
    np.testing.assert_allclose(mean, [1.0, 15.0])
    np.testing.assert_allclose(sd, [1.0, 5.0])
    assert is_offline(bc) and not is_offline(a)
    out = tmp_path / 'curves.png'
    plot.main(['--out', str(out), '--expert', '50', '--method', 'V-MAIL', str(a), str(b),
               '--method', 'BC', str(bc)])
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    table = plot.summary_table(
        {'V-MAIL': [read_returns(a), read_returns(b)],
         'BC': [read_returns(bc)]}, expert=50.0, offline={'BC'})
    # V-MAIL at step 100, the last both seeds share: (10 + 20) / 2 = 15, sd 5.
    assert '| V-MAIL | 2 | 15.0 ± 5.0 | 30 % | 100 env steps |' in table
    assert '| BC | 1 | 7.0 | 14 % | 5 updates |' in table  # no sd over one run


def test_wall_time_sums_log_periods_and_counts_a_resumed_pass_once(tmp_path):
    run = tmp_path / 'run'
    run.mkdir()
    logs = [(1000, 100.0), (2000, 20.0), (3000, 10.0),  # 10 s, 50 s, 100 s
            (2000, 25.0), (3000, 25.0), (4000, 50.0)]   # resumed from 1000: 40 s, 40 s, 20 s
    lines = [{'step': step, 'fps': fps} for step, fps in logs]
    lines.insert(2, {'step': 2000, 'eval/return': 5.0})  # eval lines carry no fps
    (run / 'metrics.jsonl').write_text(''.join(json.dumps(x) + '\n' for x in lines))
    assert read_wall_seconds(run) == pytest.approx({1000: 10.0, 2000: 50.0, 3000: 90.0,
                                                    4000: 110.0})
    table = plot.summary_table({'A': [read_returns(run)]}, walls={'A': [read_wall_seconds(run)]})
    assert '| A | 1 | 5.0 | – | 2000 env steps | 0:01 h |' in table  # 50 s


def test_plot_names_the_file_without_eval_lines(tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    (empty / 'metrics.jsonl').write_text(json.dumps({'step': 1, 'fps': 3}) + '\n')
    with pytest.raises(ValueError, match='holds no eval/return'):
        read_returns(empty)
    with pytest.raises(SystemExit, match='metrics.jsonl does not exist'):
        plot.main(['--out', str(tmp_path / 'x.png'), '--method', 'A', str(tmp_path / 'nope')])


def write_source_run(directory, tasks, evals):
    """A multi-task run's config.yaml and metrics.jsonl: `evals` is a list of
    (step, [return of each task])."""
    directory.mkdir()
    (directory / 'config.yaml').write_text(f'method: multitask\nsource_tasks: {",".join(tasks)}\n')
    lines = [dict({'step': step, 'eval/return': sum(r) / len(r)},
                  **{f'eval/return/task{i}': v for i, v in enumerate(r)}) for step, r in evals]
    (directory / 'metrics.jsonl').write_text(''.join(json.dumps(x) + '\n' for x in lines))
    return directory


def test_plot_per_task_draws_each_source_task_of_multi_task_runs(tmp_path, capsys):
    tasks = ['dmc_reacher_goal0', 'dmc_reacher_goal1']
    a = write_source_run(tmp_path / 'a', tasks, [(5002, [1.0, 3.0]), (10012, [10.0, 30.0])])
    b = write_source_run(tmp_path / 'b', tasks, [(5002, [3.0, 5.0]), (10012, [20.0, 50.0])])
    out = tmp_path / 'sources.png'
    plot.main(['--out', str(out), '--per_task', '--method', 'V-MAIL', str(a), str(b)])
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    table = capsys.readouterr().out
    # goal 0 at 10012: (10 + 20) / 2 = 15, sd 5; goal 1: (30 + 50) / 2 = 40, sd 10
    assert '| V-MAIL: dmc_reacher_goal0 | 2 | 15.0 ± 5.0 | – | 10012 env steps |' in table
    assert '| V-MAIL: dmc_reacher_goal1 | 2 | 40.0 ± 10.0 | – | 10012 env steps |' in table


def test_plot_per_task_refuses_single_task_runs_and_mixed_sources(tmp_path):
    single = write_metrics(tmp_path / 'single', [(100, 1.0)], method='vmail')
    with pytest.raises(SystemExit, match='names no source_tasks'):
        plot.main(['--out', str(tmp_path / 'x.png'), '--per_task', '--method', 'A', str(single)])
    a = write_source_run(tmp_path / 'a', ['dmc_x', 'dmc_y'], [(100, [1.0, 2.0])])
    b = write_source_run(tmp_path / 'b', ['dmc_x', 'dmc_z'], [(100, [1.0, 2.0])])
    with pytest.raises(SystemExit, match='different source tasks'):
        plot.main(['--out', str(tmp_path / 'x.png'), '--per_task', '--method', 'A', str(a), str(b)])
    assert not (tmp_path / 'x.png').exists()
