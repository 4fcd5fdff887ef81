"""Benchmarks of the train step and of collection (run through tools/benchmark.py).

The train step runs on random data of the config's shapes; collection runs
the real policy against real pixel env workers.
"""
import json
import resource
import shutil
import statistics
import tempfile
import time

import numpy as np
import tensorflow as tf

from vmail_tf import config as config_lib
from vmail_tf import losses, methods, networks, pixel_sac, precision
from vmail_tf.agent import preprocess
from vmail_tf.driver import make_driver
from vmail_tf.envs.worker import probe_action_size
from vmail_tf.model_free import AGENTS


# The model-free baselines' methods, timed on transition windows.
MODEL_FREE = tuple(AGENTS)


def batch_layout(config):
    """(batch size, length, parts) of one train step's batch, as the
    trainer samples it: sequences for V-MAIL, windows of `frame_stack` + 1
    entries for the model-free baselines. Expert parts are one entry longer
    (docs/design.md section 4)."""
    if config.method in MODEL_FREE:
        return config.sac_batch_size, config.frame_stack, ('agent', 'expert')
    if config.method == 'vmail':
        return config.batch_size, config.batch_length, ('model', 'expert')
    raise config_lib.ConfigError(
        f'config key `method` is {config.method!r}; the benchmark times '
        f"vmail, {', '.join(MODEL_FREE)}")


def random_batch(config, action_size, seed=0):
    """One train step's batch of the config's shapes, random."""
    rng = np.random.default_rng(seed)
    b, t, parts = batch_layout(config)
    size = config.image_size

    def part(length):  # the replay's keys (`replay.KEYS`)
        return {'image': rng.integers(0, 256, (b, length, size, size, 3), dtype=np.uint8),
                'action': rng.uniform(-1, 1, (b, length, action_size)).astype(np.float32),
                'discount': np.ones((b, length), np.float32)}

    return {name: part(t + (name != 'model')) for name in parts}


def peak_rss_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


# ------------------------------------------------------------------ FLOPs

def _conv(out_hw, out_c, kernel, in_c):
    return 2 * out_hw * out_hw * out_c * kernel * kernel * in_c


def _deconv(in_hw, in_c, kernel, out_c):
    return 2 * in_hw * in_hw * in_c * kernel * kernel * out_c


def _dense(sizes):
    return sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def _mlp(inputs, units, layers, out):
    return _dense([inputs] + [units] * layers + [out])


def step_flops(config, action_size):
    """Multiply-adds x 2 of the conv and dense layers in one train step.
    Backward passes are counted as twice their forward pass."""
    c, d = config, config.cnn_depth
    feat = c.stoch_size + c.deter_size
    encoder, hw, channels = 0, c.image_size, 3
    kernel = networks.ENCODER_KERNEL
    for m in networks.ENCODER_LAYERS[c.image_size]:
        hw = (hw - kernel) // 2 + 1
        encoder += _conv(hw, m * d, kernel, channels)
        channels = m * d
    embed = hw * hw * channels
    first, deconvs = networks.DECODER_LAYERS[c.image_size]
    decoder, hw, channels = _dense([feat, 32 * d, 25 * first * d]), 5, first * d
    for m, kernel in deconvs:
        out = 3 if m is None else m * d
        decoder += _deconv(hw, channels, kernel, out)
        hw, channels = (hw - 1) * 2 + kernel, out
    gru = 2 * 3 * (c.hidden_size * c.deter_size + c.deter_size ** 2)
    img_step = (_dense([c.stoch_size + action_size, c.hidden_size]) + gru
                + _dense([c.deter_size, c.hidden_size, 2 * c.stoch_size]))
    obs_step = img_step + _dense([c.deter_size + embed, c.hidden_size, 2 * c.stoch_size])
    actor = _mlp(feat, c.num_units, c.actor_layers, 2 * action_size)
    disc = _mlp(feat + action_size, c.disc_units, c.disc_layers, 1)
    value = _mlp(feat, c.num_units, c.value_layers, 1)
    b, t, h = c.batch_size, c.batch_length, c.horizon
    starts = b * (t - 1)
    model = 3 * b * t * (encoder + obs_step + decoder)
    expert = b * (t + 1) * (encoder + obs_step)
    imagination = 3 * starts * h * (actor + img_step + disc) + 3 * starts * (h + 1) * value
    discriminator = 3 * (b * t + starts * h) * disc
    penalty = (0 if c.disc_penalty == 'none' else 3 * b * t * disc)
    value_update = 3 * starts * h * value
    return model + expert + imagination + discriminator + penalty + value_update


