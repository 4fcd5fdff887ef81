"""The distributions V-MAIL and SAC need, from TensorFlow Probability.

All arithmetic here is float32, also under mixed precision (the networks
return float32). Samples are drawn with stateless seeds taken from the
caller's `tf.random.Generator`, so a run's randomness stays in its
checkpointed generator. Using tfp costs about 1.5 % of the `cpu` block's
train step against hand-written formulas (results/speed/README.md).
"""
import math

import tensorflow as tf
import tensorflow_probability as tfp

tfd, tfb = tfp.distributions, tfp.bijectors


def _seed(rng):
    """A stateless seed for one tfp sample, drawn from `rng`."""
    return tf.cast(rng.make_seeds(1)[:, 0], tf.int32)


def normal_log_prob(x, mean, std=1.0):
    """Elementwise log N(x; mean, std)."""
    return tfd.Normal(mean, std).log_prob(x)


def diag_normal_kl(mean_p, std_p, mean_q, std_q):
    """KL(N(mean_p, std_p) || N(mean_q, std_q)), summed over the last axis."""
    return tfd.kl_divergence(tfd.Independent(tfd.Normal(mean_p, std_p), 1),
                             tfd.Independent(tfd.Normal(mean_q, std_q), 1))


def tanh_normal(mean, std):
    """tanh(N(mean, std)), independent over the last axis."""
    return tfd.Independent(
        tfd.TransformedDistribution(tfd.Normal(mean, std), tfb.Tanh()), 1)


def tanh_normal_params(raw_mean, raw_std, mean_scale, init_std, min_std):
    """Dreamer's action distribution: mean s*tanh(m/s) and a softplus std
    that starts at `init_std` and stays above `min_std`, before the tanh squashing."""
    mean = mean_scale * tf.tanh(raw_mean / mean_scale)
    raw_init = math.log(math.expm1(init_std))
    std = tf.nn.softplus(raw_std + raw_init) + min_std
    return mean, std


def tanh_normal_sample(mean, std, rng):
    """A reparameterised sample of tanh(N(mean, std))."""
    return tanh_normal(mean, std).sample(seed=_seed(rng))


def tanh_normal_sample_and_log_prob(mean, std, rng):
    """A reparameterised sample of tanh(N(mean, std)) and its log-density,
    summed over the last axis (for SAC's entropy terms), computed from the
    pre-tanh sample: finite where tanh rounds to +-1."""
    return tanh_normal(mean, std).experimental_sample_and_log_prob(seed=_seed(rng))


def tanh_normal_mode(mean):
    """tanh of the Gaussian's mode: the deterministic action used for eval."""
    return tf.tanh(mean)


def tanh_normal_log_prob(action, mean, std, eps=1e-6):
    """log-density of `action` under tanh(N(mean, std)), summed over the last
    axis; actions at +-1 are pulled in by `eps` to keep atanh finite."""
    return tanh_normal(mean, std).log_prob(tf.clip_by_value(action, -1 + eps, 1 - eps))
