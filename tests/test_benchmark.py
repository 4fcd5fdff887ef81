import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from vmail_tf import benchmark, losses, methods, precision
from vmail_tf import config as config_lib
from vmail_tf.agent import Agent, preprocess
from vmail_tf.config import ConfigError
from vmail_tf.replay import Replay

from helpers import make_episode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_conv_and_dense_flop_counts_by_hand():
    # 2 x (outputs x kernel volume): a 3x3 conv from 2 to 4 channels on a 5x5 output
    assert benchmark._conv(5, 4, 3, 2) == 2 * 25 * 4 * 9 * 2
    assert benchmark._deconv(2, 3, 4, 5) == 2 * 4 * 3 * 16 * 5
    assert benchmark._dense([3, 4, 5]) == 2 * (12 + 20)


class ReferenceDecoder(tf.Module):
    """The decoder as published: every upsampling a transposed convolution,
    the first one on a 1x1 input."""

    def __init__(self, fast):
        super().__init__()
        channels, units = fast.first_channels, fast.dense.units
        self.dense = fast.dense
        self.first = keras.layers.Conv2DTranspose(channels, 5, 2, activation='relu')
        self.first.build([None, 1, 1, units])
        kernel, bias = fast.first.get_weights()  # (in, 5 * 5 * out)
        self.first.set_weights([
            kernel.reshape(units, 5, 5, channels).transpose(1, 2, 3, 0), bias[:channels]])
        self.deconvs = fast.deconvs

    def __call__(self, features):
        batch = tf.shape(features)[:-1]
        x = self.dense(tf.reshape(features, [-1, features.shape[-1]]))
        x = self.first(x[:, None, None, :])
        for deconv in self.deconvs:
            x = deconv(x)
        return tf.reshape(x, tf.concat([batch, tf.shape(x)[1:]], 0))


def test_optimised_step_matches_the_reference_formulation(debug_config):
    agent = Agent(debug_config, action_size=1)
    rng = np.random.default_rng(0)
    # Bias the decoder's first layer so a wrong rearrangement would show.
    kernel, bias = agent.decoder.first.get_weights()
    agent.decoder.first.set_weights([kernel, np.tile(rng.normal(size=bias.shape[0] // 25), 25)])
    reference = ReferenceDecoder(agent.decoder)
    data = benchmark.random_batch(debug_config, 1)
    image = tf.constant(data['model']['image'])

    agent.rng.reset_from_seed(7)
    embed = agent.encoder(preprocess(image))
    post, prior = agent.rssm.observe(embed, tf.constant(data['model']['action']))
    image_ll = losses.image_log_likelihood(
        preprocess(image), reference(agent.rssm.features(post)))
    kl_term, kl = losses.kl_loss(post, prior, debug_config.free_nats)

    agent.rng.reset_from_seed(7)
    metrics = agent.train(data)  # losses are computed before the update
    assert float(metrics['image_loss']) == pytest.approx(-float(image_ll), rel=1e-5)
    assert float(metrics['kl']) == pytest.approx(float(kl), rel=1e-5)
    assert float(metrics['model_loss']) == pytest.approx(float(kl_term - image_ll), rel=1e-5)


def test_benchmark_cli_writes_the_median_step_time(tmp_path):
    out = tmp_path / 'bench.json'
    result = subprocess.run(
        [sys.executable, 'tools/benchmark.py', '--configs', 'dmc', 'cartpole', 'debug',
         '--demo_cache', str(tmp_path / 'demos'), '--action_repeat', '2',
         '--loop_steps', '200', '--json', str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'train step: median' in result.stdout
    results = json.loads(out.read_text())
    assert results['train_step_median_s'] > 0
    assert results['config']['batch_size'] == 3
    assert results['policy'] == 'float32'
    model, flags = precision.cpu_info()
    assert results['cpu']['model'] == model and model in result.stdout
    assert set(results['cpu']['flags']) == flags & set(precision.REPORTED_FLAGS)
    # The real loop: 2 rounds of 100 env steps after the prefill round.
    assert results['loop_rounds'] == 2 and 'real loop' in result.stdout
    seconds = results['loop_s_per_1000_env_steps']
    assert seconds['train'] >= seconds['update'] > 0 and seconds['collect'] > 0
    assert seconds['round'] >= seconds['train'] + seconds['collect']
    assert results['loop_update_s'] == pytest.approx(seconds['update'] / (2 * 10))


@pytest.mark.parametrize('method', ['dac', 'sqil'])
def test_model_free_benchmark_batch_is_what_the_replay_gives_their_agents(method):
    config = config_lib.merge(['dmc', 'cartpole', 'debug', method])
    size, length, parts = benchmark.batch_layout(config)
    assert (size, length, parts) == (4, 3, ('agent', 'expert'))
    replay = Replay(capacity=1000, batch_length=length, seed=0)
    replay.add_agent('a', make_episode(20, action_size=1))
    replay.add_expert(make_episode(20, action_size=1))
    sampled = next(iter(replay.dataset(size, 'pooled', 0.0, 1, parts)))
    data = benchmark.random_batch(config, 1)
    assert {p: {k: v.shape for k, v in data[p].items()} for p in parts} == {
        p: {k: tuple(sampled[p][k].shape) for k in data[p]} for p in parts}
    metrics = methods.agent_class(method)(config, 1).train(data)
    assert np.isfinite(metrics['critic_loss'].numpy())


def test_pixel_sac_flop_count_by_hand(debug_config):
    config = config_lib.Config(dict(
        debug_config, method='sqil', image_size=64, frame_stack=3, sac_conv_depth=2,
        sac_feature_dim=5, sac_units=4, sac_layers=1, sac_batch_size=1, sac_actor_every=1))
    # 3x3 convs: stride 2 to 31 x 31 from 9 channels, then 29, 27, 25 from 2;
    # then a dense layer from 25 * 25 * 2 to 5.
    encoder = (2 * 31 * 31 * 2 * 9 * 9 + 2 * 29 * 29 * 2 * 9 * 2 + 2 * 27 * 27 * 2 * 9 * 2
               + 2 * 25 * 25 * 2 * 9 * 2 + 2 * 1250 * 5)
    critic = actor = 2 * (6 * 4 + 4 * 1)  # (5 features + 1 action) -> 4 -> 1; 5 -> 4 -> 2
    update = 5 * encoder + 2 * critic + actor + 6 * critic + 3 * actor + 6 * critic
    assert benchmark.pixel_sac_flops(config, 1) == update


def test_profile_is_refused_for_the_model_free_baselines(debug_config):
    config = config_lib.Config(dict(debug_config, method='dac'))
    with pytest.raises(ConfigError, match="--profile times the phases of the V-MAIL step; "
                                          "config key `method` is 'dac'"):
        benchmark.run(config, do_profile=True)
