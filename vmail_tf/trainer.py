"""The V-MAIL run, Algorithm 1: random prefill, then rounds of collecting
`train_every` env steps with the policy and running `train_steps` updates,
with evaluation and checkpoints on schedule. Everything is written under the
run's logdir; re-running resumes, to the update (docs/design.md section 7)."""
import functools
import logging
import time

import numpy as np
import tensorflow as tf

from vmail_tf import episodes, nonfinite
from vmail_tf.agent import Agent
from vmail_tf.driver import make_driver
from vmail_tf.logger import tile_videos
from vmail_tf.progress import Progress
from vmail_tf.schedule import crossed
from vmail_tf.trainer_base import TrainerBase

log = logging.getLogger(__name__)


class Trainer(TrainerBase):

    def __init__(self, config):
        # The round in progress, so that a stop anywhere resumes it exactly:
        # the env step it started from (equal to env_step once it is done),
        # its updates still owed, and the world-model pretraining done so far.
        self.env_step = tf.Variable(0, dtype=tf.int64, trainable=False, name='env_step')
        self.round_start = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.owed_updates = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.pretrain_done = tf.Variable(0, dtype=tf.int64, trainable=False)
        # Agent episodes on disk whose env steps env_step counts; those of a
        # chunk join it with the chunk's env steps, so a stop mid-chunk (a
        # multi-task round collects task after task) leaves them uncounted.
        self.stored_episodes = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.chunk_episodes = 0
        super().__init__(config)
        self.driver = make_driver(config, 'train', config.envs)
        self.drivers.append(self.driver)
        self.policy_states = {}  # task -> the exploring policy's latent state
        self.last_metrics = {}

    def make_agent(self, action_size):
        return Agent(self.config, action_size)

    def counters(self):
        return {'env_step': self.env_step, 'round_start': self.round_start,
                'owed_updates': self.owed_updates, 'pretrain_done': self.pretrain_done,
                'stored_episodes': self.stored_episodes}

    def step(self):
        return int(self.env_step.numpy())

    def counters_absent(self, path, names):
        if names != ['stored_episodes']:
            super().counters_absent(path, names)
        # Versions before this counter kept every episode on disk in the replay.
        count = len(episodes.list_files(self.logdir / 'train_episodes'))
        self.stored_episodes.assign(count)
        log.warning('%s predates the count of stored episodes: the %s on disk all '
                    'stay in the replay, as that version kept them', path,
                    episodes.count_text(count))

    def set_aside_unsaved_episodes(self, folder):
        """A kill loses the env steps since the last checkpoint, which the
        resumed run takes again; their episode files (the newest) would give
        it more data than its step count says, so they are moved aside."""
        extra = episodes.list_files(folder)[int(self.stored_episodes.numpy()):]
        if not extra:
            return
        stamp = time.strftime('%Y%m%dT%H%M%S')
        destination = self.logdir / 'episodes_after_checkpoint' / stamp
        episodes.set_aside(extra, destination)
        print(f'Moved {len(extra)} episode files written after the checkpoint '
              f'(at env step {self.step()}) to {destination}: the resumed run '
              f'takes those env steps again', flush=True)

    # ----------------------------------------------------------- the loop

    def loop(self):
        """Algorithm 1: collect a chunk of env steps (random during the
        prefill), then finish the round: its updates, logs and evaluation."""
        c = self.config
        step = self.step()
        progress = Progress(c.steps, c.progress_every, step, self.stop)
        self.log_time, self.log_step = time.time(), step
        if int(self.round_start.numpy()) < step:  # a round a stop interrupted
            self._finish_round(int(self.round_start.numpy()), step, progress)
            progress.restart(step)  # its updates were owed for steps before this run
        while step < c.steps:
            prefill = step < c.prefill
            chunk = min(c.prefill - step if prefill else c.train_every, c.steps - step)
            phase = 'random prefill' if prefill else 'collecting'
            before = step
            with self.times.measure('collect'):
                taken = self._collect(prefill, chunk, lambda done: progress.update(
                    before + done, self.last_metrics, phase))
            step = before + taken
            self.env_step.assign(step)
            self.stored_episodes.assign_add(self.chunk_episodes)
            self.chunk_episodes = 0
            if step >= c.prefill:
                self.owed_updates.assign(c.train_steps)
            self._finish_round(before, step, progress)
        return step

    def _finish_round(self, before, step, progress):
        """Everything due for the env steps (before, step]: pretraining and
        updates (interruptible and resumed), then logs, video and evaluation."""
        c = self.config
        if step >= c.prefill:
            with self.times.measure('train'):
                self._pretrain_model(progress, step)
                self._pay_owed_updates(progress, step)
        if crossed(before, step, c.log_every) or step >= c.steps:
            fps = (step - self.log_step) / max(time.time() - self.log_time, 1e-6)
            self.log_scalars(step, fps)
            self.log_time, self.log_step = time.time(), step
        if step >= c.prefill and (crossed(before, step, c.video_every) or step >= c.steps):
            with self.times.measure('video'):
                self._video(step)
        self.round_start.assign(step)
        if crossed(before, step, c.eval_every) or step >= c.steps:
            with self.times.measure('eval'):
                progress.eval_return = self.evaluate()
                self.save()
        progress.round_done(step)
        progress.update(step, self.last_metrics, force=step >= c.steps)
        if before < c.prefill:  # random steps are far faster than rounds with updates
            progress.restart(step)

    # --------------------------------------------------------- collection

    def _collect(self, prefill, chunk, on_step):
        """`chunk` env steps with random actions (prefill) or the exploring
        policy, stored; returns the env steps taken."""
        return self.collect_task(self.driver, self.agent.policy, '', prefill, chunk, on_step)

    def collect_task(self, driver, policy, task, prefill, chunk, on_step):
        """`chunk` env steps on `driver` with random actions or `policy`
        exploring, stored with the stats of `task` ('' for a single task)."""
        if prefill:
            act = self._random_policy
        else:
            act = functools.partial(self._explore, policy, task)
            if task not in self.policy_states:
                self.policy_states[task] = self.agent.initial_policy_state(len(driver.workers))
        taken, finished = driver.run(act, steps=chunk, on_step=on_step)
        self._store(finished, task)
        return taken

    def _random_policy(self, obs, is_first):
        return np.random.uniform(-1, 1, (len(is_first), self.driver.action_size))

    def _explore(self, policy, task, obs, is_first):
        action, self.policy_states[task] = policy(
            obs['image'], self.policy_states[task], is_first, True)
        action = action.numpy()
        if not np.all(np.isfinite(action)):  # never send NaN to the simulator
            raise nonfinite.NonFiniteError(
                f'the policy returned non-finite actions at env step {self.step()}')
        return action

    def _store(self, finished, task):
        suffix = f'/{task}' if task else ''
        for episode in finished:
            path = episodes.save(self.logdir / 'train_episodes', episode)
            self.chunk_episodes += 1
            self.replay.add_agent(path.name, episode)
            self.episode_stats[f'train/return{suffix}'].append(episodes.episode_return(episode))
            self.episode_stats[f'train/length{suffix}'].append(
                episodes.env_steps(episode, self.config.action_repeat))

    # ----------------------------------------------------------- training

    def _pay_owed_updates(self, progress, step):
        """The round's V-MAIL updates not yet run (all of them, or the rest
        of a round a stop interrupted)."""
        total, started = self.config.train_steps, time.time()
        first = total - int(self.owed_updates.numpy())
        while int(self.owed_updates.numpy()) > 0:
            self.last_metrics = self.train_step(
                self.agent.train, f'update {int(self.agent.step.numpy()) + 1}, env step {step}')
            self.owed_updates.assign_sub(1)
            done = total - int(self.owed_updates.numpy())
            progress.update(step, self.last_metrics, 'training',
                            work=(done - first, total - first, started))

    def _pretrain_model(self, progress, step):
        """`model_pretrain` world-model updates on the prefill and expert data
        before the first V-MAIL update, so that the first imagined rollouts
        start from a model that has learned the scene (a fresh model needs
        thousands of updates to draw cartpole's swinging pole:
        results/cartpole_swingup/README.md). A stopped run continues where
        it stopped. Its time is left out of the step rate with the prefill's."""
        total = self.config.model_pretrain
        if int(self.agent.step.numpy()) > 0 or int(self.pretrain_done.numpy()) >= total:
            return
        started, first = time.time(), int(self.pretrain_done.numpy())
        while int(self.pretrain_done.numpy()) < total:
            done = int(self.pretrain_done.numpy()) + 1
            metrics = self.train_step(lambda data: self.agent.train_model(data['model']),
                                      f'model pretraining update {done}')
            self.pretrain_done.assign_add(1)
            progress.update(step, metrics, 'model pretraining', phase_eta=True,
                            work=(done - first, total - first, started))
        self.train_metrics.clear()  # pretraining is logged on its own, not as train/
        self.logger.scalars(step, {f'pretrain/{k}': v for k, v in metrics.items()})

    def _video(self, step):
        c = self.config
        batch = self.replay.sample_model(min(c.video_sequences, c.batch_size),
                                         c.model_data, c.model_expert_fraction)
        self.logger.gif(step, 'train/openloop', tile_videos(self.agent.video(batch).numpy()),
                        self.eval_driver.video_fps)
