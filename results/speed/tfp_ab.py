"""Interleaved A/B: the train step with vmail_tf.dists against tfp.distributions,
both traced in one process, timed alternately (same load for both).

Meaningful at commit 761868d, where vmail_tf.dists held hand-written formulas
(`git checkout 761868d -- vmail_tf/dists.py` to re-run); since then dists.py
is the tfp version itself."""
import statistics
import sys
import time

if __name__ == '__main__':
    from vmail_tf.quiet import import_tensorflow
    import_tensorflow()
    import tensorflow as tf
    import tensorflow_probability as tfp
    from vmail_tf import benchmark, dists
    from vmail_tf import config as config_lib
    from vmail_tf.agent import Agent
    tfd, tfb = tfp.distributions, tfp.bijectors

    hand = {k: getattr(dists, k) for k in ('normal_log_prob', 'diag_normal_kl', 'tanh_normal_sample')}

    def normal_log_prob(x, mean, std=1.0):
        return tfd.Normal(mean, tf.cast(std, x.dtype) * tf.ones_like(mean)).log_prob(x)

    def diag_normal_kl(mean_p, std_p, mean_q, std_q):
        return tfd.kl_divergence(tfd.Independent(tfd.Normal(mean_p, std_p), 1),
                                 tfd.Independent(tfd.Normal(mean_q, std_q), 1))

    def tanh_normal_sample(mean, std, rng):
        dist = tfd.TransformedDistribution(tfd.Normal(mean, std), tfb.Tanh())
        return dist.sample(seed=tf.cast(rng.make_seeds(1)[:, 0], tf.int32))

    with_tfp = dict(normal_log_prob=normal_log_prob, diag_normal_kl=diag_normal_kl,
                    tanh_normal_sample=tanh_normal_sample)
    config = config_lib.parse_args(sys.argv[1:], description='tfp A/B')
    action_size = 6
    data = benchmark.random_batch(config, action_size)
    agents = {}
    for name, fns in (('hand', hand), ('tfp', with_tfp)):
        for k, f in fns.items():
            setattr(dists, k, f)
        agents[name] = Agent(config, action_size)
        start = time.perf_counter()
        benchmark._sync(agents[name].train(data))  # trace now, with these functions
        print(name, 'first call', round(time.perf_counter() - start, 2), flush=True)
    times = {'hand': [], 'tfp': []}
    for i in range(30):
        for name in (('hand', 'tfp') if i % 2 == 0 else ('tfp', 'hand')):
            start = time.perf_counter()
            benchmark._sync(agents[name].train(data))
            times[name].append(time.perf_counter() - start)
    for name, t in times.items():
        print(name, 'median', round(statistics.median(t), 4), 'min', round(min(t), 4), flush=True)
    print('tfp / hand (medians):', round(statistics.median(times['tfp']) / statistics.median(times['hand']), 3))
