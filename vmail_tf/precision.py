"""Numeric precision of the networks, and the CPU facts that choose it.

`precision` in the config: 32 (float32), 16 (mixed_float16 with dynamic loss
scaling, a GPU option), bf16 (mixed_bfloat16: bfloat16 has float32's
exponent range, so no loss scaling), or auto (bf16 where the CPU computes
bfloat16 natively, AVX512_BF16 or AMX, float32 elsewhere). Variables stay
float32 under every policy; the networks return float32, so the
distributions, KL, log-likelihoods, penalties and returns are float32 too.
"""
import contextlib
import os
import platform

import tf_keras as keras

POLICIES = {'32': 'float32', '16': 'mixed_float16', 'bf16': 'mixed_bfloat16'}
BF16_FLAGS = ('avx512_bf16', 'amx_bf16')
REPORTED_FLAGS = ('avx2', 'avx512f', 'avx512_bf16', 'avx512_fp16', 'amx_bf16', 'amx_tile')


def cpu_info(path='/proc/cpuinfo'):
    """(model name, set of flags) of the first CPU; flags are empty where
    /proc/cpuinfo does not exist (not Linux)."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(':')
                key = key.strip()
                if key == 'model name':
                    model = value.strip()
                elif key == 'flags':
                    flags = set(value.split())
                    break
    except OSError:
        pass
    return model, flags


def resolve(precision, flags):
    """The Keras policy name for a config's `precision`, given CPU flags."""
    precision = str(precision)
    if precision == 'auto':
        precision = 'bf16' if any(f in flags for f in BF16_FLAGS) else '32'
    if precision not in POLICIES:
        raise ValueError(f'unknown precision `{precision}`; expected '
                         f'{", ".join(POLICIES)} or auto')
    return POLICIES[precision]


def onednn_enabled():
    """TensorFlow's oneDNN kernels: on by default on x86 Linux unless
    TF_ENABLE_ONEDNN_OPTS=0."""
    return os.environ.get('TF_ENABLE_ONEDNN_OPTS', '1') not in ('0', 'false', 'False')


def describe_cpu(path='/proc/cpuinfo'):
    """A dict for logs and benchmark JSON: model, relevant flags, oneDNN, cores."""
    model, flags = cpu_info(path)
    return {'model': model,
            'flags': [f for f in REPORTED_FLAGS if f in flags],
            'onednn': onednn_enabled(),
            'cores': os.cpu_count()}


@contextlib.contextmanager
def float32_if(condition):
    """Builds the layers created inside in float32 when `condition` holds,
    whatever the global policy (Keras layers take the policy at creation)."""
    if not condition:
        yield
        return
    policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy('float32')
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(policy)


def set_policy(precision):
    """Sets the global Keras policy for `precision`; returns (policy name,
    whether losses need scaling)."""
    policy = resolve(precision, cpu_info()[1])
    keras.mixed_precision.set_global_policy(policy)
    return policy, policy == 'mixed_float16'
