"""A run stopped anywhere resumes with the updates of an uninterrupted run:
none of a round's updates lost, no pretraining repeated or skipped, and the
round's evaluation still made. Real Trainer, env workers and checkpoints;
the stop is requested the way SIGTERM requests it, after a chosen update."""
import json
import pathlib

import numpy as np

import pytest
import tensorflow as tf

from vmail_tf import config as config_lib, episodes
from vmail_tf.stopping import StopRequested
from vmail_tf.trainer import Trainer
from vmail_tf.trainer_base import ResumeError

from helpers import latest_checkpoint_value


@pytest.fixture
def config(tmp_path):
    # debug: prefill 100, rounds of 100 env steps up to 400, eval every 200
    return config_lib.merge(['dmc', 'cartpole', 'debug'], [
        ('logdir', str(tmp_path / 'run')), ('demo_cache', str(tmp_path / 'demos')),
        ('action_repeat', 2), ('train_steps', 4), ('model_pretrain', 5)])


def count_calls(trainer, method, stop_at=None):
    """Counts the agent's calls of `method`; asks the run to stop (as a
    signal does) once the count reaches `stop_at`."""
    real, calls = getattr(trainer.agent, method), []

    def counted(*args):
        result = real(*args)
        calls.append(1)
        if len(calls) == stop_at:
            trainer.stop.requested = True
        return result

    setattr(trainer.agent, method, counted)
    return calls


def run(config, stop_method=None, stop_at=None):
    """Runs a Trainer; returns its (V-MAIL update, pretraining update) calls."""
    trainer = Trainer(config)
    updates = count_calls(trainer, 'train', stop_at if stop_method == 'train' else None)
    pretrain = count_calls(
        trainer, 'train_model', stop_at if stop_method == 'train_model' else None)
    if stop_method:
        with pytest.raises(StopRequested):
            trainer.run()
    else:
        trainer.run()
    return trainer, len(updates), len(pretrain)


def eval_steps(config):
    with open(f'{config.logdir}/metrics.jsonl') as f:
        return [line['step'] for line in map(json.loads, f) if 'eval/return' in line]


# 4 rounds (ending at env steps 100, 200, 300, 400) of 4 updates each.
UPDATES = 16


def test_a_stop_mid_round_resumes_the_rest_of_the_round(config):
    # Update 6 is the second of the round ending at env step 200.
    stopped, updates, _ = run(config, 'train', 6)
    assert updates == 6 and int(stopped.env_step.numpy()) == 200
    assert int(stopped.owed_updates.numpy()) == 2
    resumed, more, pretrain = run(config)
    assert updates + more == UPDATES
    assert int(resumed.agent.step.numpy()) == UPDATES
    assert pretrain == 0
    assert eval_steps(config) == [200, 400]  # the interrupted round's eval too


def test_a_stop_mid_pretraining_resumes_the_rest_of_it(config):
    stopped, updates, pretrain = run(config, 'train_model', 3)
    assert (updates, pretrain) == (0, 3)
    assert int(stopped.pretrain_done.numpy()) == 3
    resumed, more_updates, more_pretrain = run(config)
    assert pretrain + more_pretrain == config.model_pretrain
    assert more_updates == UPDATES and int(resumed.agent.step.numpy()) == UPDATES


def test_a_kill_sets_aside_the_episodes_written_after_the_checkpoint(config):
    # Episodes of 200 env steps end at env steps 200 and 400. A kill in the
    # last round (update 14) finds the second on disk, but the newest
    # checkpoint is the eval's at env step 200, which counted one.
    killed = Trainer(config)
    count_calls(killed, 'train', stop_at=14)
    save = killed.save
    killed.save = lambda: None if killed.stop.requested else save()  # a kill saves nothing
    with pytest.raises(StopRequested):
        killed.run()
    assert latest_checkpoint_value(config.logdir, 'env_step') == 200
    folder = pathlib.Path(config.logdir, 'train_episodes')
    before = episodes.list_files(folder)
    assert len(before) == 2
    resumed, _, _ = run(config)
    moved = list(pathlib.Path(config.logdir, 'episodes_after_checkpoint').glob('*/*.npz'))
    assert [path.name for path in moved] == [before[1].name]
    after = episodes.list_files(folder)
    assert after[0] == before[0] and len(after) == 2
    # The replay holds exactly the env steps the run counts.
    assert sum(episodes.env_steps(episodes.load(path), 2) for path in after) == 400
    assert int(resumed.env_step.numpy()) == 400 and resumed.replay.num_agent_episodes == 2


def test_a_checkpoint_without_the_episode_count_keeps_every_episode(config, caplog):
    # A checkpoint as versions before `stored_episodes` wrote it, at env step 200.
    first = Trainer(config_lib.Config(dict(config, steps=200)))
    first.run()
    counters = {name: v for name, v in first.counters().items() if name != 'stored_episodes'}
    tf.train.CheckpointManager(tf.train.Checkpoint(agent=first.agent, **counters),
                               first.manager.directory, max_to_keep=5).save(checkpoint_number=9)
    resumed = Trainer(config)
    assert resumed.manager.latest_checkpoint.endswith('ckpt-9')
    assert 'predates the count of stored episodes: the 1 episode on disk' in caplog.text
    assert int(resumed.stored_episodes.numpy()) == 1 and resumed.replay.num_agent_episodes == 1
    resumed.run()
    assert latest_checkpoint_value(config.logdir, 'stored_episodes') == 2
    assert not pathlib.Path(config.logdir, 'episodes_after_checkpoint').exists()


