"""Behaviour cloning, the paper's simplest baseline: the same conv encoder
and actor, trained by maximum likelihood on the expert's (image, action
taken) pairs. It acts on the current image alone."""
import tensorflow as tf

from vmail_tf import dists, networks, optim, precision
from vmail_tf.agent import preprocess


def expert_image_action_pairs(batch):
    """Images at t with the action taken there, stored at index t + 1."""
    return batch['image'][:, :-1], batch['action'][:, 1:]


class BCAgent(tf.Module):

    def __init__(self, config, action_size):
        super().__init__(name='bc_agent')
        self.config = config
        self.action_size = action_size
        self.policy_name, loss_scaling = precision.set_policy(config.precision)
        self.rng = tf.random.Generator.from_seed(config.seed)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name='step')
        self.encoder = networks.ConvEncoder(config.cnn_depth)
        self.actor = networks.Actor(
            action_size, config.num_units, config.actor_layers,
            config.actor_init_std, config.actor_mean_scale, rng=self.rng)
        self.opt = optim.Optimizer('bc_opt', [self.encoder, self.actor], config.bc_lr,
                                   config.grad_clip, config.adam_eps, loss_scaling)
        size = config.image_size
        self.actor.params(self.encoder(tf.zeros([1, size, size, 3])))
        self.opt.build()
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
