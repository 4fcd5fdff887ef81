"""Multi-task V-MAIL: per-task heads on one world model, and its run."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from vmail_tf import config as config_lib
from vmail_tf.config import ConfigError
from vmail_tf.multitask import MultiTaskAgent, source_task_configs

from helpers import latest_checkpoint_value

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAD_MODULES = ('discriminator', 'actor', 'value')


def test_source_tasks_need_two_tasks_and_one_folder_each(debug_config):
    one = config_lib.Config(dict(debug_config, source_tasks='dmc_walker_stand'))
    with pytest.raises(ConfigError, match='at least two tasks'):
        source_task_configs(one)
    mismatched = config_lib.Config(dict(
        debug_config, source_tasks='dmc_walker_stand,dmc_walker_run', source_expert_dirs='a'))
    with pytest.raises(ConfigError, match='1 entries for 2 source tasks'):
        source_task_configs(mismatched)
    both = config_lib.Config(dict(mismatched, source_expert_dirs='a, '))
    assert [(c.task, c.expert_dir) for c in source_task_configs(both)] == [
        ('dmc_walker_stand', 'a'), ('dmc_walker_run', '')]


def test_one_update_trains_the_shared_model_and_every_tasks_head(debug_config):
    config = config_lib.Config(dict(debug_config, free_nats=0.0,
                                    source_tasks='dmc_walker_stand,dmc_walker_run'))
    agent = MultiTaskAgent(config, action_size=1)
    assert len(agent.heads) == 2 and agent.heads[0] is agent
    assert all(getattr(agent.heads[1], name) is not getattr(agent, name) for name in HEAD_MODULES)
    rng = np.random.default_rng(0)
    b, t = config.batch_size, config.batch_length
    part = lambda length: {
        'image': rng.integers(0, 256, (b, length, 64, 64, 3), dtype=np.uint8),
        'action': rng.uniform(-1, 1, (b, length, 1)).astype(np.float32)}
    data = {'model': part(t), 'expert0': part(t + 1), 'expert1': part(t + 1)}
    modules = [agent.encoder, agent.rssm, agent.decoder] + [
        getattr(head, name) for head in agent.heads for name in HEAD_MODULES]
    before = [[v.numpy().copy() for v in m.trainable_variables] for m in modules]
    metrics = {k: float(v) for k, v in agent.train(data).items()}
    for module, old in zip(modules, before):
        assert any(not np.allclose(o, v.numpy()) for o, v in zip(old, module.trainable_variables))
    assert metrics['disc_loss'] == pytest.approx(
        (metrics['task0/disc_loss'] + metrics['task1/disc_loss']) / 2, rel=1e-5)
    # each task acts with its own actor
    image = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    state = agent.initial_policy_state(2)
    first = np.ones(2, bool)
    actions = [policy(image, state, first, False)[0].numpy() for policy in agent.task_policies]
    assert not np.allclose(actions[0], actions[1])


def test_a_multitask_run_collects_and_evaluates_every_task_and_resumes(tmp_path):
    command = [sys.executable, '-m', 'vmail_tf.train', '--configs', 'dmc', 'multitask', 'debug',
               '--time_limit', '100', '--logdir', str(tmp_path / 'run'),
               '--demo_cache', str(tmp_path / 'demos')]
    result = subprocess.run(command + ['--steps', '300'], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert 'Resumed from' in result.stdout and 'Done: 400 env steps' in result.stdout
    # updates at the prefill's end (100) and after every 100 env steps: 4 rounds of 2
    assert latest_checkpoint_value(tmp_path / 'run', 'agent/step') == 8
    logged = [json.loads(line) for line in (tmp_path / 'run' / 'metrics.jsonl').open()]
    keys = set().union(*logged)
    for task in ('task0', 'task1'):
        assert f'eval/return/{task}' in keys and f'train/return/{task}' in keys
        assert f'train/{task}/d_expert' in keys


def test_a_stop_between_tasks_leaves_the_first_tasks_new_episode_uncounted(tmp_path):
    from vmail_tf import episodes
    from vmail_tf.multitask import MultiTaskTrainer
    from vmail_tf.stopping import StopRequested
    # Episodes of 50 env steps: each 100-step round collects one per task,
    # task 0 first. A stop asked for as task 1 starts its share of the round
    # ending at env step 300 finds task 0's episode of that round on disk.
    config = config_lib.merge(['dmc', 'multitask', 'debug'], [
        ('time_limit', 50), ('action_repeat', 2), ('logdir', str(tmp_path / 'run')),
        ('demo_cache', str(tmp_path / 'demos'))])
    stopped = MultiTaskTrainer(config)
    run = stopped.task_drivers[1].run

    def stop_in_round_three(*args, **kwargs):
        if stopped.step() == 200:
            stopped.stop.requested = True
        return run(*args, **kwargs)

    stopped.task_drivers[1].run = stop_in_round_three
    with pytest.raises(StopRequested):
        stopped.run()
    assert latest_checkpoint_value(tmp_path / 'run', 'env_step') == 200
    assert latest_checkpoint_value(tmp_path / 'run', 'stored_episodes') == 4
    folder = tmp_path / 'run' / 'train_episodes'
    before = episodes.list_files(folder)
    assert len(before) == 5
    resumed = MultiTaskTrainer(config)
    moved = list((tmp_path / 'run' / 'episodes_after_checkpoint').glob('*/*.npz'))
    assert [path.name for path in moved] == [before[-1].name]
    assert resumed.replay.num_agent_episodes == 4
    resumed.run()
    after = episodes.list_files(folder)
    assert sum(episodes.env_steps(episodes.load(path), 2) for path in after) == 400
