import math

import numpy as np
import pytest
import tensorflow as tf

from vmail_tf import dists, losses


def test_kl_matches_closed_form_and_free_nats_floor():
    post = {'mean': tf.constant([[1.0, 0.0]]), 'std': tf.constant([[1.0, 2.0]])}
    prior = {'mean': tf.constant([[0.0, 0.0]]), 'std': tf.constant([[1.0, 1.0]])}
    # dim 1: 0.5 * (1 + 1 - 1 - 0) = 0.5; dim 2: 0.5 * (4 + 0 - 1 - ln 4)
    expected = 0.5 + 0.5 * (3.0 - math.log(4.0))
    loss, kl = losses.kl_loss(post, prior, free_nats=0.0)
    assert kl.numpy() == pytest.approx(expected, rel=1e-5)
    assert loss.numpy() == pytest.approx(expected, rel=1e-5)
    loss, kl = losses.kl_loss(post, prior, free_nats=3.0)
    assert loss.numpy() == pytest.approx(3.0)
    assert kl.numpy() == pytest.approx(expected, rel=1e-5)


def test_image_log_likelihood_sums_pixels_and_averages_images():
    image = tf.zeros([2, 1, 2, 1])
    mean = tf.constant([[[[1.0], [0.0]]], [[[0.0], [0.0]]]])
    log_2pi = math.log(2 * math.pi)
    first = -0.5 - log_2pi  # -0.5 * 1^2 - 0.5 log 2pi, plus -0.5 log 2pi
    second = -log_2pi
    got = losses.image_log_likelihood(image, mean).numpy()
    assert got == pytest.approx((first + second) / 2, rel=1e-5)


def test_image_squared_error_is_the_likelihood_without_its_constant():
    image = tf.zeros([2, 1, 2, 1])
    mean = tf.constant([[[[1.0], [-2.0]]], [[[0.0], [0.5]]]])
    # per image: 1 + 4 = 5 and 0.25; their mean
    assert losses.image_squared_error(image, mean).numpy() == pytest.approx(2.625)
    constant = 0.5 * math.log(2 * math.pi) * 2
    ll = losses.image_log_likelihood(image, mean).numpy()
    assert -ll == pytest.approx(constant + 0.5 * 2.625, rel=1e-6)


def test_lambda_one_without_bootstrap_is_the_discounted_sum():
    rewards = tf.constant([[1.0], [2.0], [3.0]])
    values = tf.constant([[10.0], [20.0], [30.0]])
    returns = losses.lambda_return(rewards, values, tf.zeros([1]), 0.5, 1.0)
    np.testing.assert_allclose(returns.numpy()[:, 0],
                               [1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3.0], rtol=1e-6)


def test_td_lambda_with_bootstrap_by_hand():
    rewards = tf.constant([[1.0], [2.0]])
    next_values = tf.constant([[4.0], [8.0]])  # V(z_1), V(z_2)
    bootstrap = tf.constant([8.0])              # V(z_2)
    gamma, lam = 0.9, 0.5
    r1 = 2 + gamma * ((1 - lam) * 8 + lam * 8)
    r0 = 1 + gamma * ((1 - lam) * 4 + lam * r1)
    returns = losses.lambda_return(rewards, next_values, bootstrap, gamma, lam)
    np.testing.assert_allclose(returns.numpy()[:, 0], [r0, r1], rtol=1e-6)


def test_discriminator_loss_by_hand():
    expert, policy = tf.constant([0.0, 2.0]), tf.constant([-1.0])
    sigmoid = lambda x: 1 / (1 + math.exp(-x))
    expected = (-(math.log(0.5) + math.log(sigmoid(2.0))) / 2
                - math.log(1 - sigmoid(-1.0)))
    got = losses.discriminator_loss(expert, policy).numpy()
    assert got == pytest.approx(expected, rel=1e-6)


def test_discriminator_reward_variants():
    logits = tf.constant([0.0, 2.0])
    p = 1 / (1 + math.exp(-2.0))
    np.testing.assert_allclose(losses.discriminator_reward(logits, 'prob'), [0.5, p], rtol=1e-6)
    np.testing.assert_allclose(losses.discriminator_reward(logits, 'log'),
                               [math.log(0.5), math.log(p)], rtol=1e-6)
    np.testing.assert_allclose(losses.discriminator_reward(logits, 'logit'), [0.0, 2.0])
    with pytest.raises(ValueError, match='unknown disc_reward `sigmoid`; expected prob, log or logit'):
        losses.discriminator_reward(logits, 'sigmoid')


class Linear(tf.Module):
    """D(x) = w.x + b: its gradients are known in closed form."""

    def __init__(self, w, b):
        super().__init__()
        self.w = tf.Variable(np.array(w, np.float32)[:, None])
        self.b = tf.Variable([b], dtype=tf.float32)

    def __call__(self, x):
        return x @ self.w + self.b


def test_params_penalty_by_hand():
    # d mean(logit)/dw = mean(x), d/db = 1 for any interpolation weights when
    # expert and policy inputs are equal, so the penalty is fixed.
    d = Linear([0.3, -0.2], 0.1)
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    norm = math.sqrt(2.0 ** 2 + 3.0 ** 2 + 1.0)
    got = losses.params_penalty(d, x, x, tf.random.Generator.from_seed(0))
    assert got.numpy() == pytest.approx((norm - 1) ** 2, rel=1e-5)