def pixel_sac_flops(config, action_size):
    """The same count for one update of the model-free baselines: encoder
    passes on (B, 64, 64, 3 * stack) frames, the critics, actor and D."""
    c, d = config, config.sac_conv_depth
    encoder, hw, channels = 0, c.image_size, 3 * c.frame_stack
    for kernel, stride in pixel_sac.ENCODER_CONVS:
        hw = (hw - kernel) // stride + 1
        encoder += _conv(hw, d, kernel, channels)
        channels = d
    encoder += _dense([hw * hw * d, c.sac_feature_dim])
    pair = c.sac_feature_dim + action_size
    critic = _mlp(pair, c.sac_units, c.sac_layers, 1)
    actor = _mlp(c.sac_feature_dim, c.sac_units, c.sac_layers, 2 * action_size)
    # obs: forward and backward; next obs: online and target encoders, the
    # actor, two target critics; obs: two critics with backward.
    update = 5 * encoder + 2 * critic + actor + 2 * 3 * critic
    # Every `sac_actor_every` updates: the actor's loss through both critics.
    update += (3 * actor + 2 * 3 * critic) / c.sac_actor_every
    if c.method == 'dac':
        disc = _mlp(pair, c.disc_units, c.disc_layers, 1)
        penalty = 0 if c.disc_penalty == 'none' else 2 * 3 * disc
        # D's features of both batches, D's loss and penalty, the rewards.
        update += (2 * encoder if not c.dac_separate_encoder else 2 * 3 * encoder)
        update += 2 * 3 * disc + penalty + disc
    return c.sac_batch_size * update


# ---------------------------------------------------------------- timings

def _time(fn, args, steps):
    start = time.perf_counter()
    _sync(fn(*args))
    first = time.perf_counter() - start
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        _sync(fn(*args))
        times.append(time.perf_counter() - start)
    return first, times


def _sync(result):
    for tensor in tf.nest.flatten(result):
        np.asarray(tensor)


def train_step(config, action_size, steps):
    agent = methods.agent_class(config.method)(config, action_size)
    data = random_batch(config, action_size)
    first, times = _time(agent.train, (data,), steps)
    median = statistics.median(times)
    flops = (pixel_sac_flops if config.method in MODEL_FREE else step_flops)(config, action_size)
    return agent, data, {
        'policy': agent.policy_name,
        'train_step_first_s': first,
        'train_step_median_s': median,
        'train_step_min_s': min(times),
        'train_step_max_s': max(times),
        'train_step_gflop': flops / 1e9,
        'train_step_gflops_per_s': flops / 1e9 / median,
    }


