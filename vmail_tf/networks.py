"""The networks: conv encoder and decoder, RSSM, MLP heads.

Layers come from `tf_keras` (Keras 2), whose layers are `tf.Module`s, so
every module here reports its variables through `trainable_variables`.
(Keras 3 layers are not tracked by `tf.Module`: an optimiser over a module's
variables would silently train nothing.) States and distribution parameters
are float32 also under mixed precision; layers compute in the global policy.
"""
import tensorflow as tf
import tf_keras as keras

from vmail_tf import dists

layers = keras.layers


def _f32(x):
    return tf.cast(x, tf.float32)


def _fold(x, keep):
    """Merges all but the last `keep` axes into one; returns it and the batch shape."""
    batch_shape = tf.shape(x)[:-keep]
    return tf.reshape(x, tf.concat([[-1], tf.shape(x)[-keep:]], 0)), batch_shape


def _unfold(x, batch_shape, keep):
    return tf.reshape(x, tf.concat([batch_shape, tf.shape(x)[-keep:]], 0))


# Channel multipliers of the encoder's convolutions (kernel 4, stride 2) per
# image size: 64 -> 31 -> 14 -> 6 -> 2, and 128 -> 63 -> 30 -> 14 -> 6 -> 2.
ENCODER_LAYERS = {64: (1, 2, 4, 8), 128: (1, 2, 4, 8, 16)}
ENCODER_KERNEL = 4
# The decoder per image size: channels (x depth) of the 5x5 map that its
# first layer makes from the features, then (channels x depth, kernel) of
# each stride-2 transposed convolution; the last makes the 3 colour channels.
# 5 -> 13 -> 30 -> 64, and 5 -> 13 -> 29 -> 62 -> 128.
DECODER_LAYERS = {64: (4, ((2, 5), (1, 6), (None, 6))),
                  128: (8, ((4, 5), (2, 5), (1, 6), (None, 6)))}


def _check_size(image_size):
    if image_size not in ENCODER_LAYERS:
        raise ValueError(f'image_size {image_size} is not supported; expected one of '
                         f'{", ".join(map(str, ENCODER_LAYERS))}')


class ConvEncoder(tf.Module):
    """Images -> convs (kernel 4, stride 2, ReLU) down to 2x2 -> a flat
    embedding: 2x2x(8*depth) at 64 px, 2x2x(16*depth) at 128 px."""

    def __init__(self, depth, image_size, name='encoder'):
        super().__init__(name=name)
        _check_size(image_size)
        self.convs = [layers.Conv2D(m * depth, ENCODER_KERNEL, 2, activation='relu')
                      for m in ENCODER_LAYERS[image_size]]

    def __call__(self, image):
        x, batch_shape = _fold(image, 3)
        for conv in self.convs:
            x = conv(x)
        x = tf.reshape(x, [tf.shape(x)[0], -1])
        return _f32(_unfold(x, batch_shape, 1))


class ConvDecoder(tf.Module):
    """features -> dense 32*depth -> a 5x5 map -> transposed convs (stride 2)
    -> the image mean (`DECODER_LAYERS`).

    The first transposed conv (kernel 5) acts on a 1x1 input, so it is
    computed as the dense layer it equals (to 5*5*channels units, then a
    reshape): the same function, with a bias per output position instead of
    per channel (a superset), and ~100x faster on CPU than TF's transposed
    convolution where oneDNN is off.
    """

    def __init__(self, depth, image_size, name='decoder'):
        super().__init__(name=name)
        _check_size(image_size)
        first, deconvs = DECODER_LAYERS[image_size]
        self.first_channels = first * depth
        self.dense = layers.Dense(32 * depth)
        self.first = layers.Dense(5 * 5 * self.first_channels, activation='relu')
        self.deconvs = [
            layers.Conv2DTranspose(3 if m is None else m * depth, kernel, 2,
                                   activation=None if m is None else 'relu')
            for m, kernel in deconvs]

    def __call__(self, features):
        x, batch_shape = _fold(features, 1)
        x = self.first(self.dense(x))
        x = tf.reshape(x, [-1, 5, 5, self.first_channels])
        for deconv in self.deconvs:
            x = deconv(x)
        return _f32(_unfold(x, batch_shape, 3))


class MLP(tf.Module):
    """`num_layers` dense layers (ELU unless told), then a linear output of `out_size`."""

    def __init__(self, units, num_layers, out_size, name=None, activation='elu'):
        super().__init__(name=name)
        self.hidden = [layers.Dense(units, activation=activation)
                       for _ in range(num_layers)]
        self.out = layers.Dense(out_size)

    def __call__(self, x):
        for layer in self.hidden:
            x = layer(x)
        return _f32(self.out(x))


