import numpy as np
import pytest
import tensorflow as tf

from vmail_tf.agent import Agent, expert_pairs
from vmail_tf.benchmark import random_batch
from vmail_tf.replay import Replay

from helpers import WORKER_TIMEOUT, make_episode, tiny

MODULES = ('encoder', 'rssm', 'decoder', 'discriminator', 'actor', 'value')


def test_expert_state_pairs_with_the_action_stored_one_entry_later():
    replay = Replay(capacity=100, batch_length=4, seed=3)
    replay.add_expert(make_episode(12, action_size=2))
    window = replay.sample_expert(2)
    # Stand-in latents: the entry index, as encoded in the images.
    features = tf.constant(window['image'][:, :, :1, 0, 0], tf.float32)
    pairs = expert_pairs(features, tf.constant(window['action'])).numpy()
    assert pairs.shape == (2 * 4, 1 + 2)
    np.testing.assert_array_equal(pairs[:, 1], pairs[:, 0] + 1)
    np.testing.assert_array_equal(pairs[:, 2], pairs[:, 0] + 1)


@pytest.mark.parametrize('penalty, image_size', [('params', 64), ('input', 64), ('none', 64),
                                                ('input', 128)])
def test_every_network_changes_after_one_train_step(debug_config, penalty, image_size):
    # free_nats 0 so the prior's layers get a gradient too.
    config = tiny(debug_config, free_nats=0.0, disc_penalty=penalty, image_size=image_size)
    agent = Agent(config, action_size=1)
    before = {m: [v.numpy().copy() for v in getattr(agent, m).trainable_variables]
              for m in MODULES}
    metrics = agent.train(random_batch(config, 1))
    for name in MODULES:
        variables = getattr(agent, name).trainable_variables
        assert variables, f'{name} has no trainable variables'
        for old, new in zip(before[name], variables):
            assert not np.allclose(old, new.numpy()), f'{name}: {new.name} unchanged'
    values = {k: float(v) for k, v in metrics.items()}
    assert all(np.isfinite(v) for v in values.values()), values
    assert 0 < values['d_expert'] < 1 and 0 < values['d_policy'] < 1
    if penalty == 'none':
        assert values['disc_penalty'] == 0.0
    assert int(agent.step.numpy()) == 1


def test_actor_step_leaves_the_world_model_and_discriminator_alone(debug_config):
    # With zero model and discriminator learning rates, only the actor and
    # value move: the actor's loss must not update what it backprops through.
    config = tiny(debug_config, model_lr=0.0, disc_lr=0.0)
    agent = Agent(config, action_size=1)

    def values(*modules):
        return [v.numpy().copy() for m in modules for v in getattr(agent, m).trainable_variables]

    frozen = values('encoder', 'rssm', 'decoder', 'discriminator')
    learning = {m: values(m) for m in ('actor', 'value')}
    agent.train(random_batch(config, 1))
    for old, new in zip(frozen, values('encoder', 'rssm', 'decoder', 'discriminator')):
        np.testing.assert_array_equal(old, new)
    for module, before in learning.items():
        assert not all(np.array_equal(old, new) for old, new in zip(before, values(module))), module


def test_policy_resets_the_state_of_envs_that_just_started(debug_config):
    agent = Agent(debug_config, action_size=2)
    image = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    first = np.array([True, True])
    action, state = agent.policy(image, agent.initial_policy_state(2), first, False)
    assert action.shape == (2, 2)
    assert np.all(np.abs(action.numpy()) <= 1)
    # The GRU state after a step depends only on the previous stochastic
    # state and action, so it is deterministic given those.
    _, fresh = agent.policy(image, agent.initial_policy_state(2), first, False)
    _, carried = agent.policy(image, state, np.array([False, False]), False)
    _, mixed = agent.policy(image, state, np.array([True, False]), False)
    np.testing.assert_allclose(mixed[0]['deter'][0], fresh[0]['deter'][0], atol=1e-6)
    np.testing.assert_allclose(mixed[0]['deter'][1], carried[0]['deter'][1], atol=1e-6)
    assert not np.allclose(carried[0]['deter'][0], fresh[0]['deter'][0])