def profile(agent, data, steps):
    """Seconds per phase of the train step, each phase run on its own as a
    graph with the gradients it needs (forward + backward)."""
    data = tf.nest.map_structure(tf.constant, data)
    model, expert = data['model'], data['expert']
    image = preprocess(model['image'])
    embed = agent.encoder(image)
    post, _ = agent.rssm.observe(embed, model['action'])
    feats = agent.rssm.features(post)
    start = agent.imagination_starts(post)
    imag_feats, imag_actions = agent.imagine(start)
    policy_inputs = agent.policy_inputs(imag_feats, imag_actions)
    expert_inputs = agent.expert_inputs(expert)

    def grads_of(fn, variables):
        @tf.function
        def run(*args):
            with tf.GradientTape() as tape:
                loss = fn(*args)
            return tape.gradient(loss, variables)
        return run

    def imagined_reward(start):
        feats, actions = agent.imagine(start)
        return tf.reduce_mean(agent.discriminator(tf.concat([feats[:-1], actions], -1)))

    phases = {
        'encoder': (grads_of(lambda x: tf.reduce_mean(agent.encoder(x)),
                             agent.encoder.trainable_variables), (image,)),
        'rssm_observe': (grads_of(
            lambda e, a: tf.reduce_mean(agent.rssm.features(agent.rssm.observe(e, a)[0])),
            agent.rssm.trainable_variables), (embed, model['action'])),
        'decoder': (grads_of(
            lambda f, x: -losses.image_log_likelihood(x, agent.decoder(f)),
            agent.decoder.trainable_variables), (feats, image)),
        'expert_filtering': (tf.function(lambda x, a: agent.rssm.observe(
            agent.encoder(preprocess(x)), a)[0]['deter']), (expert['image'], expert['action'])),
        'imagination_and_actor': (grads_of(
            imagined_reward, agent.actor.trainable_variables), (start,)),
        'discriminator_and_penalty': (grads_of(
            lambda e, p: agent.discriminator_objective(e, p)[0],
            agent.discriminator.trainable_variables),
            (expert_inputs, policy_inputs)),
        'value': (grads_of(lambda f: tf.reduce_mean(agent.value(f)),
                           agent.value.trainable_variables), (imag_feats,)),
    }
    zeros = [tf.zeros_like(v) for v in agent.model_opt.variables_to_train]
    apply = tf.function(lambda: agent.model_opt.opt.apply_gradients(
        zip(zeros, agent.model_opt.variables_to_train)))
    results = {}
    for name, (fn, args) in phases.items():
        _, times = _time(fn, args, steps)
        results[name] = statistics.median(times)
    _, times = _time(lambda: (apply(), tf.constant(0))[1], (), steps)
    results['model_optimizer_update'] = statistics.median(times)
    return results


def collection(config, seconds):
    """Agent steps/s of the policy + pixel env loop, and policy latency."""
    driver = make_driver(config, 'benchmark', config.envs)
    agent = methods.agent_class(config.method)(config, driver.action_size)
    state = [agent.initial_policy_state(config.envs)]
    latencies = []

    def policy(obs, is_first):
        start = time.perf_counter()
        action, state[0] = agent.policy(obs['image'], state[0], is_first, True)
        action = action.numpy()
        latencies.append(time.perf_counter() - start)
        return action

    try:
        driver.run(policy, steps=20 * config.action_repeat * config.envs)  # warm up
        latencies.clear()
        start, steps = time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            taken, _ = driver.run(policy, steps=config.action_repeat * config.envs * 50)
            steps += taken
        elapsed = time.perf_counter() - start
    finally:
        driver.close()
    agent_steps = steps / config.action_repeat
    return {
        'collect_agent_steps_per_s': agent_steps / elapsed,
        'collect_env_steps_per_s': steps / elapsed,
        'policy_step_latency_ms': 1000 * statistics.median(latencies),
        'policy_share_of_collection': sum(latencies) / elapsed,
    }


def loop(config, env_steps):
    """Times the real training loop: a Trainer on a temporary logdir runs
    `env_steps` env steps after a one-round prefill, logging every round.
    Returns seconds per 1000 env steps by phase (median over rounds; eval
    and video amortised over their intervals) and seconds per update."""
    every = config.train_every
    logdir = tempfile.mkdtemp(prefix='vmail_loop_')
    try:
        methods.trainer_class(config.method)(config_lib.Config(dict(
            config, logdir=logdir, prefill=every, steps=every + env_steps,
            log_every=every))).run()
        with open(f'{logdir}/metrics.jsonl') as f:
            lines = [json.loads(line) for line in f]
    finally:
        shutil.rmtree(logdir, ignore_errors=True)
    rounds = [line for line in lines if 'fps' in line and line['step'] > every]
    per_1000 = 1000 / every

    def median_of(key):
        return statistics.median(line.get(key, 0.0) for line in rounds) * per_1000

    def amortised(key, interval):
        values = [line[key] for line in rounds if key in line]
        return statistics.mean(values) * 1000 / interval if values and interval else 0.0

    seconds = {phase: median_of(f'time/{phase}_s') for phase in ('collect', 'data', 'update', 'train')}
    seconds['eval'] = amortised('time/eval_s', config.eval_every)
    seconds['video'] = amortised('time/video_s', config.video_every)
    seconds['round'] = statistics.median(every / line['fps'] for line in rounds) * per_1000
    return {'loop_s_per_1000_env_steps': seconds,
            'loop_update_s': seconds['update'] / (config.train_steps * per_1000),
            'loop_rounds': len(rounds)}