def test_input_penalty_by_hand():
    # d logit / dx = w for every sample: penalty = (|w| - 1)^2.
    d = Linear([3.0, 4.0], 0.0)
    expert = tf.constant([[1.0, 2.0], [0.0, 0.0]])
    policy = tf.constant([[5.0, -1.0], [2.0, 2.0]])
    got = losses.input_penalty(d, expert, policy, tf.random.Generator.from_seed(0))
    assert got.numpy() == pytest.approx(16.0, rel=1e-5)


def test_discriminator_objective_adds_the_scaled_penalty_and_reports_d():
    # D(x) = 3 x1 + 4 x2: expert logits 11 and 0, policy logit 11; the input
    # penalty is (|w| - 1)^2 = 16, scaled by 0.5.
    d = Linear([3.0, 4.0], 0.0)
    expert = tf.constant([[1.0, 2.0], [0.0, 0.0]])
    policy = tf.constant([[5.0, -1.0]])
    sigmoid = lambda x: 1 / (1 + math.exp(-x))
    loss = (-(math.log(sigmoid(11.0)) + math.log(0.5)) / 2 - math.log(1 - sigmoid(11.0)))
    objective, metrics = losses.discriminator_objective(
        d, expert, policy, 'input', 0.5, tf.random.Generator.from_seed(0))
    assert objective.numpy() == pytest.approx(loss + 0.5 * 16.0, rel=1e-5)
    assert metrics['disc_loss'].numpy() == pytest.approx(loss, rel=1e-5)
    assert metrics['disc_penalty'].numpy() == pytest.approx(16.0, rel=1e-5)
    assert metrics['d_expert'].numpy() == pytest.approx((sigmoid(11.0) + 0.5) / 2, rel=1e-6)
    assert metrics['d_policy'].numpy() == pytest.approx(sigmoid(11.0), rel=1e-6)
    # The penalty regularises D alone: the inputs get the loss's gradient
    # only, though the parameter penalty depends on them.
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([expert, policy])
        objective, metrics = losses.discriminator_objective(
            d, expert, policy, 'params', 10.0, tf.random.Generator.from_seed(0))
        plain = losses.discriminator_loss(d(expert)[..., 0], d(policy)[..., 0])
    assert metrics['disc_penalty'].numpy() > 0.1  # ||grad|| is not 1: it depends on x
    for x in (expert, policy):
        np.testing.assert_allclose(tape.gradient(objective, x), tape.gradient(plain, x),
                                   rtol=1e-5)


def test_tanh_normal_starts_at_the_init_std_and_stays_in_bounds():
    mean, std = dists.tanh_normal_params(
        tf.zeros([1000, 2]), tf.zeros([1000, 2]), mean_scale=5.0, init_std=5.0, min_std=1e-4)
    np.testing.assert_allclose(std.numpy(), 5.0 + 1e-4, rtol=1e-5)
    # far below zero the softplus vanishes and the floor is what is left
    floor = dists.tanh_normal_params(tf.zeros([1, 1]), tf.constant([[-100.0]]), 5.0, 5.0, 0.3)[1]
    assert floor.numpy()[0, 0] == pytest.approx(0.3)
    sample = dists.tanh_normal_sample(mean, std, tf.random.Generator.from_seed(1))
    assert np.all(np.abs(sample.numpy()) <= 1.0)
    big = dists.tanh_normal_params(tf.constant([[100.0]]), tf.zeros([1, 1]), 5.0, 5.0, 1e-4)[0]
    assert big.numpy()[0, 0] == pytest.approx(5.0 * math.tanh(20.0))


class Quadratic(tf.Module):
    """D(x) = sum_i a_i x_i^2 + b: non-linear, so the penalties depend on
    where between the expert and policy inputs they are taken."""

    def __init__(self, a, b):
        super().__init__()
        self.a = tf.Variable(np.array(a, np.float32))
        self.b = tf.Variable([b], dtype=tf.float32)

    def __call__(self, x):
        return tf.reduce_sum(self.a * x ** 2, -1, keepdims=True) + self.b


EXPERT = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0]], np.float32)
POLICY = np.array([[-1.0, 0.0], [3.0, 1.0], [0.0, -2.0]], np.float32)


def interpolates(seed):
    """The points the penalties use: alpha * expert + (1 - alpha) * policy,
    alpha drawn as losses._interpolate draws it from a generator of `seed`."""
    alpha = tf.random.Generator.from_seed(seed).uniform([len(EXPERT), 1]).numpy()
    return alpha * EXPERT + (1 - alpha) * POLICY


def test_penalties_of_a_nonlinear_discriminator_on_distinct_inputs_by_hand():
    a = np.array([0.7, -0.4], np.float32)
    d = Quadratic(a, 0.2)
    mixed = interpolates(seed=3)
    assert not np.allclose(mixed, EXPERT) and not np.allclose(mixed, POLICY)
    # Input penalty: grad_x D = 2 a x per sample.
    norms = np.linalg.norm(2 * a * mixed, axis=-1)
    got = losses.input_penalty(d, tf.constant(EXPERT), tf.constant(POLICY),
                               tf.random.Generator.from_seed(3))
    assert got.numpy() == pytest.approx(np.mean((norms - 1) ** 2), rel=1e-5)
    # Parameter penalty: d mean(D)/da_i = mean(x_i^2), d mean(D)/db = 1.
    norm = np.sqrt(np.sum(np.mean(mixed ** 2, 0) ** 2) + 1.0)
    got = losses.params_penalty(d, tf.constant(EXPERT), tf.constant(POLICY),
                                tf.random.Generator.from_seed(3))
    assert got.numpy() == pytest.approx((norm - 1) ** 2, rel=1e-5)
