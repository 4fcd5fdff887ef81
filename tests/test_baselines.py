"""The model-free baselines: DrQ-style pixel SAC, DA-DAC and DA-SQIL."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from vmail_tf import config as config_lib
from vmail_tf import sac_losses
from vmail_tf.config import ConfigError
from vmail_tf.dac import DACAgent
from vmail_tf.model_free import ModelFreeTrainer
from vmail_tf.pixel_sac import random_shift, stack_frames, transitions
from vmail_tf.sqil import SQILAgent, balanced_batch

from helpers import latest_checkpoint_value, make_episode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def baseline_config(tmp_path, method, *overrides):
    return config_lib.merge(['dmc', 'walker_stand', method, 'debug'], [
        ('prefill', 200), ('logdir', str(tmp_path / method)),
        ('demo_cache', str(tmp_path / 'demos'))] + list(overrides))


def test_random_shift_is_an_edge_replicated_crop_at_every_offset():
    image = np.arange(9, dtype=np.uint8).reshape(1, 3, 3, 1)
    padded = np.pad(image[0, :, :, 0], 1, mode='edge')
    crops = {padded[r:r + 3, c:c + 3].tobytes() for r in range(3) for c in range(3)}
    assert len(crops) == 9
    rng = tf.random.Generator.from_seed(0)
    seen = set()
    for _ in range(200):
        shifted = random_shift(tf.constant(np.repeat(image, 4, 0)), 1, rng).numpy()
        for one in shifted:
            assert one[:, :, 0].tobytes() in crops
            seen.add(one[:, :, 0].tobytes())
    assert seen == crops
    np.testing.assert_array_equal(random_shift(tf.constant(image), 0, rng), image)


def test_sac_formulas_by_hand():
    target = sac_losses.soft_q_target(1.0, 1.0, 0.9, tf.constant(2.0), tf.constant(3.0),
                                      0.5, tf.constant(-1.0))
    assert float(target) == pytest.approx(1.0 + 0.9 * (2.0 + 0.5))
    terminal = sac_losses.soft_q_target(1.0, 0.0, 0.9, tf.constant(2.0), tf.constant(3.0),
                                        0.5, tf.constant(-1.0))
    assert float(terminal) == 1.0  # no bootstrap past a termination
    loss = sac_losses.critic_loss(tf.constant([1.0]), tf.constant([3.0]), tf.constant([2.0]))
    assert float(loss) == pytest.approx(0.5 * (1 + 1))
    actor = sac_losses.actor_loss(0.5, tf.constant([-2.0]), tf.constant([4.0]),
                                  tf.constant([1.0]))
    assert float(actor) == pytest.approx(0.5 * -2.0 - 1.0)
    std = sac_losses.bounded_std(tf.constant([-100.0, 0.0, 100.0]), -10.0, 2.0)
    np.testing.assert_allclose(np.log(std.numpy()), [-10.0, -4.0, 2.0], atol=1e-5)


def test_transitions_stack_frames_and_pair_the_action_taken():
    episode = make_episode(8, action_size=2, image_size=4)
    episode['discount'][5] = 0.0  # entry 5 ends the episode by termination
    window = {k: tf.constant(episode[k][None, 2:6]) for k in ('image', 'action', 'discount')}
    batch = transitions(window, 3)
    # entries 2, 3, 4 form the observation (oldest first), 3, 4, 5 the next
    # one; the action taken at entry 4 is stored at entry 5
    np.testing.assert_array_equal(batch['obs'][0, 0, 0], [2, 2, 2, 3, 3, 3, 4, 4, 4])
    np.testing.assert_array_equal(batch['next_obs'][0, 0, 0], [3, 3, 3, 4, 4, 4, 5, 5, 5])
    np.testing.assert_array_equal(batch['action'][0], [5, 5])
    assert float(batch['continuation'][0]) == 0.0
    assert float(transitions({k: v[:, :3] for k, v in window.items()}, 2)['continuation'][0]) == 1
    assert stack_frames(window['image'][:, :3]).shape == (1, 4, 4, 9)


def test_balanced_batch_takes_half_expert_with_reward_one():
    agent = {'obs': tf.zeros([4, 2]), 'action': tf.zeros([4, 1])}
    expert = {'obs': tf.ones([4, 2]), 'action': tf.ones([4, 1])}
    batch, reward = balanced_batch(agent, expert)
    np.testing.assert_array_equal(batch['action'][:, 0], [1, 1, 0, 0])
    np.testing.assert_array_equal(reward, [1, 1, 0, 0])


def test_policy_restarts_its_frame_stack_at_an_episode_start(tmp_path):
    config = baseline_config(tmp_path, 'sqil')
    agent = SQILAgent(config, action_size=2)
    frame = lambda value: tf.fill([2, 64, 64, 3], tf.constant(value, tf.uint8))
    state = agent.initial_policy_state(2)
    _, state = agent.policy(frame(7), state, np.array([True, True]), False)
    assert np.all(state.numpy() == 7)
    _, state = agent.policy(frame(9), state, np.array([False, True]), True)
    # env 0 pushes the new frame behind two old ones; env 1 restarted
    np.testing.assert_array_equal(state[0, 0, 0], [7, 7, 7, 7, 7, 7, 9, 9, 9])
    assert np.all(state[1].numpy() == 9)


def dac_batches(seed=0):
    """Agent images in [0, 128), expert images in [127, 255)."""
    rng = np.random.default_rng(seed)

    def part(offset):
        image = rng.integers(0, 128, (4, 4, 64, 64, 3), dtype=np.uint8) + offset
        return {'image': image, 'action': rng.uniform(-1, 1, (4, 4, 2)).astype(np.float32),
                'discount': np.ones((4, 4), np.float32)}

    return {'agent': part(0), 'expert': part(127)}


def test_a_dac_update_trains_d_critics_encoder_and_actor(tmp_path):
    agent = DACAgent(baseline_config(tmp_path, 'dac'), action_size=2)
    modules = {'discriminator': agent.discriminator, 'critic': agent.critics[0],
               'encoder': agent.encoder, 'actor': agent.actor}
    before = {k: [v.numpy().copy() for v in m.trainable_variables]
              for k, m in modules.items()}
    metrics = agent.train(dac_batches())
    for name, module in modules.items():  # update 0 is also the actor's turn
        assert any(not np.allclose(old, new.numpy()) for old, new in zip(
            before[name], module.trainable_variables)), name
    assert all(math.isfinite(float(v)) for v in metrics.values())


def test_dac_with_its_own_encoder_separates_and_rewards_with_d_logits(tmp_path):
    tf.keras.utils.set_random_seed(0)  # the initial weights, whatever ran before
    config = baseline_config(tmp_path, 'dac', ('dac_separate_encoder', True),
                             ('disc_lr', 3e-3))
    agent = DACAgent(config, action_size=2)
    data = dac_batches()
    first = agent.train(data)
    for _ in range(40):
        last = agent.train(data)
    gap = lambda metrics: float(metrics['d_expert']) - float(metrics['d_policy'])
    assert gap(last) > gap(first) + 0.3  # 0.5 or more over seeds 0-4
    # the reward is D's logit on the agent's transitions: below 0 once D
    # calls them agent transitions
    assert float(last['reward_mean']) < -0.5


def test_baselines_refuse_settings_they_cannot_honour(tmp_path):
    with pytest.raises(ConfigError, match=r'`model_pretrain` must be 0 for method dac \(got 5\): '
                                          r'they have no world model'):
        ModelFreeTrainer(baseline_config(tmp_path, 'dac', ('model_pretrain', 5)))
    with pytest.raises(ConfigError, match=r"`jit` must be False for method sqil \(got True\): "
                                          r"their step is not compiled with XLA"):
        ModelFreeTrainer(baseline_config(tmp_path, 'sqil', ('jit', True)))
    with pytest.raises(ConfigError, match=r'`prefill` \(100\) must be at least `time_limit` '
                                          r'\(\d+\) for method sqil'):
        ModelFreeTrainer(baseline_config(tmp_path, 'sqil', ('prefill', 100)))
    with pytest.raises(ConfigError, match=r'`sac_batch_size` \(15\) must be even for method sqil'):
        ModelFreeTrainer(baseline_config(tmp_path, 'sqil', ('sac_batch_size', 15)))
    assert not (tmp_path / 'dac').exists() and not (tmp_path / 'sqil').exists()


@pytest.mark.parametrize('method', ['dac', 'sqil'])
def test_a_baseline_run_resumes_exactly_and_evaluates(tmp_path, method):
    command = [sys.executable, '-m', 'vmail_tf.train', '--configs', 'dmc', 'walker_stand',
               method, 'debug', '--prefill', '200', '--logdir', str(tmp_path / method),
               '--demo_cache', str(tmp_path / 'demos')]
    result = subprocess.run(command + ['--steps', '300'], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert latest_checkpoint_value(tmp_path / method, 'agent/step') == 4
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'Resumed from' in result.stdout and 'Done: 400 env steps' in result.stdout
    # rounds at 200 (the prefill's end), 300 and 400, 2 updates each
    assert latest_checkpoint_value(tmp_path / method, 'agent/step') == 6
    assert latest_checkpoint_value(tmp_path / method, 'env_step') == 400
    result = subprocess.run(
        [sys.executable, '-m', 'vmail_tf.evaluate', '--logdir', str(tmp_path / method),
         '--episodes', '1'], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f'({method}, dmc_walker_stand)' in result.stdout