def run(config, steps=5, do_profile=False, collect_seconds=0.0, json_path=None,
        loop_steps=0):
    if do_profile and config.method != 'vmail':
        raise config_lib.ConfigError(
            f'--profile times the phases of the V-MAIL step; config key '
            f'`method` is {config.method!r}')
    action_size = probe_action_size(config)
    agent, data, results = train_step(config, action_size, steps)
    if do_profile:
        results['profile_s'] = profile(agent, data, steps)
    if collect_seconds > 0:
        results.update(collection(config, collect_seconds))
    if loop_steps > 0:
        results.update(loop(config, loop_steps))
        results['loop_update_vs_step'] = results['loop_update_s'] / results['train_step_median_s']
    results['peak_rss_gb'] = peak_rss_gb()
    keys = (('sac_batch_size', 'frame_stack', 'sac_conv_depth', 'sac_units', 'sac_layers')
            if config.method in MODEL_FREE else
            ('batch_size', 'batch_length', 'cnn_depth', 'deter_size', 'stoch_size',
             'num_units', 'horizon'))
    results['config'] = {k: config[k] for k in (
        'method', 'task', 'image_size', 'action_repeat', 'precision', 'jit', 'envs',
        'fast_render', 'threads') + keys}
    results['devices'] = [d.device_type for d in tf.config.list_physical_devices()]
    results['cpu'] = precision.describe_cpu()
    if json_path:
        with open(json_path, 'w') as f:
            json.dump(results, f, indent=2)
    return results


def format_table(results):
    cpu = results['cpu']
    rows = [
        ('CPU', f"{cpu['model']}, {cpu['cores']} cores, flags {' '.join(cpu['flags']) or '-'}, "
                f"oneDNN {'on' if cpu['onednn'] else 'off'}, "
                f"TensorFlow threads {results['config'].get('threads') or 'all'}"),
        ('precision policy', results['policy']),
        ('train step: first call (trace + run)', f"{results['train_step_first_s']:.2f} s"),
        ('train step: median / min / max',
         f"{results['train_step_median_s']:.3f} / {results['train_step_min_s']:.3f} / "
         f"{results['train_step_max_s']:.3f} s"),
        ('train step: GFLOP (estimate) / achieved GFLOP/s',
         f"{results['train_step_gflop']:.1f} / {results['train_step_gflops_per_s']:.1f}"),
    ]
    for name, seconds in results.get('profile_s', {}).items():
        rows.append((f'  phase {name}', f'{seconds:.3f} s'))
    if 'collect_agent_steps_per_s' in results:
        rows += [
            ('collection: agent steps/s (env steps/s)',
             f"{results['collect_agent_steps_per_s']:.0f} ({results['collect_env_steps_per_s']:.0f})"),
            ('collection: policy step latency (median)',
             f"{results['policy_step_latency_ms']:.2f} ms"),
            ('collection: share of time in the policy',
             f"{100 * results['policy_share_of_collection']:.0f} %"),
        ]
    if 'loop_s_per_1000_env_steps' in results:
        loop_s = results['loop_s_per_1000_env_steps']
        rows.append((f"real loop, s per 1000 env steps ({results['loop_rounds']} rounds)",
                     ', '.join(f'{k} {v:.1f}' for k, v in loop_s.items())))
        rows.append(('real loop: s per update (x the benchmark step)',
                     f"{results['loop_update_s']:.3f} ({results['loop_update_vs_step']:.2f}x)"))
    rows.append(('peak RSS', f"{results['peak_rss_gb']:.2f} GB"))
    width = max(len(name) for name, _ in rows)
    return '\n'.join(f'{name:<{width}}  {value}' for name, value in rows)