def test_a_checkpoint_without_a_counter_it_cannot_rebuild_is_refused(config):
    first = Trainer(config)
    first.close()
    counters = {name: v for name, v in first.counters().items() if name != 'owed_updates'}
    tf.train.CheckpointManager(tf.train.Checkpoint(agent=first.agent, **counters),
                               first.manager.directory, max_to_keep=5).save(checkpoint_number=9)
    with pytest.raises(ResumeError, match=r'ckpt-9: it has no owed_updates counter'):
        Trainer(config)


def poisoned_after(dataset, good):
    """The run's batches, with NaN actions in the model batch after `good`
    batches: what a corrupt input would do inside the graph."""
    for index, data in enumerate(dataset):
        if index >= good:
            data = dict(data, model=dict(data['model'], action=data['model']['action'] * np.nan))
        yield data


def test_nonfinite_updates_are_not_applied_and_never_checkpointed(config, capsys):
    from vmail_tf import nonfinite
    trainer = Trainer(config_lib.Config(dict(config, model_pretrain=0, max_nonfinite_updates=3)))
    trainer.dataset = poisoned_after(trainer.dataset, good=8)  # 2 good rounds, eval at 200
    with pytest.raises(nonfinite.NonFiniteError, match=(
            r'3 updates in a row had non-finite losses or gradients \(last: world model, '
            r'.* at update 11, env step 300\).*resumes from .*ckpt-')):
        trainer.run()
    for variable in trainer.agent.variables:  # the poisoned updates were not applied
        assert np.all(np.isfinite(variable.numpy())), variable.name
    assert int(trainer.agent.step.numpy()) == 8 + 3  # the step counter still counts them
    assert latest_checkpoint_value(config.logdir, 'env_step') == 200
    reader = tf.train.load_checkpoint(trainer.manager.latest_checkpoint)
    for name in reader.get_variable_to_shape_map():
        value = reader.get_tensor(name)
        if np.issubdtype(np.asarray(value).dtype, np.floating):
            assert np.all(np.isfinite(value)), name


def test_a_checkpoint_of_nonfinite_variables_is_refused(config):
    from vmail_tf import nonfinite
    trainer = Trainer(config)
    try:
        trainer.agent.value.out.bias.assign([np.nan])
        with pytest.raises(nonfinite.NonFiniteError, match='1 variables hold non-finite.*value'):
            trainer.save()
        assert trainer.manager.latest_checkpoint is None
    finally:
        trainer.close()


def test_a_checkpoint_cut_short_is_skipped_for_the_one_before(config, caplog):
    run(config_lib.Config(dict(config, model_pretrain=0)))
    newest = tf.train.latest_checkpoint(f'{config.logdir}/checkpoint')
    data = pathlib.Path(f'{newest}.data-00000-of-00001')
    data.write_bytes(data.read_bytes()[:100])  # what a kill during the write leaves
    resumed = Trainer(config)
    try:
        assert int(resumed.env_step.numpy()) == 200 and int(resumed.agent.step.numpy()) == 8
        assert f'skipping unreadable checkpoint {newest}' in caplog.text
    finally:
        resumed.close()


def test_a_run_resumed_with_other_learning_rates_uses_them(config):
    stopped, _, _ = run(config, 'train', 2)
    assert stopped.agent.actor_opt.opt.learning_rate.numpy() == pytest.approx(config.actor_lr)
    changed = config_lib.Config(dict(config, model_lr=1e-5, actor_lr=2e-5))
    resumed = Trainer(changed)
    try:
        assert int(resumed.agent.step.numpy()) == 2  # restored, Adam's saved rates included
        assert resumed.agent.model_opt.opt.learning_rate.numpy() == pytest.approx(1e-5)
        assert resumed.agent.actor_opt.opt.learning_rate.numpy() == pytest.approx(2e-5)
        assert resumed.agent.value_opt.opt.learning_rate.numpy() == pytest.approx(config.value_lr)
    finally:
        resumed.close()


def test_a_logdir_of_other_network_sizes_is_refused_and_left_as_it_was(config):
    run(config_lib.Config(dict(config, model_pretrain=0)))
    checkpoints = pathlib.Path(config.logdir, 'checkpoint')
    before = {path.name: path.read_bytes() for path in checkpoints.iterdir()}
    with pytest.raises(ResumeError, match=r'cannot resume from .*ckpt-\d+: it does not match '
                                          r'this config .*Use a new --logdir'):
        Trainer(config_lib.Config(dict(config, model_pretrain=0, num_units=24)))
    assert {path.name: path.read_bytes() for path in checkpoints.iterdir()} == before
    assert list(pathlib.Path(config.logdir).glob('config-*.yaml'))  # the run's own config kept


def test_a_failed_write_stops_the_run_naming_the_file_and_keeps_the_checkpoint(
        config, monkeypatch):
    import errno
    import os
    from vmail_tf.runs import WriteFailed
    config = config_lib.Config(dict(config, model_pretrain=0))
    run(config_lib.Config(dict(config, steps=200)))
    kept = tf.train.latest_checkpoint(f'{config.logdir}/checkpoint')

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, 'fsync', disk_full)  # the episode writer's last step
    trainer = Trainer(config)
    with pytest.raises(WriteFailed, match=(
            r'cannot write .*/train_episodes/[^/]*\.npz: No space left on device\. The run '
            r'stopped\. No checkpoint was written; a re-run resumes from .*' + kept.split('/')[-1])):
        trainer.run()
    assert tf.train.latest_checkpoint(f'{config.logdir}/checkpoint') == kept
    assert latest_checkpoint_value(config.logdir, 'env_step') == 200
    assert not list(pathlib.Path(config.logdir, 'train_episodes').glob('.*'))  # no temp file
