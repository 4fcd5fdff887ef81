"""A trained expert's deterministic policy, evaluated in numpy.

The weights file (`.npz`) holds `kernel_i`/`bias_i` per layer of the actor
MLP (ELU hidden layers, linear output of mean and log-std), plus `task` and
`action_repeat`. The action is tanh(mean), the mode of the actor's Gaussian.
"""
import numpy as np

from vmail_tf.experts.state_env import flatten_state


class MLPPolicy:

    def __init__(self, kernels, biases, task, action_repeat):
        self.kernels, self.biases = kernels, biases
        self.task, self.action_repeat = task, action_repeat

    @classmethod
    def load(cls, path):
        with np.load(path, allow_pickle=False) as data:
            count = sum(1 for key in data.files if key.startswith('kernel_'))
            if count == 0:
                raise ValueError(f'{path}: no kernel_0 ... arrays: not an expert weights file')
            kernels = [data[f'kernel_{i}'] for i in range(count)]
            biases = [data[f'bias_{i}'] for i in range(count)]
            return cls(kernels, biases, str(data['task']), int(data['action_repeat']))

    def save(self, path):
        arrays = {f'kernel_{i}': k for i, k in enumerate(self.kernels)}
        arrays.update({f'bias_{i}': b for i, b in enumerate(self.biases)})
        np.savez_compressed(path, task=self.task, action_repeat=self.action_repeat, **arrays)

    def act_state(self, state):
        x = np.asarray(state, np.float32)
        for kernel, bias in zip(self.kernels[:-1], self.biases[:-1]):
            x = x @ kernel + bias
            x = np.where(x > 0, x, np.expm1(np.minimum(x, 0)))  # ELU
        out = x @ self.kernels[-1] + self.biases[-1]
        mean = out[..., :out.shape[-1] // 2]
        return np.tanh(mean).astype(np.float32)

    def __call__(self, obs):
        return self.act_state(flatten_state(obs))
