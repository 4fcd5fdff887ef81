"""What every imitation run shares, whatever its learner: the logdir, the
evaluation env, the demonstrations, the agent's checkpoints (restored on
start), the replay and its tf.data pipeline, logs, evaluation, and the
handling of stops and failures. `trainer.Trainer` (V-MAIL, and through it
the multi-task and model-free runs), `bc.BCTrainer` and
`transfer.TransferTrainer` add their own loops."""
import collections
import logging
import sys
import time

import numpy as np
import tensorflow as tf

from vmail_tf import demos, episodes, nonfinite
from vmail_tf.agent import metrics_to_numpy
from vmail_tf.driver import make_driver
from vmail_tf.envs.worker import EnvWorkerError
from vmail_tf.greedy_episodes import greedy_episodes, summarize
from vmail_tf.logger import Logger
from vmail_tf.progress import Progress
from vmail_tf.replay import Replay
from vmail_tf.runs import WriteFailed, open_run, writing
from vmail_tf.schedule import PhaseTimes
from vmail_tf.stopping import GracefulStop, StopRequested

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


def recorded_checkpoints(folder):
    """The checkpoint paths a CheckpointManager recorded in `folder`, oldest first."""
    state = tf.train.get_checkpoint_state(str(folder))
    return list(state.all_model_checkpoint_paths) if state else []


def newest_readable(paths):
    """The newest of the checkpoint `paths` (oldest first) that reads back
    whole, or None; and (path, problem) for each newer one skipped."""
    skipped = []
    for path in reversed(paths):
        problem = unreadable(path)
        if not problem:
            return path, skipped
        skipped.append((path, problem))
    return None, skipped


def counter_key(name):
    """The checkpoint key of the tracked variable `name` ('env_step', 'agent/step')."""
    return f'{name}/.ATTRIBUTES/VARIABLE_VALUE'


def checkpoint_counter(path, name, absent=None):
    """A counter in the checkpoint at `path` ('env_step', 'agent/step'),
    read without building the agent; `absent` if a version before that
    counter wrote it (None: an error)."""
    reader = tf.train.load_checkpoint(path)
    if absent is not None and not reader.has_tensor(counter_key(name)):
        return absent
    return int(reader.get_tensor(counter_key(name)))


