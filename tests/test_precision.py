"""Precision policies: `auto` from CPU flags, and bfloat16 computing the
float32 step's losses."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from vmail_tf import config as config_lib
from vmail_tf import precision
from vmail_tf.agent import Agent
from vmail_tf.benchmark import random_batch

from helpers import tiny


@pytest.mark.parametrize('flags, policy', [
    ({'avx2', 'avx512f', 'avx512_bf16'}, 'mixed_bfloat16'),
    ({'avx2', 'amx_bf16', 'amx_tile'}, 'mixed_bfloat16'),
    ({'avx2', 'avx512f', 'avx512_fp16'}, 'float32'),
    (set(), 'float32'),
])
def test_auto_picks_bfloat16_only_where_the_cpu_has_it(flags, policy):
    assert precision.resolve('auto', flags) == policy


def test_explicit_precisions_ignore_the_cpu():
    assert precision.resolve('bf16', set()) == 'mixed_bfloat16'
    assert precision.resolve(32, {'amx_bf16'}) == 'float32'
    assert precision.resolve('16', set()) == 'mixed_float16'
    with pytest.raises(ValueError, match='unknown precision `8`'):
        precision.resolve('8', set())


def test_cpu_info_reads_model_and_flags_of_the_first_cpu(tmp_path):
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text(
        'processor\t: 0\nmodel name\t: Example CPU 9000\nflags\t\t: fpu avx2 amx_bf16\n\n'
        'processor\t: 1\nmodel name\t: Other\nflags\t\t: fpu\n')
    assert precision.cpu_info(cpuinfo) == ('Example CPU 9000', {'fpu', 'avx2', 'amx_bf16'})
    described = precision.describe_cpu(cpuinfo)
    assert described['model'] == 'Example CPU 9000'
    assert described['flags'] == ['avx2', 'amx_bf16']


# Relative differences between the bfloat16 and float32 losses of one step
# on the same weights, batch and noise. bfloat16 keeps 8 significant bits
# (0.4 %). Measured: KL 0.4 %, the others 0.03 % or less; the tolerances
# leave a margin of 5x or more. The penalty (|grad| - 1)^2 is near zero, so
# it gets an absolute tolerance: a 0.4 % error in a gradient norm near 1
# moves it by about 1e-3.
TOLERANCES = {'image_error': 0.01, 'kl': 0.02, 'disc_loss': 0.01, 'actor_loss': 0.01,
              'value_loss': 0.01}


def test_bfloat16_step_computes_the_float32_losses(debug_config):
    config = tiny(debug_config, cnn_depth=8, disc_penalty='input')
    tf.random.set_seed(0)
    reference = Agent(config, action_size=2)
    try:
        agent = Agent(tiny(config, precision='bf16'), action_size=2)
        assert agent.encoder.convs[0].compute_dtype == 'bfloat16'
        assert agent.encoder.convs[0].kernel.dtype == 'float32'
        assert not agent.model_opt.loss_scaling  # no loss scaling
        for source, target in zip(reference.variables, agent.variables):
            target.assign(source)
        data = random_batch(config, action_size=2, seed=3)
        results = []
        for each in (reference, agent):
            each.rng.reset_from_seed(11)
            results.append({k: float(v) for k, v in each.train(data).items()})
        expected, actual = results
        for key, tolerance in TOLERANCES.items():
            assert np.isfinite(actual[key])
            assert actual[key] == pytest.approx(expected[key], rel=tolerance), key
        assert actual['disc_penalty'] == pytest.approx(expected['disc_penalty'], abs=5e-3)
        # The weights moved by the same update, within bfloat16's precision.
        for source, target in zip(reference.variables, agent.variables):
            np.testing.assert_allclose(target.numpy(), source.numpy(), atol=2e-3, rtol=0.02)
    finally:
        tf_keras.mixed_precision.set_global_policy('float32')


def test_named_modules_stay_float32_under_bfloat16(debug_config):
    try:
        agent = Agent(tiny(debug_config, precision='bf16', float32_modules='rssm, decoder'), 1)
        assert agent.encoder.convs[0].compute_dtype == 'bfloat16'
        assert agent.decoder.deconvs[0].compute_dtype == 'float32'
        assert agent.rssm.cell.compute_dtype == 'float32'
        assert agent.actor.mlp.out.compute_dtype == 'bfloat16'
        assert np.isfinite(float(agent.train(random_batch(debug_config, 1))['model_loss']))
        by_default = Agent(tiny(debug_config, precision='bf16'), 1)
        assert by_default.decoder.deconvs[-1].compute_dtype == 'float32'
        assert by_default.encoder.convs[0].compute_dtype == 'bfloat16'
        with pytest.raises(config_lib.ConfigError, match='`float32_modules`: unknown critic'):
            config_lib.merge(['debug'], [('float32_modules', 'decoder,critic')])
    finally:
        tf_keras.mixed_precision.set_global_policy('float32')
