"""A run stopped anywhere resumes with the updates of an uninterrupted run:
none of a round's updates lost, no pretraining repeated or skipped, and the
round's evaluation still made. Real Trainer, env workers and checkpoints;
the stop is requested the way SIGTERM requests it, after a chosen update."""
import json

import pytest

from vmail_tf import config as config_lib
from vmail_tf.runs import StopRequested
from vmail_tf.trainer import Trainer


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
