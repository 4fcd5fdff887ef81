"""Transfer from a multi-task source run to a new task with no env steps."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from helpers import latest_checkpoint_value

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def train(*args):
    return subprocess.run([sys.executable, '-m', 'vmail_tf.train', *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope='module')
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp('transfer')
    result = train('--configs', 'dmc', 'multitask', 'debug', '--steps', '200', '--time_limit',
                   '100', '--logdir', str(root / 'source'), '--demo_cache', str(root / 'demos'))
    assert result.returncode == 0, result.stderr
    return root


def test_transfer_trains_from_the_source_model_without_env_steps(source, tmp_path):
    """The paper's walker family: sources stand and run, target walk at 2-4 m/s
    (demos of a zero policy: recorded in a second, where the built-in
    expert's take minutes)."""
    from vmail_tf import config as config_lib
    from vmail_tf import demos
    target = tmp_path / 'target'
    source_episodes = len(list((source / 'source' / 'train_episodes').glob('*.npz')))
    assert source_episodes > 0
    band_demos = tmp_path / 'band_demos'
    demos.record(lambda obs: np.zeros(6, np.float32),
                 config_lib.merge(['dmc', 'walker_band', 'debug'], [('time_limit', 100)]),
                 band_demos, 1)
    result = train('--configs', 'dmc', 'walker_band', 'transfer', 'debug', '--time_limit', '100',
                   '--transfer_from', str(source / 'source'), '--transfer_steps', '4',
                   '--transfer_eval_every', '2', '--logdir', str(target),
                   '--expert_dir', str(band_demos))
    assert result.returncode == 0, result.stderr
    assert 'World model from' in result.stdout and 'Done: 4 updates' in result.stdout
    # the environment was stepped only to measure: nothing stored, nothing counted
    assert not list(target.glob('*_episodes/*.npz'))
    logged = [json.loads(line) for line in (target / 'metrics.jsonl').open()]
    counts = [entry['replay/agent_episodes'] for entry in logged
              if 'replay/agent_episodes' in entry]
    assert counts == [source_episodes, source_episodes]
    assert [entry['step'] for entry in logged if 'eval/return' in entry] == [0, 2, 4]
    assert latest_checkpoint_value(target, 'agent/step') == 4
    names = [name for name, _ in tf.train.list_variables(tf.train.latest_checkpoint(
        str(target / 'checkpoint')))]
    assert not any(name.startswith('env_step') for name in names)


def test_the_world_model_starts_from_the_source_run(source, tmp_path):
    from vmail_tf import config as config_lib
    from vmail_tf.transfer import TransferTrainer
    # A fine-tuning rate of its own: the source checkpoint's Adam holds the source's.
    assert config_lib.load_run_config(source / 'source').model_lr != 1e-4
    config = config_lib.merge(['dmc', 'walker', 'transfer', 'debug'], [
        ('time_limit', 100), ('transfer_from', str(source / 'source')), ('model_lr', 1e-4),
        ('logdir', str(tmp_path / 'target')), ('demo_cache', str(source / 'demos'))])
    trainer = TransferTrainer(config)
    try:
        reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(
            str(source / 'source' / 'checkpoint')))
        kernel = trainer.agent.encoder.convs[0].kernel
        saved = reader.get_tensor('agent/encoder/convs/0/kernel/.ATTRIBUTES/VARIABLE_VALUE')
        np.testing.assert_array_equal(kernel.numpy(), saved)
        assert trainer.agent.model_opt.opt.learning_rate.numpy() == pytest.approx(1e-4)
    finally:
        trainer.close()


def test_a_transfer_logdir_refuses_another_source(source, tmp_path):
    other = tmp_path / 'other_source'
    shutil.copytree(source / 'source', other)
    common = ['--configs', 'dmc', 'walker', 'transfer', 'debug', '--time_limit', '100',
              '--transfer_steps', '2', '--transfer_eval_every', '2',
              '--logdir', str(tmp_path / 'target'), '--demo_cache', str(source / 'demos')]
    result = train(*common, '--transfer_from', str(source / 'source'))
    assert result.returncode == 0, result.stderr
    before = sorted(path.name for path in (tmp_path / 'target').iterdir())
    result = train(*common, '--transfer_from', str(other))
    assert result.returncode != 0
    assert f'holds a transfer run from {source / "source"}' in result.stderr
    assert sorted(path.name for path in (tmp_path / 'target').iterdir()) == before


def test_episodes_a_killed_source_wrote_after_its_checkpoint_are_left_out(source, tmp_path):
    from vmail_tf import config as config_lib
    from vmail_tf import episodes
    from vmail_tf.transfer import TransferTrainer
    killed = tmp_path / 'source'
    shutil.copytree(source / 'source', killed)
    counted = len(episodes.list_files(killed / 'train_episodes'))
    newest = episodes.list_files(killed / 'train_episodes')[-1]
    shutil.copy(newest, killed / 'train_episodes' / f'99991231T235959-after-{newest.name}')
    config = config_lib.merge(['dmc', 'walker', 'transfer', 'debug'], [
        ('time_limit', 100), ('transfer_from', str(killed)),
        ('logdir', str(tmp_path / 'target')), ('demo_cache', str(source / 'demos'))])
    trainer = TransferTrainer(config)
    try:
        assert trainer.replay.num_agent_episodes == counted
    finally:
        trainer.close()
    assert len(episodes.list_files(killed / 'train_episodes')) == counted + 1  # left on disk


def test_a_source_with_another_model_size_or_no_run_is_refused(source, tmp_path):
    common = ['--configs', 'dmc', 'walker', 'transfer', 'debug', '--logdir', str(tmp_path / 't')]
    result = train(*common, '--transfer_from', str(source / 'source'), '--cnn_depth', '8')
    assert result.returncode != 0 and 'differs in cnn_depth (4 there, 8 here)' in result.stderr
    result = train(*common, '--transfer_from', str(tmp_path / 'nowhere'))
    assert result.returncode != 0 and 'nowhere/config.yaml does not exist' in result.stderr
    assert not (tmp_path / 't').exists()


def test_a_source_head_runs_on_another_task_for_policy_transfer(source, tmp_path):
    run = str(source / 'source')
    out = tmp_path / 'policy_transfer.json'
    command = [sys.executable, '-m', 'vmail_tf.evaluate', '--logdir', run, '--episodes', '1',
               '--task', 'dmc_walker_walk_band', '--head', '1', '--json', str(out)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert '(multitask, dmc_walker_walk_band, head 1)' in result.stdout
    record = json.loads(out.read_text())
    assert record['task'] == 'dmc_walker_walk_band' and record['head'] == 1
    assert record['episodes'] == 1 and np.isfinite(record['return'])
    command[command.index('--head') + 1] = '2'
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0 and '--head 2: the run in' in result.stderr
    assert 'has 2 task head(s)' in result.stderr
