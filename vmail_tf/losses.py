"""V-MAIL's losses as plain functions of tensors (paper Eq. 6-8, docs/design.md section 2)."""
import tensorflow as tf

from vmail_tf import dists


def kl_loss(post, prior, free_nats):
    """World-model KL term: max(mean KL(post || prior), free_nats).
    Returns (loss, mean KL)."""
    kl = tf.reduce_mean(dists.diag_normal_kl(
        post['mean'], post['std'], prior['mean'], prior['std']))
    return tf.maximum(kl, free_nats), kl


def image_log_likelihood(image, mean):
    """Mean over images of log N(image; mean, 1), summed over pixels."""
    return tf.reduce_mean(tf.reduce_sum(
        dists.normal_log_prob(image, mean), [-3, -2, -1]))


def image_squared_error(image, mean):
    """Mean over images of the squared error summed over pixels: the part of
    the image loss that training moves (the rest is a constant, 0.5 log 2pi
    per pixel, about 11291 at 64 x 64 x 3)."""
    return tf.reduce_mean(tf.reduce_sum(tf.square(image - mean), [-3, -2, -1]))


def lambda_return(rewards, next_values, bootstrap, discount, lam):
    """TD(lambda) returns over a time-major horizon.

    rewards[h] is the reward of the pair (z_h, a_h), next_values[h] = V(z_{h+1}),
    `bootstrap` the value after the last step (zeros for none):
    R_h = r_h + discount * ((1 - lam) * V(z_{h+1}) + lam * R_{h+1}), R_H = bootstrap.
    """
    def step(later, inputs):
        reward, next_value = inputs
        return reward + discount * ((1 - lam) * next_value + lam * later)

    return tf.scan(step, (rewards, next_values), bootstrap, reverse=True)


def discriminator_loss(expert_logits, policy_logits):
    """-mean log D(expert) - mean log(1 - D(policy)), D = sigmoid(logit)."""
    return (tf.reduce_mean(tf.nn.softplus(-expert_logits))
            + tf.reduce_mean(tf.nn.softplus(policy_logits)))


def discriminator_reward(logits, kind):
    """The actor's reward from D: prob (authors' code), log (paper), logit."""
    if kind == 'prob':
        return tf.sigmoid(logits)
    if kind == 'log':
        return -tf.nn.softplus(-logits)
    if kind == 'logit':
        return logits
    raise ValueError(f'unknown disc_reward `{kind}`; expected prob, log or logit')


def _interpolate(expert_inputs, policy_inputs, rng):
    alpha = rng.uniform([tf.shape(expert_inputs)[0], 1])
    return alpha * expert_inputs + (1 - alpha) * policy_inputs


def params_penalty(discriminator, expert_inputs, policy_inputs, rng):
    """(||grad_params mean D-logit at interpolates|| - 1)^2, the gradient taken
    with respect to the discriminator's parameters (authors' code)."""
    mixed = _interpolate(expert_inputs, policy_inputs, rng)
    variables = discriminator.trainable_variables
    with tf.GradientTape() as tape:
        mean_logit = tf.reduce_mean(discriminator(mixed))
    norm = tf.linalg.global_norm(tape.gradient(mean_logit, variables))
    return tf.square(norm - 1.0)


def input_penalty(discriminator, expert_inputs, policy_inputs, rng):
    """WGAN-GP: mean over samples of (||grad_x D-logit(x)|| - 1)^2 at interpolates."""
    mixed = _interpolate(expert_inputs, policy_inputs, rng)
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        total_logit = tf.reduce_sum(discriminator(mixed))
    grads = tape.gradient(total_logit, mixed)
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), -1) + 1e-12)
    return tf.reduce_mean(tf.square(norms - 1.0))


PENALTIES = {'params': params_penalty, 'input': input_penalty}


def discriminator_penalty(kind, discriminator, expert_inputs, policy_inputs, rng):
    """The gradient penalty `kind` (params, input or none), each expert pair
    interpolated with a randomly picked policy pair."""
    if kind == 'none':
        return tf.constant(0.0)
    picks = rng.uniform([tf.shape(expert_inputs)[0]], 0, tf.shape(policy_inputs)[0], tf.int32)
    return PENALTIES[kind](discriminator, expert_inputs, tf.gather(policy_inputs, picks), rng)


def discriminator_objective(discriminator, expert_inputs, policy_inputs, penalty, penalty_scale,
                            rng):
    """What D minimises: its loss (Eq. 6) plus `penalty_scale` times the
    gradient penalty `penalty`, which regularises D alone (no gradient
    reaches the inputs through it). Returns (objective, metrics)."""
    expert_logits = discriminator(expert_inputs)[..., 0]
    policy_logits = discriminator(policy_inputs)[..., 0]
    loss = discriminator_loss(expert_logits, policy_logits)
    penalty_value = discriminator_penalty(
        penalty, discriminator, tf.stop_gradient(expert_inputs),
        tf.stop_gradient(policy_inputs), rng)
    metrics = {'disc_loss': loss, 'disc_penalty': penalty_value,
               'd_expert': tf.reduce_mean(tf.sigmoid(expert_logits)),
               'd_policy': tf.reduce_mean(tf.sigmoid(policy_logits))}
    return loss + penalty_scale * penalty_value, metrics
