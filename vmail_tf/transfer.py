"""Transfer to a new task from its demonstrations alone, the second half of
the paper's Algorithm 2 (docs/design.md section 9): the world model of a
source run, fine-tuned on the target demos and the source run's data, and a
fresh discriminator, actor and value trained on its rollouts. The
environment is stepped only to measure the policy; those episodes are
neither stored nor trained on."""
import logging
import pathlib

import tensorflow as tf

from vmail_tf import config as config_lib
from vmail_tf import demos, episodes
from vmail_tf.agent import Agent
from vmail_tf.config import ConfigError
from vmail_tf.multitask import source_task_configs
from vmail_tf.trainer_base import (TrainerBase, checkpoint_counter, newest_readable,
                                   recorded_checkpoints)

log = logging.getLogger(__name__)

# Keys that shape the world model or its data: a target run must share them
# with its source run.
SHARED_KEYS = ('image_size', 'action_repeat', 'cnn_depth', 'deter_size', 'stoch_size',
               'hidden_size', 'min_std', 'fast_render', 'camera')


def source_run(config):
    """The source run's logdir, config and newest checkpoint, checked
    against the target config."""
    if not config.transfer_from:
        raise ConfigError('method transfer needs `transfer_from`: the logdir of a source run')
    logdir = pathlib.Path(config.transfer_from).expanduser()
    try:
        source = config_lib.load_run_config(logdir)
    except FileNotFoundError as e:
        raise ConfigError(f'transfer_from: {e}') from None
    checkpoint, skipped = newest_readable(recorded_checkpoints(logdir / 'checkpoint'))
    for bad, problem in skipped:
        log.warning('transfer_from: skipping unreadable checkpoint %s: %s', bad, problem)
    if checkpoint is None:
        raise ConfigError(f'transfer_from: no readable checkpoint in {logdir / "checkpoint"}')
    different = [f'{k} ({source[k]!r} there, {config[k]!r} here)'
                 for k in SHARED_KEYS if source[k] != config[k]]
    if different:
        raise ConfigError(f'transfer_from {logdir}: the source run differs in '
                          f'{", ".join(different)}')
    return logdir, source, checkpoint


def check_same_source(config):
    """A transfer logdir with a checkpoint resumes the run it holds, whose
    world model came from its own source: refuse another source there."""
    logdir = pathlib.Path(config.logdir)
    if not (logdir / 'config.yaml').exists() or not recorded_checkpoints(logdir / 'checkpoint'):
        return
    saved = (config_lib.read_yaml(logdir / 'config.yaml') or {}).get('transfer_from')
    resolved = lambda path: pathlib.Path(path).expanduser().resolve()
    if saved and resolved(saved) != resolved(config.transfer_from):
        raise ConfigError(f'{logdir} holds a transfer run from {saved}; this one transfers '
                          f'from {config.transfer_from}: give it another --logdir')


def source_agent_files(logdir, checkpoint):
    """The source run's agent episode files that `checkpoint` counts. A
    source killed after it wrote more leaves them on disk until it resumes
    (which sets them aside); the checkpoint's model never trained on them."""
    files = episodes.list_files(logdir / 'train_episodes')
    # Versions before the count kept every file in the replay.
    counted = checkpoint_counter(checkpoint, 'stored_episodes', absent=len(files))
    if len(files) > counted:
        print(f'Leaving out the {episodes.count_text(len(files) - counted)} of '
              f'{logdir / "train_episodes"} written after {checkpoint}', flush=True)
    return files[:counted]


class TransferTrainer(TrainerBase):
    """`transfer_steps` updates of a fresh single-task agent whose world
    model starts from the source run's; its x-axis is the update count."""

    unit = 'updates'

    def __init__(self, config):
        self.source_logdir, self.source_config, source_checkpoint = source_run(config)
        check_same_source(config)
        super().__init__(config)
        action_size = self.eval_driver.action_size
        sources = (source_task_configs(self.source_config)
                   if self.source_config.method == 'multitask' else [self.source_config])
        for i, source in enumerate(sources):
            folder, experts = demos.expert_episodes(source, action_size, record=False)
            for episode in experts:
                self.replay.add_expert(episode, pool=f'source{i}')
            print(f'{len(experts)} source expert episodes from {folder}', flush=True)
        files = source_agent_files(self.source_logdir, source_checkpoint)
        for path, episode in episodes.load_files(files, newest_steps=config.replay_capacity):
            self.replay.add_agent(path.name, episode)
        print(f'{self.replay.num_agent_episodes} source agent episodes in replay', flush=True)
        if self.step() == 0:  # a resumed transfer run has its own checkpoint
            self._restore_world_model(source_checkpoint)

    def _restore_world_model(self, path):
        """Encoder, RSSM, decoder and their optimiser from `path`."""
        model = tf.Module()
        model.encoder, model.rssm = self.agent.encoder, self.agent.rssm
        model.decoder, model.model_opt = self.agent.decoder, self.agent.model_opt
        status = tf.train.Checkpoint(agent=model).restore(path)
        status.assert_existing_objects_matched().expect_partial()  # the source's heads stay behind
        self.agent.model_opt.reset_learning_rate()
        print(f'World model from {path}', flush=True)

    def make_agent(self, action_size):
        return Agent(self.config, action_size)

    def step(self):
        return int(self.agent.step.numpy())

    def evaluate(self):
        return self.evaluate_task(self.eval_driver, self.agent.policy, '', save=False)

    def loop(self):
        c = self.config
        return self.update_loop(c.transfer_steps, c.transfer_eval_every,
                                'transfer: model, D, actor, value')
