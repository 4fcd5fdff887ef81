"""Steps env workers in parallel with a policy and assembles episodes in the
replay format (docs/design.md section 4). Numpy only: no TensorFlow here."""
import logging

import numpy as np

from vmail_tf.envs.worker import EnvWorker, EnvWorkerError, env_spec
from vmail_tf.seeds import env_seed

log = logging.getLogger(__name__)


def _stack(transitions):
    return {key: np.stack([t[key] for t in transitions])
            for key in transitions[0]}


class Driver:
    """Keeps each worker's unfinished episode between calls to `run`, so
    collection can pause for training and carry on mid-episode.

    `policy(obs, is_first)` gets the stacked observations of all workers and a
    bool array marking those that just reset; it returns actions (N, A).
    A worker that fails is restarted (its unfinished episode is dropped) up to
    `max_restarts` times in total; after that the error propagates.
    """

    def __init__(self, workers, action_repeat, max_restarts):
        self.workers = workers
        self.action_repeat = action_repeat
        self.max_restarts = max_restarts
        self.restarts = 0
        self._obs = [None] * len(workers)
        self._episodes = [None] * len(workers)
        self.action_size = workers[0].action_size
        # Frames per second of the env's own time: videos play in real time.
        self.video_fps = 1 / workers[0].step_seconds

    def _reset(self, index):
        obs = self.workers[index].reset()
        self._obs[index] = obs
        self._episodes[index] = [self._transition(
            obs, np.zeros(self.action_size, np.float32), 0.0, 1.0)]

    @staticmethod
    def _transition(obs, action, reward, discount):
        return {**obs, 'action': np.asarray(action, np.float32),
                'reward': np.float32(reward), 'discount': np.float32(discount)}

    def _recover(self, index, error):
        self.restarts += 1
        if self.restarts > self.max_restarts:
            raise error
        log.warning('%s\nrestarting it (%d of at most %d restarts); its '
                    'unfinished episode is dropped', error, self.restarts,
                    self.max_restarts)
        self.workers[index].restart()
        self._reset(index)

    def _safe_reset(self, index):
        try:
            self._reset(index)
        except EnvWorkerError as e:
            self._recover(index, e)

    def run(self, policy, steps=0, episodes=0, on_step=None):
        """Collects until `steps` env steps or `episodes` finished episodes,
        calling `on_step(env steps so far)` after each parallel step.
        Returns (env steps taken, finished episodes as dicts of arrays)."""
        is_first = np.zeros(len(self.workers), bool)
        for i, obs in enumerate(self._obs):
            if obs is None:
                self._safe_reset(i)
                is_first[i] = True
        done_steps, finished = 0, []
        while (steps and done_steps < steps) or (episodes and len(finished) < episodes):
            obs = _stack(self._obs)
            actions = np.asarray(policy(obs, is_first), np.float32)
            is_first[:] = False
            for worker, action in zip(self.workers, actions):
                worker.send_step(action)
            for i, worker in enumerate(self.workers):
                try:
                    obs, reward, terminated, truncated, _ = worker.receive()
                except EnvWorkerError as e:
                    self._recover(i, e)
                    is_first[i] = True
                    continue
                self._obs[i] = obs
                self._episodes[i].append(self._transition(
                    obs, actions[i], reward, 0.0 if terminated else 1.0))
                done_steps += self.action_repeat
                if terminated or truncated:
                    finished.append(_stack(self._episodes[i]))
                    self._safe_reset(i)
                    is_first[i] = True
            if on_step:
                on_step(done_steps)
        return done_steps, finished

    def drop_unfinished(self):
        """Forgets the unfinished episodes: the next run starts with resets."""
        self._obs = [None] * len(self.workers)
        self._episodes = [None] * len(self.workers)

    def close(self):
        for worker in self.workers:
            worker.close()


def make_driver(config, purpose, count=1):
    """A Driver over `count` pixel env workers with the config's env
    settings, seeded for `purpose` (seeds.SEEDS)."""
    workers = []
    try:
        for index in range(count):
            workers.append(EnvWorker(env_spec(config, env_seed(purpose, config.seed, index)),
                                     config.worker_timeout))
    except BaseException:
        for worker in workers:
            worker.close()
        raise
    return Driver(workers, config.action_repeat, config.worker_restarts)