def test_checkpoint_round_trip_restores_weights_and_optimizer_slots(debug_config, tmp_path):
    agent = Agent(debug_config, action_size=1)
    agent.train(random_batch(debug_config, 1))
    path = tf.train.Checkpoint(agent=agent).save(str(tmp_path / 'ckpt'))
    other = Agent(debug_config, action_size=1)
    tf.train.Checkpoint(agent=other).restore(path).assert_consumed()
    for a, b in zip(agent.variables, other.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(other.model_opt.opt.iterations.numpy()) == 1
    # The restored agent continues identically to the original.
    data = random_batch(debug_config, 1, seed=1)
    agent.rng.reset_from_seed(5)
    other.rng.reset_from_seed(5)
    m1, m2 = agent.train(data), other.train(data)
    assert float(m1['model_loss']) == pytest.approx(float(m2['model_loss']), rel=1e-5)


def test_mixed_precision_computes_in_float16_and_scales_the_loss(debug_config):
    # every module in float16: a float16 decoder overflows in the first steps
    config = tiny(debug_config, precision=16, float32_modules='')
    try:
        agent = Agent(config, action_size=1)
        assert agent.encoder.convs[0].compute_dtype == 'float16'
        start_scale = float(agent.model_opt.opt.loss_scale)
        for seed in range(16):
            metrics = agent.train(random_batch(config, 1, seed=seed))
            metrics = {k: float(v) for k, v in metrics.items()}
            losses = {k: v for k, v in metrics.items() if 'grad_norm' not in k}
            assert all(np.isfinite(v) for v in losses.values()), losses
            if np.isfinite(metrics['model_grad_norm']):
                break
        # Overflowing steps are skipped and halve the scale until grads are finite.
        assert float(agent.model_opt.opt.loss_scale) < start_scale
        assert np.isfinite(metrics['model_grad_norm'])
    finally:
        import tf_keras
        tf_keras.mixed_precision.set_global_policy('float32')


def test_video_stacks_truth_model_and_error(debug_config):
    agent = Agent(debug_config, action_size=1)
    data = random_batch(debug_config, 1)['model']
    video = agent.video(data).numpy()
    b, t = debug_config.batch_size, debug_config.batch_length  # one row per sequence given
    assert video.shape == (b, t, 3 * 64, 64, 3) and video.dtype == np.uint8
    truth, model, error = (video[:, :, band * 64:(band + 1) * 64].astype(int) for band in range(3))
    # uint8 -> [0, 1] -> uint8 may floor one level down.
    assert np.abs(truth - data['image']).max() <= 1
    # error = (model - truth + 1) / 2 where the model's band is not clipped.
    inside = (model > 0) & (model < 255)
    assert inside.mean() > 0.5
    expected = (model - data['image'] + 255) / 2
    assert np.abs(error - expected)[inside].max() <= 2


def test_expert_pairs_match_what_the_policy_did_end_to_end_through_the_driver():
    """An episode recorded by the real Driver from a real env, with a policy
    whose action differs at every step, then windowed by the Replay: each
    expert pair must join the observation the policy saw with the action it
    chose there. Storing the action one entry off fails this test."""
    from vmail_tf.driver import Driver
    from vmail_tf.envs.worker import EnvWorker
    seen, chosen = [], []

    def policy(obs, is_first):
        seen.append(obs['image'][0].copy())
        chosen.append(np.float32(np.sin(len(chosen))))  # a new action every step
        return np.array([[chosen[-1]]])

    spec = dict(task='dmc_cartpole_swingup', render_backend='egl', action_repeat=2,
                image_size=64, time_limit=60, camera=-1, fast_render=True, seed=0)
    driver = Driver([EnvWorker(spec, WORKER_TIMEOUT)], action_repeat=2, max_restarts=0)
    try:
        _, finished = driver.run(policy, episodes=1)
    finally:
        driver.close()
    episode = finished[0]
    for t in range(len(seen)):  # the policy saw entry t's observation at call t
        np.testing.assert_array_equal(seen[t], episode['image'][t])
    replay = Replay(capacity=100, batch_length=6, seed=0)
    replay.add_expert(episode)
    window = replay.sample_expert(8)
    index = {episode['image'][t].tobytes(): t for t in range(len(seen))}
    starts = np.array([[index[image.tobytes()] for image in w] for w in window['image']])
    pairs = expert_pairs(tf.constant(starts[..., None], tf.float32),
                         tf.constant(window['action'])).numpy()
    for t, action in pairs:
        assert action == pytest.approx(chosen[int(t)], abs=1e-6)
