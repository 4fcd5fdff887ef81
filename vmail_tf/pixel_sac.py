"""Soft actor-critic from pixels in the style of DrQ (Kostrikov et al. 2021):
the learner under the model-free imitation baselines (`dac.py`, `sqil.py`).

A conv encoder on a stack of the last `frame_stack` frames is shared by the
actor and the twin critics; only the critics' loss trains it, the actor reads
its features without gradient. Observations and next observations are
randomly shifted (pad `aug_pad` by edge replication, crop back) in every
update. Target critics have their own copy of the encoder. Subclasses supply
the rewards: this module knows nothing of experts.
"""
import math

import tensorflow as tf
import tf_keras as keras

from vmail_tf import dists, precision, sac_losses
from vmail_tf.agent import preprocess
from vmail_tf.networks import MLP
from vmail_tf.optim import Optimizer, VariableModule


# (kernel, stride) of the encoder's convolutions.
ENCODER_CONVS = ((3, 2), (3, 1), (3, 1), (3, 1))


class PixelEncoder(tf.Module):
    """Frames (B, H, W, 3 * stack) uint8 -> features (B, feature_dim):
    a 3x3 stride-2 conv and three 3x3 stride-1 convs (ReLU), then a linear
    layer, LayerNorm and tanh (DrQ's encoder)."""

    def __init__(self, depth, feature_dim, name='encoder'):
        super().__init__(name=name)
        self.convs = [keras.layers.Conv2D(depth, kernel, stride, activation='relu')
                      for kernel, stride in ENCODER_CONVS]
        self.dense = keras.layers.Dense(feature_dim)
        self.norm = keras.layers.LayerNormalization()

    def __call__(self, frames):
        x = preprocess(frames)
        for conv in self.convs:
            x = conv(x)
        x = tf.reshape(x, [tf.shape(x)[0], -1])
        return tf.tanh(self.norm(self.dense(x)))


def random_shift(frames, pad, rng):
    """Each image of (B, H, W, C) shifted by a random offset in [-pad, pad]
    per axis, the pixels it exposes filled by repeating the edge: padding by
    edge replication, then a random crop back to H x W."""
    if pad == 0:
        return frames
    height, width = frames.shape[1], frames.shape[2]
    offsets = rng.uniform([tf.shape(frames)[0], 2], -pad, pad + 1, tf.int32)
    rows = tf.clip_by_value(offsets[:, :1] + tf.range(height)[None], 0, height - 1)
    cols = tf.clip_by_value(offsets[:, 1:] + tf.range(width)[None], 0, width - 1)
    picked = tf.gather(frames, rows, axis=1, batch_dims=1)
    return tf.gather(picked, cols, axis=2, batch_dims=1)


def stack_frames(frames):
    """(B, S, H, W, 3) -> (B, H, W, 3 * S), the oldest frame first."""
    return tf.concat([frames[:, i] for i in range(frames.shape[1])], -1)


def transitions(window, frame_stack):
    """Transitions from windows of `frame_stack` + 1 entries (B, S + 1, ...):
    the observation is the stack of entries 0..S-1, the next observation that
    of entries 1..S, and the action taken at entry S - 1 is stored at entry S
    (docs/design.md section 4), with the discount there: 0 if the next
    observation ends the episode by termination."""
    image = window['image']
    return {'obs': stack_frames(image[:, :frame_stack]),
            'next_obs': stack_frames(image[:, 1:frame_stack + 1]),
            'action': window['action'][:, frame_stack],
            'continuation': window['discount'][:, frame_stack]}


