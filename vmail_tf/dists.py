"""The few distributions V-MAIL needs, written out so each formula is visible.

All arithmetic here is float32, also under mixed precision.
"""
import math

import tensorflow as tf

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def normal_log_prob(x, mean, std=1.0):
    """Elementwise log N(x; mean, std)."""
    z = (x - mean) / std
    return -0.5 * tf.square(z) - tf.math.log(tf.cast(std, x.dtype)) - HALF_LOG_2PI


def diag_normal_kl(mean_p, std_p, mean_q, std_q):
    """KL(N(mean_p, std_p) || N(mean_q, std_q)), summed over the last axis."""
    var_ratio = tf.square(std_p / std_q)
    mean_term = tf.square((mean_p - mean_q) / std_q)
    kl = 0.5 * (var_ratio + mean_term - 1.0 - tf.math.log(var_ratio))
    return tf.reduce_sum(kl, -1)


def tanh_normal_params(raw_mean, raw_std, mean_scale, init_std, min_std=1e-4):
    """Dreamer's action distribution: mean s*tanh(m/s) and a softplus std
    that starts at `init_std`, before the tanh squashing."""
    mean = mean_scale * tf.tanh(raw_mean / mean_scale)
    raw_init = math.log(math.expm1(init_std))
    std = tf.nn.softplus(raw_std + raw_init) + min_std
    return mean, std


def tanh_normal_sample(mean, std, rng):
    """A reparameterised sample of tanh(N(mean, std))."""
    return tf.tanh(mean + std * rng.normal(tf.shape(mean)))


def tanh_log_det_jacobian(pre):
    """log |d tanh(u)/du| = log(1 - tanh(u)^2) at the pre-tanh value u, in a
    form that stays finite where tanh(u) rounds to +-1."""
    return 2.0 * (math.log(2.0) - pre - tf.nn.softplus(-2.0 * pre))


def tanh_normal_sample_and_log_prob(mean, std, rng):
    """A reparameterised sample of tanh(N(mean, std)) and its log-density,
    summed over the last axis (for SAC's entropy terms)."""
    pre = mean + std * rng.normal(tf.shape(mean))
    log_prob = normal_log_prob(pre, mean, std) - tanh_log_det_jacobian(pre)
    return tf.tanh(pre), tf.reduce_sum(log_prob, -1)


def tanh_normal_mode(mean):
    """tanh of the Gaussian's mode: the deterministic action used for eval."""
    return tf.tanh(mean)


def tanh_normal_log_prob(action, mean, std, eps=1e-6):
    """log-density of `action` under tanh(N(mean, std)), summed over the last
    axis; actions at +-1 are pulled in by `eps` to keep atanh finite."""
    pre = tf.atanh(tf.clip_by_value(action, -1 + eps, 1 - eps))
    return tf.reduce_sum(normal_log_prob(pre, mean, std) - tanh_log_det_jacobian(pre), -1)
