"""Behaviour cloning, the paper's simplest baseline: the same conv encoder
and actor, trained by maximum likelihood on the expert's (image, action
taken) pairs. It acts on the current image alone."""
import tensorflow as tf

from vmail_tf import dists, episodes
from vmail_tf.agent import AgentBase, preprocess
from vmail_tf.trainer_base import TrainerBase


def expert_image_action_pairs(batch):
    """Images at t with the action taken there (stored at index t + 1)."""
    return episodes.with_taken_actions(batch['image'], batch['action'])


class BCAgent(AgentBase):

    def __init__(self, config, action_size):
        super().__init__('bc_agent', config, action_size)
        self.opt = self.optimizer('bc_opt', [self.encoder, self.actor], config.bc_lr)
        size = config.image_size
        self.actor.params(self.encoder(tf.zeros([1, size, size, 3])))
        self.opt.build()
        self.optimizers = [self.opt]
        self.train = tf.function(self._train, jit_compile=config.jit or None)
        self.policy = tf.function(self._policy)

    def initial_policy_state(self, batch_size):
        return tf.zeros([batch_size, self.action_size])

    def _policy(self, image, state, is_first, explore):
        """The actor's mode on the current image; `state` and `is_first` keep
        the interface of the V-MAIL agent, which carries a latent state."""
        action = self.actor.mode(self.encoder(preprocess(image)))
        return action, action

    def _train(self, data):
        images, actions = expert_image_action_pairs(data['expert'])
        with tf.GradientTape() as tape:
            mean, std = self.actor.params(self.encoder(preprocess(images)))
            log_prob = tf.reduce_mean(dists.tanh_normal_log_prob(actions, mean, std))
            scaled = self.opt.scale(-log_prob)
        grad_norm = self.opt.minimize(tape, scaled)
        self.step.assign_add(1)
        return {'bc_loss': -log_prob, 'bc_grad_norm': grad_norm,
                'bc_action_error': tf.reduce_mean(tf.abs(dists.tanh_normal_mode(mean) - actions))}


class BCTrainer(TrainerBase):
    """`bc_steps` updates on expert pairs, evaluated every `bc_eval_every`
    updates; no env steps. Its x-axis is the update count."""

    parts = ('expert',)
    unit = 'updates'

    def make_agent(self, action_size):
        return BCAgent(self.config, action_size)

    def step(self):
        return int(self.agent.step.numpy())

    def loop(self):
        c = self.config
        return self.update_loop(c.bc_steps, c.bc_eval_every, 'behaviour cloning')