class RSSM(tf.Module):
    """Recurrent state-space model: deterministic GRU state `deter` and a
    diagonal-Gaussian stochastic state `stoch`, std = softplus + min_std.
    A state is a dict of float32 tensors: mean, std, stoch, deter."""

    def __init__(self, stoch, deter, hidden, min_std, rng=None,
                 name='rssm'):
        super().__init__(name=name)
        self.stoch_size, self.deter_size = stoch, deter
        self.min_std = min_std
        self.rng = rng
        self.img_in = layers.Dense(hidden, activation='elu')
        self.cell = layers.GRUCell(deter)
        self.img_out = layers.Dense(hidden, activation='elu')
        self.img_dist = layers.Dense(2 * stoch)
        self.obs_out = layers.Dense(hidden, activation='elu')
        self.obs_dist = layers.Dense(2 * stoch)

    def initial(self, batch_size):
        zeros = lambda size: tf.zeros([batch_size, size], tf.float32)
        return {'mean': zeros(self.stoch_size), 'std': zeros(self.stoch_size),
                'stoch': zeros(self.stoch_size), 'deter': zeros(self.deter_size)}

    @staticmethod
    def features(state):
        return tf.concat([state['stoch'], state['deter']], -1)

    def _gaussian(self, params):
        mean, raw_std = tf.split(_f32(params), 2, -1)
        std = tf.nn.softplus(raw_std) + self.min_std
        stoch = mean + std * self.rng.normal(tf.shape(mean))
        return {'mean': mean, 'std': std, 'stoch': stoch}

    def img_step(self, prev_state, prev_action):
        """Prior p(s_t | s_{t-1}, a_{t-1})."""
        x = self.img_in(tf.concat([prev_state['stoch'], prev_action], -1))
        x, [deter] = self.cell(
            x, [tf.cast(prev_state['deter'], self.cell.compute_dtype)])
        deter = _f32(deter)
        prior = self._gaussian(self.img_dist(self.img_out(x)))
        prior['deter'] = deter
        return prior

    def obs_step(self, prev_state, prev_action, embed):
        """Posterior q(s_t | s_{t-1}, a_{t-1}, x_t) and the prior it refines."""
        prior = self.img_step(prev_state, prev_action)
        x = self.obs_out(tf.concat([prior['deter'], embed], -1))
        post = self._gaussian(self.obs_dist(x))
        post['deter'] = prior['deter']
        return post, prior

    def observe(self, embed, actions, state=None):
        """Filters a batch of sequences (B, T, ...); actions[:, t] is the
        action that led to observation t. Returns posterior and prior states
        with shapes (B, T, ...)."""
        if state is None:
            state = self.initial(tf.shape(embed)[0])
        swap = _swap_batch_and_time

        def step(carry, inputs):
            return self.obs_step(carry[0], *inputs)

        post, prior = tf.scan(
            step, (swap(actions), swap(embed)), (state, state))
        return ({k: swap(v) for k, v in post.items()},
                {k: swap(v) for k, v in prior.items()})

    def imagine_with_actions(self, actions, state):
        """Rolls the prior forward with given actions (B, T, A)."""
        swap = _swap_batch_and_time
        prior = tf.scan(self.img_step, swap(actions), state)
        return {k: swap(v) for k, v in prior.items()}


def _swap_batch_and_time(x):
    """(B, T, ...) <-> (T, B, ...): tf.scan runs over the first axis."""
    return tf.transpose(x, [1, 0] + list(range(2, x.shape.rank)))


class Actor(tf.Module):
    """pi(a | features): tanh-transformed Gaussian over actions in [-1, 1]."""

    def __init__(self, action_size, units, num_layers, init_std, mean_scale, min_std,
                 rng=None, name='actor'):
        super().__init__(name=name)
        self.mlp = MLP(units, num_layers, 2 * action_size)
        self.init_std, self.mean_scale, self.min_std = init_std, mean_scale, min_std
        self.rng = rng

    def params(self, features):
        raw_mean, raw_std = tf.split(self.mlp(features), 2, -1)
        return dists.tanh_normal_params(
            raw_mean, raw_std, self.mean_scale, self.init_std, self.min_std)

    def sample(self, features):
        return dists.tanh_normal_sample(*self.params(features), self.rng)

    def mode(self, features):
        return dists.tanh_normal_mode(self.params(features)[0])