class PixelSAC(tf.Module):
    """The learner. `sac_update(batch, reward_fn)` is one update on
    transitions ({'obs', 'action', 'next_obs', 'continuation'}) with the
    rewards `reward_fn` gives; subclasses' `_train` builds both. A target
    bootstraps unless the next observation ends its episode by termination
    (Car Racing's car leaving the field or finishing a lap; time limits do
    not count)."""

    def __init__(self, name, config, action_size):
        super().__init__(name=name)
        c = self.config = config
        self.action_size = action_size
        self.policy_name, _ = precision.set_policy('32')  # float32 only (ModelFreeTrainer checks)
        self.rng = tf.random.Generator.from_seed(config.seed)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name='step')
        encoder = lambda name: PixelEncoder(c.sac_conv_depth, c.sac_feature_dim, name)
        critic = lambda name: MLP(c.sac_units, c.sac_layers, 1, name, 'relu')
        self.encoder, self.target_encoder = encoder('encoder'), encoder('target_encoder')
        self.critics = [critic('critic1'), critic('critic2')]
        self.targets = [critic('target1'), critic('target2')]
        self.actor = MLP(c.sac_units, c.sac_layers, 2 * action_size, 'actor', 'relu')
        self.log_alpha = tf.Variable(math.log(c.sac_init_alpha), dtype=tf.float32,
                                     name='log_alpha')
        self.target_entropy = -float(action_size)
        frames = tf.zeros([1, c.image_size, c.image_size, 3 * c.frame_stack], tf.uint8)
        pair = tf.zeros([1, c.sac_feature_dim + action_size])
        for enc in (self.encoder, self.target_encoder):
            enc(frames)
        for net in self.critics + self.targets:
            net(pair)
        self.actor(pair[:, :c.sac_feature_dim])
        sac_losses.soft_update([self.encoder], [self.target_encoder], 1.0)
        sac_losses.soft_update(self.critics, self.targets, 1.0)
        self.critic_opt = self.make_optimizer('critic_opt', [self.encoder] + self.critics, c.sac_lr)
        self.actor_opt = self.make_optimizer('actor_opt', [self.actor], c.sac_lr)
        self.alpha_opt = self.make_optimizer('alpha_opt', [VariableModule(self.log_alpha)], c.sac_lr)
        self.optimizers = [self.critic_opt, self.actor_opt, self.alpha_opt]
        # The actor updates every `sac_actor_every` steps; its last metrics are
        # reported in between.
        self.actor_metrics = {k: tf.Variable(0.0, trainable=False, name=k)
                              for k in ('actor_loss', 'actor_grad_norm', 'entropy')}

    def make_optimizer(self, name, modules, lr):
        return Optimizer(name, modules, lr, self.config.sac_grad_clip, self.config.sac_adam_eps,
                         loss_scaling=False)

    def finish_init(self):
        """Builds the optimisers' slots and the graphs; subclasses call it
        after adding their own modules."""
        for opt in self.optimizers:
            opt.build()
        self.train = tf.function(self._train)
        self.policy = tf.function(self._policy)

    # ------------------------------------------------------------ acting

    def initial_policy_state(self, batch_size):
        size, stack = self.config.image_size, self.config.frame_stack
        return tf.zeros([batch_size, size, size, 3 * stack], tf.uint8)

    def _dist(self, features):
        return sac_losses.actor_mean_std(self.actor, features, self.config.sac_log_std_min,
                                         self.config.sac_log_std_max)

    def _policy(self, image, state, is_first, explore):
        """A sampled (explore) or mode action on the last `frame_stack`
        frames; at an episode's first step the stack is its first frame
        repeated."""
        image = tf.convert_to_tensor(image)
        pushed = tf.concat([state[..., 3:], image], -1)
        restarted = tf.tile(image, [1, 1, 1, self.config.frame_stack])
        state = tf.where(tf.cast(is_first, tf.bool)[:, None, None, None], restarted, pushed)
        mean, std = self._dist(self.encoder(state))
        if explore:
            action = dists.tanh_normal_sample(mean, std, self.rng)
        else:
            action = dists.tanh_normal_mode(mean)
        return action, state

    # ---------------------------------------------------------- training

    def augment(self, batch):
        """`batch` with randomly shifted observations and next observations."""
        pad = self.config.aug_pad
        return dict(batch, obs=random_shift(batch['obs'], pad, self.rng),
                    next_obs=random_shift(batch['next_obs'], pad, self.rng))

    def sac_update(self, batch, reward_fn):
        """One SAC update on augmented transitions: the critics and encoder
        every call, the actor and temperature every `sac_actor_every`
        updates, the targets every `sac_target_every`. `reward_fn` maps the
        observations' features (the critics', without gradient) to (rewards
        (B,), metrics): DA-DAC's discriminator reads them, so the batch is
        encoded once."""
        c = self.config
        alpha = tf.exp(self.log_alpha)
        with tf.GradientTape() as tape:
            features = self.encoder(batch['obs'])
            with tape.stop_recording():
                reward, metrics = reward_fn(tf.stop_gradient(features))
                target = self._q_target(batch, reward, alpha)
            q1, q2 = sac_losses.q_values(self.critics, features, batch['action'])
            critic_loss = sac_losses.critic_loss(q1, q2, target)
        metrics.update({'critic_grad_norm': self.critic_opt.minimize(tape, critic_loss),
                        'critic_loss': critic_loss, 'q_mean': tf.reduce_mean(q1),
                        'reward_mean': tf.reduce_mean(reward), 'alpha': alpha})
        if self.step % c.sac_actor_every == 0:
            # The features from before this critic step (DrQ encodes again
            # after it): one encoder pass saved, one encoder step behind.
            self._actor_update(tf.stop_gradient(features), alpha)
        metrics.update({k: v.read_value() for k, v in self.actor_metrics.items()})
        if self.step % c.sac_target_every == 0:
            sac_losses.soft_update([self.encoder], [self.target_encoder], c.sac_encoder_tau)
            sac_losses.soft_update(self.critics, self.targets, c.sac_tau)
        self.step.assign_add(1)
        return metrics

    def _q_target(self, batch, reward, alpha):
        """The soft Q target: the target critics at the next observation and
        an action the actor samples there."""
        next_mean, next_std = self._dist(self.encoder(batch['next_obs']))
        next_action, next_log_prob = dists.tanh_normal_sample_and_log_prob(
            next_mean, next_std, self.rng)
        return sac_losses.soft_q_target(
            reward, batch['continuation'], self.config.discount, *sac_losses.q_values(
                self.targets, self.target_encoder(batch['next_obs']), next_action),
            alpha, next_log_prob)

    def _actor_update(self, features, alpha):
        with tf.GradientTape() as tape:
            mean, std = self._dist(features)
            action, log_prob = dists.tanh_normal_sample_and_log_prob(mean, std, self.rng)
            actor_loss = sac_losses.actor_loss(
                alpha, log_prob, *sac_losses.q_values(self.critics, features, action))
        grad_norm = self.actor_opt.minimize(tape, actor_loss)
        with tf.GradientTape() as tape:
            alpha_loss = sac_losses.temperature_loss(self.log_alpha, log_prob,
                                                     self.target_entropy)
        self.alpha_opt.minimize(tape, alpha_loss)
        self.actor_metrics['actor_loss'].assign(actor_loss)
        self.actor_metrics['actor_grad_norm'].assign(grad_norm)
        self.actor_metrics['entropy'].assign(-tf.reduce_mean(log_prob))
