"""Env seeds by purpose, in one table: training, evaluation and
demonstrations never see the same episodes, and a run's seed shifts all of
its own.

env seed = offset + stride * run seed + index (index: worker, or an
evaluation's env step for the SAC expert's evaluations).
"""
SEEDS = {
    'train': (0, 1000),            # the collecting workers of a V-MAIL run
    'eval': (500, 1000),           # the in-run evaluation worker
    'evaluate': (700, 1000),       # python -m vmail_tf.evaluate
    'demos': (10_000, 1),          # recorded expert demonstrations
    'benchmark': (100, 0),         # tools/benchmark.py's collection timing
    'expert_train': (0, 1),        # the SAC expert's state env
    'expert_eval': (10_000, 0),    # the SAC expert's evaluations (index: env step)
    'expert_check': (20_000, 0),   # tools/eval_expert.py
}


def env_seed(purpose, seed, index=0):
    offset, stride = SEEDS[purpose]
    return offset + stride * seed + index
