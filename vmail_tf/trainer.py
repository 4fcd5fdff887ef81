"""The training loop of Algorithm 1: random prefill, then collect `train_every`
env steps, run `train_steps` updates, evaluate and checkpoint on schedule.
Everything is written under the run's logdir; re-running resumes."""
import collections
import logging
import sys
import time

import numpy as np
import tensorflow as tf

from vmail_tf import demos, episodes, nonfinite
from vmail_tf.agent import Agent, metrics_to_numpy
from vmail_tf.bc import BCAgent
from vmail_tf.driver import make_driver
from vmail_tf.envs.worker import EnvWorkerError
from vmail_tf.evaluation import greedy_episodes, summarize
from vmail_tf.logger import Logger, tile_videos
from vmail_tf.progress import Progress
from vmail_tf.replay import Replay
from vmail_tf.runs import (GracefulStop, PhaseTimes, StopRequested, WriteFailed, crossed,
                           open_run, writing)

log = logging.getLogger(__name__)

class ResumeError(RuntimeError):
    """The logdir's checkpoint cannot be restored into this config's agent."""


def unreadable(path):
    """Why the checkpoint at `path` cannot be read whole (a write cut short
    by a kill), or None. Reads every tensor: a few MB, once per start."""
    try:
        reader = tf.train.load_checkpoint(path)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception as e:  # the reader raises several types for damaged files
        return f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}'
    return None


