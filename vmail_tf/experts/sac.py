"""Soft actor-critic on true states (Haarnoja et al. 2018): twin critics with
target copies, a tanh-Gaussian actor and a learned entropy temperature."""
import math

import numpy as np
import tensorflow as tf

from vmail_tf import dists, sac_losses
from vmail_tf.experts.mlp_policy import MLPPolicy
from vmail_tf.networks import MLP
from vmail_tf.optim import Optimizer, VariableModule


class TransitionReplay:
    """A ring buffer of (state, action, reward, next state, discount)."""

    def __init__(self, capacity, obs_size, action_size, seed=0):
        self.capacity, self.size, self._next = capacity, 0, 0
        self.arrays = {
            'obs': np.zeros((capacity, obs_size), np.float32),
            'action': np.zeros((capacity, action_size), np.float32),
            'reward': np.zeros((capacity,), np.float32),
            'next_obs': np.zeros((capacity, obs_size), np.float32),
            'discount': np.zeros((capacity,), np.float32),
        }
        self._rng = np.random.default_rng(seed)

    def add(self, **transition):
        for key, value in transition.items():
            self.arrays[key][self._next] = value
        self._next = (self._next + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, count, batch_size):
        """`count` batches, stacked: arrays of shape (count, batch_size, ...)."""
        index = self._rng.integers(0, self.size, (count, batch_size))
        return {key: value[index] for key, value in self.arrays.items()}

    def state(self):
        return {'size': self.size, 'next': self._next,
                **{k: v[:self.size] for k, v in self.arrays.items()}}

    def restore(self, state):
        self.size, self._next = int(state['size']), int(state['next'])
        for key, value in self.arrays.items():
            value[:self.size] = state[key]


class SAC(tf.Module):

    def __init__(self, obs_size, action_size, config):
        super().__init__(name='sac')
        c = self.config = config
        self.action_size = action_size
        self.rng = tf.random.Generator.from_seed(c.seed)
        self.actor = MLP(c.units, c.layers, 2 * action_size, name='actor')
        self.critics = [MLP(c.units, c.layers, 1, name=f'critic{i}') for i in range(2)]
        self.targets = [MLP(c.units, c.layers, 1, name=f'target{i}') for i in range(2)]
        self.log_alpha = tf.Variable(math.log(c.init_alpha), dtype=tf.float32, name='log_alpha')
        self.target_entropy = -float(action_size)
        dummy_obs = tf.zeros([1, obs_size])
        dummy_pair = tf.zeros([1, obs_size + action_size])
        self.actor(dummy_obs)
        for net in self.critics + self.targets:
            net(dummy_pair)
        self._copy_targets(1.0)
        make = lambda name, modules, lr: Optimizer(name, modules, lr, clip=None,
                                                   eps=c.adam_eps, loss_scaling=False)
        self.actor_opt = make('actor_opt', [self.actor], c.actor_lr)
        self.critic_opt = make('critic_opt', self.critics, c.critic_lr)
        self.alpha_opt = make('alpha_opt', [VariableModule(self.log_alpha)], c.alpha_lr)
        self.optimizers = [self.actor_opt, self.critic_opt, self.alpha_opt]
        for opt in self.optimizers:
            opt.build()
        self.update_many = tf.function(self._update_many)
        self.act = tf.function(self._act)

    def _copy_targets(self, tau):
        sac_losses.soft_update(self.critics, self.targets, tau)

    def _dist(self, obs):
        return sac_losses.actor_mean_std(self.actor, obs, self.config.log_std_min,
                                         self.config.log_std_max)

    def _sample(self, obs):
        """A reparameterised action and its log-probability under the policy."""
        return dists.tanh_normal_sample_and_log_prob(*self._dist(obs), self.rng)

    def _act(self, obs, explore):
        if explore:
            return self._sample(obs)[0]
        return tf.tanh(self._dist(obs)[0])

    def load_actor(self, policy):
        """Starts the actor from a trained expert's (an MLPPolicy): fine-tuning
        a related task's expert."""
        layers = self._actor_layers()
        ours = [tuple(layer.kernel.shape) for layer in layers]
        theirs = [tuple(kernel.shape) for kernel in policy.kernels]
        if ours != theirs:
            raise ValueError(
                f'its actor layers are {theirs}, this run\'s are {ours}; '
                f'units, layers and the task\'s state and action sizes must match')
        for layer, kernel, bias in zip(layers, policy.kernels, policy.biases):
            layer.kernel.assign(kernel)
            layer.bias.assign(bias)

    def _update(self, batch, train_actor=True):
        c = self.config
        alpha = tf.exp(self.log_alpha)
        next_action, next_log_prob = self._sample(batch['next_obs'])
        target = sac_losses.soft_q_target(
            batch['reward'], batch['discount'], c.discount,
            *sac_losses.q_values(self.targets, batch['next_obs'], next_action), alpha,
            next_log_prob)
        with tf.GradientTape() as tape:
            q1, q2 = sac_losses.q_values(self.critics, batch['obs'], batch['action'])
            critic_loss = sac_losses.critic_loss(q1, q2, target)
        self.critic_opt.minimize(tape, critic_loss)
        with tf.GradientTape() as tape:
            action, log_prob = self._sample(batch['obs'])
            actor_loss = sac_losses.actor_loss(
                alpha, log_prob, *sac_losses.q_values(self.critics, batch['obs'], action))
        if train_actor:
            self.actor_opt.minimize(tape, actor_loss)
            with tf.GradientTape() as tape:
                alpha_loss = sac_losses.temperature_loss(self.log_alpha, log_prob,
                                                         self.target_entropy)
            self.alpha_opt.minimize(tape, alpha_loss)
        self._copy_targets(c.tau)
        return {'critic_loss': critic_loss, 'actor_loss': actor_loss,
                'alpha': alpha, 'entropy': -tf.reduce_mean(log_prob),
                'q_mean': tf.reduce_mean(q1)}

    def _update_many(self, batches, train_actor=True):
        """One update per leading index of `batches` (count, batch, ...);
        without `train_actor`, the critics' part only (the actor and
        temperature stay)."""
        count = tf.shape(batches['reward'])[0]
        metrics = self._update({k: v[0] for k, v in batches.items()}, train_actor)
        for i in tf.range(1, count):
            metrics = self._update({k: v[i] for k, v in batches.items()}, train_actor)
        return metrics

    def _actor_layers(self):
        """The actor's dense layers in order: the MLPPolicy's kernels and biases."""
        return self.actor.hidden + [self.actor.out]

    def export(self, task, action_repeat):
        layers = self._actor_layers()
        return MLPPolicy([layer.kernel.numpy() for layer in layers],
                         [layer.bias.numpy() for layer in layers], task, action_repeat)

