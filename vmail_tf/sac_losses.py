"""Soft actor-critic's formulas and network read-outs (Haarnoja et al.
2018), shared by the state-based expert trainer and the pixel baselines
(DA-DAC, DA-SQIL)."""
import tensorflow as tf


def bounded_std(raw, log_std_min, log_std_max):
    """A std whose log lies in [log_std_min, log_std_max], smoothly (tanh)."""
    log_std = log_std_min + 0.5 * (log_std_max - log_std_min) * (tf.tanh(raw) + 1)
    return tf.exp(log_std)


def actor_mean_std(actor, inputs, log_std_min, log_std_max):
    """The pre-tanh mean and the bounded std that `actor` outputs for `inputs`."""
    mean, raw = tf.split(actor(inputs), 2, -1)
    return mean, bounded_std(raw, log_std_min, log_std_max)


def q_values(critics, inputs, action):
    """Each critic's Q(inputs, action), as a list of (B,) tensors."""
    pair = tf.concat([inputs, action], -1)
    return [net(pair)[..., 0] for net in critics]


def soft_q_target(reward, continuation, gamma, next_q1, next_q2, alpha, next_log_prob):
    """r + gamma * continuation * (min(Q1', Q2') - alpha * log pi(a'|s')), no
    gradient; `continuation` is 0 where the next state ends the episode."""
    soft_value = tf.minimum(next_q1, next_q2) - alpha * next_log_prob
    return tf.stop_gradient(reward + gamma * continuation * soft_value)


def critic_loss(q1, q2, target):
    """Half the squared TD error of each twin critic, summed, averaged over the batch."""
    return 0.5 * tf.reduce_mean(tf.square(q1 - target) + tf.square(q2 - target))


def actor_loss(alpha, log_prob, q1, q2):
    """E[alpha * log pi(a|s) - min(Q1, Q2)(s, a)] for reparameterised a."""
    return tf.reduce_mean(alpha * log_prob - tf.minimum(q1, q2))


def temperature_loss(log_alpha, log_prob, target_entropy):
    """Moves alpha so that the policy's entropy approaches `target_entropy`."""
    return -tf.reduce_mean(log_alpha * tf.stop_gradient(log_prob + target_entropy))


def soft_update(sources, targets, tau):
    """target <- tau * source + (1 - tau) * target, variable by variable."""
    for source, target in zip(sources, targets, strict=True):
        for s, t in zip(source.trainable_variables, target.trainable_variables, strict=True):
            t.assign(tau * s + (1 - tau) * t)