class Trainer:

    def __init__(self, config):
        self.config = c = config
        self.logdir, self.lock = open_run(c)
        if c.precision == '16' and not tf.config.list_physical_devices('GPU'):
            log.warning('precision 16 on a CPU is slower than 32; it is a GPU option')
        self.bc = c.method == 'bc'
        self.eval_driver = make_driver(c, 'eval')
        self.drivers = [self.eval_driver]
        if not self.bc:
            self.driver = make_driver(c, 'train', c.envs)
            self.drivers.append(self.driver)
        action_size = self.eval_driver.action_size
        self.expert_dir, experts = demos.expert_episodes(c, action_size)

        self.agent = BCAgent(c, action_size) if self.bc else Agent(c, action_size)
        print(f'Precision {c.precision}: {self.agent.policy_name}', flush=True)
        self.env_step = tf.Variable(0, dtype=tf.int64, trainable=False, name='env_step')
        # The round in progress, so that a stop anywhere resumes it exactly:
        # the env step it started from (equal to env_step once it is done),
        # its updates still owed, and the world-model pretraining done so far.
        self.round_start = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.owed_updates = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.pretrain_done = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.checkpoint = tf.train.Checkpoint(
            agent=self.agent, env_step=self.env_step, round_start=self.round_start,
            owed_updates=self.owed_updates, pretrain_done=self.pretrain_done)
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, self.logdir / 'checkpoint', max_to_keep=3)
        self._restore()
        self.saved_state = self._state()

        self.replay = Replay(c.replay_capacity, c.batch_length,
                             seed=c.seed + int(self.env_step.numpy()))
        for folder in ('train_episodes', 'eval_episodes'):
            episodes.remove_temporary_files(self.logdir / folder)
        for path, episode in episodes.load_directory(
                self.logdir / 'train_episodes', newest_steps=c.replay_capacity):
            self.replay.add_agent(path.name, episode)
        for episode in experts:
            self.replay.add_expert(episode)
        print(f'{len(experts)} expert episodes from {self.expert_dir}; '
              f'{self.replay.num_agent_episodes} agent episodes in replay',
              flush=True)
        self.dataset = iter(self.replay.dataset(
            c.batch_size, c.model_data, c.model_expert_fraction, c.prefetch,
            parts=('expert',) if self.bc else ('model', 'expert')))
        self.logger = Logger(self.logdir)
        self.policy_state = self.agent.initial_policy_state(c.envs)
        self.train_metrics = collections.defaultdict(list)
        self.episode_stats = collections.defaultdict(list)
        self.times = PhaseTimes()
        self.watch = nonfinite.Watch(self.agent.policy_name == 'mixed_float16',
                                     c.max_nonfinite_updates)
        self.stop = GracefulStop()

    def _restore(self):
        """Restores the newest checkpoint that reads back whole; one cut short
        by a kill is skipped with a warning. One that reads but does not match
        this config's agent is an error."""
        for path in reversed(self.manager.checkpoints):
            problem = unreadable(path)
            if problem:
                log.warning('skipping unreadable checkpoint %s: %s', path, problem)
                continue
            try:
                self.checkpoint.restore(path).assert_existing_objects_matched()
            except (AssertionError, ValueError, tf.errors.OpError) as e:
                raise ResumeError(
                    f'cannot resume from {path}: it does not match this config '
                    f'(were network sizes or the task changed? see the earlier '
                    f'config-*.yaml in {self.logdir}). Use a new --logdir for a '
                    f'different config. Detail: {str(e).splitlines()[0]}') from None
            print(f'Resumed from {path} at env step {int(self.env_step.numpy())}, '
                  f'update {int(self.agent.step.numpy())}', flush=True)
            return

    def _state(self):
        """The counters that tell whether anything changed since a save."""
        return tuple(int(v.numpy()) for v in (
            self.env_step, self.agent.step, self.owed_updates, self.pretrain_done))

    # ----------------------------------------------------------- collection

    def _random_policy(self, obs, is_first):
        return np.random.uniform(-1, 1, (len(is_first), self.driver.action_size))

    def _explore_policy(self, obs, is_first):
        action, self.policy_state = self.agent.policy(
            obs['image'], self.policy_state, is_first, True)
        action = action.numpy()
        if not np.all(np.isfinite(action)):  # never send NaN to the simulator
            raise nonfinite.NonFiniteError(
                f'the policy returned non-finite actions at env step {self._step()}')
        return action

    def _store(self, finished):
        for episode in finished:
            path = episodes.save(self.logdir / 'train_episodes', episode)
            self.replay.add_agent(path.name, episode)
            self.episode_stats['train/return'].append(episodes.episode_return(episode))
            self.episode_stats['train/length'].append(
                (episodes.episode_length(episode) - 1) * self.config.action_repeat)

    def _step(self):
        """The run's x-axis: env steps for V-MAIL, gradient updates for BC."""
        return int((self.agent.step if self.bc else self.env_step).numpy())

    def evaluate(self):
        """Runs `eval_episodes` with the actor's mode; returns the mean return."""
        finished = greedy_episodes(self.agent, self.eval_driver, self.config.eval_episodes)
        for episode in finished:
            episodes.save(self.logdir / 'eval_episodes', episode)
        step = self._step()
        scalars = summarize(finished, self.config.action_repeat)
        self.logger.scalars(step, scalars)
        self.logger.gif(step, 'eval/policy', finished[0]['image'])
        return scalars['eval/return']

    # ------------------------------------------------------------- training

    def _pay_owed_updates(self, progress, step):
        """The round's V-MAIL updates not yet run (all of them, or the rest
        of a round a stop interrupted)."""
        total, started = self.config.train_steps, time.time()
        first = total - int(self.owed_updates.numpy())
        while int(self.owed_updates.numpy()) > 0:
            with self.times.measure('data'):
                data = next(self.dataset)
            with self.times.measure('update'):
                metrics = metrics_to_numpy(self.agent.train(data))
            self.watch.check(metrics, f'update {int(self.agent.step.numpy())}, env step {step}')
            self.owed_updates.assign_sub(1)
            for key, value in metrics.items():
                self.train_metrics[key].append(value)
            self.last_metrics = metrics
            done = total - int(self.owed_updates.numpy())
            progress.update(step, metrics, 'training', work=(done - first, total - first, started))

    def _pretrain_model(self, progress, step):
        """`model_pretrain` world-model updates on the prefill and expert data
        before the first V-MAIL update, so that the first imagined rollouts
        start from a model that has learned the scene (a fresh model needs
        thousands of updates to draw cartpole's swinging pole:
        results/cartpole_swingup/README.md). A stopped run continues where
        it stopped."""
        total = self.config.model_pretrain
        if int(self.agent.step.numpy()) > 0 or int(self.pretrain_done.numpy()) >= total:
            return
        started, first = time.time(), int(self.pretrain_done.numpy())
        while int(self.pretrain_done.numpy()) < total:
            metrics = metrics_to_numpy(self.agent.train_model(next(self.dataset)['model']))
            self.pretrain_done.assign_add(1)
            done = int(self.pretrain_done.numpy())
            self.watch.check(metrics, f'model pretraining update {done}')
            progress.update(step, metrics, 'model pretraining', phase_eta=True,
                            work=(done - first, total - first, started))
        self.logger.scalars(step, {f'pretrain/{k}': v for k, v in metrics.items()})
        progress.restart(step)

    def _log(self, step, fps):
        scalars = {f'train/{k}': np.mean(v) for k, v in self.train_metrics.items()}
        scalars.update({k: np.mean(v) for k, v in self.episode_stats.items()})
        scalars['fps'] = fps
        scalars.update({f'time/{k}_s': v for k, v in self.times.pop().items()})
        scalars.update(self.watch.pop_counts())
        scalars['train/updates'] = int(self.agent.step.numpy())
        scalars['replay/agent_episodes'] = self.replay.num_agent_episodes
        self.logger.scalars(step, scalars)
        self.train_metrics.clear()
        self.episode_stats.clear()

    def _video(self, step):
        batch = self.replay.sample_model(min(4, self.config.batch_size),
                                         self.config.model_data,
                                         self.config.model_expert_fraction)
        frames = self.agent.video(batch).numpy()
        self.logger.gif(step, 'train/openloop', tile_videos(frames))

    def close(self):
        """Stops the env workers and releases the logdir."""
        for driver in self.drivers:
            driver.close()
        self.lock.close()

    def _no_checkpoint(self):
        return (f'No checkpoint was written; a re-run resumes from '
                f'{self.manager.latest_checkpoint or "the start"}')

    def save(self):
        """Writes a checkpoint; refuses one with non-finite variables, so the
        last good checkpoint stays the one a re-run resumes from."""
        try:
            nonfinite.check_variables(self.agent)
        except nonfinite.NonFiniteError as e:
            raise nonfinite.NonFiniteError(f'{e}. {self._no_checkpoint()}') from None
        if self._state() == self.saved_state and self.manager.latest_checkpoint:
            return  # nothing new since the last checkpoint
        # Numbered by the save count: a checkpoint file is never rewritten, so
        # a kill during a save cannot damage the one a re-run resumes from.
        with writing(self.manager.directory):
            try:
                path = self.manager.save()
            except tf.errors.OpError as e:
                raise OSError(e.message) from e
        self.saved_state = self._state()
        log.info('saved checkpoint %s at env step %d', path, int(self.env_step.numpy()))

    def run(self):
        try:
            step = self._run_bc() if self.bc else self._run_vmail()
        except (StopRequested, KeyboardInterrupt):
            print('Stopped: saving a checkpoint to resume from', flush=True)
            self.save()
            raise
        except nonfinite.NonFiniteError as e:
            raise nonfinite.NonFiniteError(f'{e}. {self._no_checkpoint()}') from None
        except WriteFailed as e:
            raise WriteFailed(f'{e}. The run stopped. {self._no_checkpoint()} '
                              f'once the logdir is writable again') from None
        except EnvWorkerError as e:
            print(f'An environment worker failed for good: {e}\nSaving a '
                  f'checkpoint; re-run the same command to resume.',
                  file=sys.stderr, flush=True)
            self.save()
            raise
        finally:
            self.close()
        unit = 'updates' if self.bc else 'env steps'
        print(f'Done: {step} {unit}; logs, episodes and checkpoints in '
              f'{self.logdir}', flush=True)

    def _run_bc(self):
        """Behaviour cloning: `bc_steps` updates on expert pairs, evaluated
        every `bc_eval_every` updates."""
        c = self.config
        step = self._step()
        progress = Progress(c.bc_steps, c.progress_every, step, self.stop, unit='updates/s')
        start_time, start_step = time.time(), step
        while step < c.bc_steps:
            metrics = metrics_to_numpy(self.agent.train(next(self.dataset)))
            self.watch.check(metrics, f'update {step + 1}')
            for key, value in metrics.items():
                self.train_metrics[key].append(value)
            step += 1
            if step % c.bc_eval_every == 0 or step >= c.bc_steps:
                rate = (step - start_step) / max(time.time() - start_time, 1e-6)
                self._log(step, rate)
                progress.eval_return = self.evaluate()
                self.save()
            progress.update(step, metrics, 'behaviour cloning', force=step >= c.bc_steps)
        return step

    def _run_vmail(self):
        """Algorithm 1: collect a chunk of env steps (random during the
        prefill), then finish the round: its updates, logs and evaluation."""
        c = self.config
        step = int(self.env_step.numpy())
        progress = Progress(c.steps, c.progress_every, step, self.stop)
        self.last_metrics = {}
        self.log_time, self.log_step = time.time(), step
        if int(self.round_start.numpy()) < step:
            self._finish_round(int(self.round_start.numpy()), step, progress)
        while step < c.steps:
            prefill = step < c.prefill
            chunk = min(c.prefill - step if prefill else c.train_every,
                        c.steps - step)
            policy = self._random_policy if prefill else self._explore_policy
            phase = 'random prefill' if prefill else 'collecting'
            before = step
            with self.times.measure('collect'):
                taken, finished = self.driver.run(
                    policy, steps=chunk, on_step=lambda done: progress.update(
                        before + done, self.last_metrics, phase))
                self._store(finished)
            step = before + taken
            self.env_step.assign(step)
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
            self._log(step, fps)
            self.log_time, self.log_step = time.time(), step
        if step >= c.prefill and (crossed(before, step, c.video_every)
                                  or step >= c.steps):
            with self.times.measure('video'):
                self._video(step)
        self.round_start.assign(step)
        if crossed(before, step, c.eval_every) or step >= c.steps:
            with self.times.measure('eval'):
                progress.eval_return = self.evaluate()
                self.save()
        progress.update(step, self.last_metrics, force=step >= c.steps)
