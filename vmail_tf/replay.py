"""Episodes in RAM, bounded by a step capacity, sampled as fixed-length windows.

The agent's episodes live under `<logdir>/train_episodes`; expert episodes are
read from their folder and never written. Model batches mix the two as the
config says; expert batches come from the expert episodes alone, by pool:
`expert` for a single task, `expert0`, `expert1`, ... for the source tasks of
a multi-task run.
"""
import collections
import threading

import numpy as np

from vmail_tf import episodes as episodes_lib

KEYS = ('image', 'action', 'discount')


class Replay:
    """Holds episodes (only `KEYS`), dropping the oldest agent episodes once
    the stored agent steps exceed `capacity`."""

    def __init__(self, capacity, batch_length, seed=0):
        self.capacity = capacity
        self.length = batch_length
        self._agent = collections.OrderedDict()
        self._experts = collections.defaultdict(list)  # pool -> episodes
        self._agent_steps = 0
        self._lock = threading.Lock()
        self._rng = np.random.default_rng(seed)

    @property
    def agent_steps(self):
        return self._agent_steps

    @property
    def num_agent_episodes(self):
        return len(self._agent)

    def _all_experts(self):
        return [episode for pool in self._experts.values() for episode in pool]

    def nbytes(self):
        with self._lock:
            stored = list(self._agent.values()) + self._all_experts()
        return sum(v.nbytes for episode in stored for v in episode.values())

    def _trim(self, episode):
        return {key: np.ascontiguousarray(episode[key]) for key in KEYS}

    def add_agent(self, key, episode):
        if episodes_lib.episode_length(episode) < self.length:
            return
        with self._lock:
            self._agent[key] = self._trim(episode)
            self._agent_steps += episodes_lib.episode_length(episode)
            while self._agent_steps > self.capacity and len(self._agent) > 1:
                _, dropped = self._agent.popitem(last=False)
                self._agent_steps -= episodes_lib.episode_length(dropped)

    def add_expert(self, episode, source='expert episode', pool='expert'):
        length = episodes_lib.episode_length(episode)
        if length < self.length + 1:
            raise ValueError(
                f'{source} has {length} entries; expert windows need '
                f'batch_length + 1 = {self.length + 1}')
        with self._lock:
            self._experts[pool].append(self._trim(episode))

    def _window(self, episode, length):
        start = self._rng.integers(0, episodes_lib.episode_length(episode) - length + 1)
        return {key: value[start:start + length] for key, value in episode.items()}

    def _stack(self, chosen, length):
        windows = [self._window(episode, length) for episode in chosen]
        return {key: np.stack([w[key] for w in windows]) for key in KEYS}

    def sample_model(self, batch_size, mix, expert_fraction):
        """B windows of `batch_length` for the world model: `mix` 'pooled' (agent and
        expert episodes drawn alike) or 'fraction' (`expert_fraction` of them expert)."""
        with self._lock:
            agent = list(self._agent.values())
            expert = self._all_experts()
            if mix == 'pooled':
                pool = agent + expert
                picks = self._rng.integers(0, len(pool), batch_size)
                chosen = [pool[i] for i in picks]
            else:
                num_expert = int(round(expert_fraction * batch_size))
                if not agent:
                    num_expert = batch_size
                chosen = [expert[i] for i in self._rng.integers(0, len(expert), num_expert)]
                chosen += [agent[i] for i in self._rng.integers(
                    0, max(len(agent), 1), batch_size - num_expert)]
            return self._stack(chosen, self.length)

    def sample_agent(self, batch_size):
        """B windows of `batch_length + 1` entries from the agent's episodes
        alone (the model-free baselines' transitions)."""
        with self._lock:
            agent = [e for e in self._agent.values()
                     if episodes_lib.episode_length(e) > self.length]
            picks = self._rng.integers(0, len(agent), batch_size)
            return self._stack([agent[i] for i in picks], self.length + 1)

    def sample_expert(self, batch_size, pool='expert'):
        """B expert windows of `batch_length + 1` entries from `pool`: the
        extra entry carries the action taken at the window's last observation."""
        with self._lock:
            expert = list(self._experts[pool])
            picks = self._rng.integers(0, len(expert), batch_size)
            return self._stack([expert[i] for i in picks], self.length + 1)

    def dataset(self, batch_size, mix, expert_fraction, prefetch,
                parts=('model', 'expert')):
        """A tf.data pipeline of batches with the named `parts`: 'model',
        'agent' (agent windows of batch_length + 1) or an expert pool."""
        import tensorflow as tf
        def sample(part):
            if part == 'model':
                return self.sample_model(batch_size, mix, expert_fraction)
            if part == 'agent':
                return self.sample_agent(batch_size)
            return self.sample_expert(batch_size, part)

        def generate():
            while True:
                yield {part: sample(part) for part in parts}

        # The signature comes from an episode's shapes, not from a sample:
        # before the prefill there may be no agent episode to sample.
        with self._lock:
            reference = (self._all_experts() or list(self._agent.values()))[0]
        signature = {
            part: {key: tf.TensorSpec(
                (batch_size, self.length + (part != 'model')) + reference[key].shape[1:],
                tf.as_dtype(reference[key].dtype)) for key in KEYS}
            for part in parts}
        return tf.data.Dataset.from_generator(
            generate, output_signature=signature).prefetch(prefetch)