class TrainerBase:
    """Subclasses set `parts` (the batch parts their updates use), `unit`
    (the x-axis), and implement `make_agent`, `step` and `loop`; `counters`
    adds their own checkpointed counters, `batch_shape` their batches' shape."""

    parts = ('model', 'expert')
    unit = 'env steps'

    def __init__(self, config):
        self.config = c = config
        self.logdir, self.lock = open_run(c)
        if c.precision == '16' and not tf.config.list_physical_devices('GPU'):
            log.warning('precision 16 on a CPU is slower than 32; it is a GPU option')
        self.eval_driver = make_driver(c, 'eval')
        self.drivers = [self.eval_driver]
        action_size = self.eval_driver.action_size
        expert_pools = self.expert_pools(action_size)
        self.agent = self.make_agent(action_size)
        print(f'Precision {c.precision}: {self.agent.policy_name}', flush=True)

        self.checkpoint = tf.train.Checkpoint(agent=self.agent, **self.counters())
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, self.logdir / 'checkpoint', max_to_keep=c.keep_checkpoints)
        self._restore()
        self.saved_state = self._state()

        batch_size, batch_length = self.batch_shape()
        self.replay = Replay(c.replay_capacity, batch_length, seed=c.seed + self.step())
        for folder in ('train_episodes', 'eval_episodes'):
            episodes.remove_temporary_files(self.logdir / folder)
        self.set_aside_unsaved_episodes(self.logdir / 'train_episodes')
        for path, episode in episodes.load_directory(
                self.logdir / 'train_episodes', newest_steps=c.replay_capacity):
            self.replay.add_agent(path.name, episode)
        for pool, (folder, experts) in expert_pools.items():
            for episode in experts:
                self.replay.add_expert(episode, pool=pool)
            print(f'{len(experts)} expert episodes from {folder}', flush=True)
        print(f'{self.replay.num_agent_episodes} agent episodes in replay', flush=True)
        self.dataset = iter(self.replay.dataset(
            batch_size, c.model_data, c.model_expert_fraction, c.prefetch, self.parts))
        self.logger = Logger(self.logdir)
        self.train_metrics = collections.defaultdict(list)
        self.episode_stats = collections.defaultdict(list)
        self.times = PhaseTimes()
        self.watch = nonfinite.Watch(self.agent.policy_name == 'mixed_float16',
                                     c.max_nonfinite_updates)
        self.stop = GracefulStop()

    # ---------------------------------------------------------- subclasses

    def make_agent(self, action_size):
        raise NotImplementedError

    def counters(self):
        """Checkpointed tf.Variables besides the agent's, by name."""
        return {}

    def batch_shape(self):
        """(sequences per batch, entries per sequence) of the replay's batches."""
        return self.config.batch_size, self.config.batch_length

    def expert_pools(self, action_size):
        """{replay pool: (expert folder, its checked episodes)}."""
        return {'expert': demos.expert_episodes(self.config, action_size)}

    def set_aside_unsaved_episodes(self, folder):
        """Moves out of `folder` the episodes a restored run has not counted
        (runs that store agent episodes override this)."""

    def step(self):
        """The run's x-axis now."""
        raise NotImplementedError

    def loop(self):
        """Trains to the end; returns the final step."""
        raise NotImplementedError

    # -------------------------------------------------------- checkpoints

    def _restore(self):
        """Restores the newest checkpoint that reads back whole; one cut short
        by a kill is skipped with a warning. One that reads but does not match
        this config's agent is an error."""
        path, skipped = newest_readable(self.manager.checkpoints)
        for bad, problem in skipped:
            log.warning('skipping unreadable checkpoint %s: %s', bad, problem)
        if path is None:
            return
        reader = tf.train.load_checkpoint(path)
        absent = [name for name in self.counters() if not reader.has_tensor(counter_key(name))]
        present = {name: v for name, v in self.counters().items() if name not in absent}
        try:
            tf.train.Checkpoint(agent=self.agent, **present).restore(
                path).assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as e:
            raise ResumeError(
                f'cannot resume from {path}: it does not match this config '
                f'(were network sizes or the task changed? see the earlier '
                f'config-*.yaml in {self.logdir}). Use a new --logdir for a '
                f'different config. Detail: {str(e).splitlines()[0]}') from None
        for opt in self.agent.optimizers:
            opt.reset_learning_rate()
        if absent:
            self.counters_absent(path, absent)
        print(f'Resumed from {path} at {self.unit[:-1]} {self.step()}, '
              f'update {int(self.agent.step.numpy())}', flush=True)

    def counters_absent(self, path, names):
        """Sets counters that a checkpoint of an older version lacks, or
        raises ResumeError; subclasses with such counters override this."""
        raise ResumeError(f'cannot resume from {path}: it has no {", ".join(names)} '
                          f'counter (written by another version of vmail_tf?)')

    def _state(self):
        """The counters that tell whether anything changed since a save."""
        return (int(self.agent.step.numpy()),) + tuple(
            int(v.numpy()) for v in self.counters().values())

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
        log.info('saved checkpoint %s at %s %d', path, self.unit[:-1], self.step())

    # ----------------------------------------------------------- the run

    def evaluate(self):
        """Runs `eval_episodes` with the actor's mode; returns the mean return."""
        return self.evaluate_task(self.eval_driver, self.agent.policy, '')

    def evaluate_task(self, driver, policy, task, save=True):
        """`eval_episodes` of `policy` on `driver`, logged under `task` (''
        for a single task) and saved unless told; returns the mean return."""
        finished = greedy_episodes(self.agent, driver, self.config.eval_episodes, policy)
        for episode in finished if save else ():
            episodes.save(self.logdir / 'eval_episodes', episode)
        step = self.step()
        suffix = f'/{task}' if task else ''
        scalars = {f'{k}{suffix}': v for k, v in
                   summarize(finished, self.config.action_repeat).items()}
        self.logger.scalars(step, scalars)
        self.logger.gif(step, f'eval/policy{suffix}', finished[0]['image'], driver.video_fps)
        return scalars[f'eval/return{suffix}']

    def train_step(self, update, where):
        """One update of `update(batch)`, checked for non-finite numbers and
        its metrics collected for the next log; returns them."""
        with self.times.measure('data'):
            data = next(self.dataset)
        with self.times.measure('update'):
            metrics = metrics_to_numpy(update(data))
        self.watch.check(metrics, where)
        for key, value in metrics.items():
            self.train_metrics[key].append(value)
        return metrics

    def update_loop(self, total, eval_every, phase):
        """Runs `agent.train` up to `total` updates with no env steps (the
        run's x-axis is the update count), logging, evaluating and saving
        every `eval_every`, and evaluating the untrained policy first, where
        its curve starts; returns the final count."""
        step = start_step = int(self.agent.step.numpy())
        progress = Progress(total, self.config.progress_every, step, self.stop,
                            unit='updates/s')
        if step == 0:
            progress.eval_return = self.evaluate()
        start_time = time.time()
        while step < total:
            metrics = self.train_step(self.agent.train, f'update {step + 1}')
            step += 1
            if step % eval_every == 0 or step >= total:
                self.log_scalars(step, (step - start_step) / max(time.time() - start_time, 1e-6))
                progress.eval_return = self.evaluate()
                self.save()
            progress.update(step, metrics, phase, force=step >= total)
        return step

    def log_scalars(self, step, rate):
        """The means since the last log, with timings and counts."""
        scalars = {f'train/{k}': np.mean(v) for k, v in self.train_metrics.items()}
        scalars.update({k: np.mean(v) for k, v in self.episode_stats.items()})
        scalars['fps'] = rate  # env steps per second, or updates per second for BC
        scalars.update({f'time/{k}_s': v for k, v in self.times.pop().items()})
        scalars.update(self.watch.pop_counts())
        scalars['train/updates'] = int(self.agent.step.numpy())
        scalars['replay/agent_episodes'] = self.replay.num_agent_episodes
        scalars['replay/megabytes'] = self.replay.nbytes() / 1e6
        self.logger.scalars(step, scalars)
        self.train_metrics.clear()
        self.episode_stats.clear()

    def close(self):
        """Stops the env workers and releases the logdir."""
        for driver in self.drivers:
            driver.close()
        self.lock.close()

    def run(self):
        """Runs `loop`, saving a checkpoint on a stop or a worker failure, and
        never after non-finite numbers or a failed write."""
        try:
            step = self.loop()
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
        print(f'Done: {step} {self.unit}; logs, episodes and checkpoints in '
              f'{self.logdir}', flush=True)
