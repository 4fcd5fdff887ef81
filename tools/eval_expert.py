"""Evaluates an expert on true states (no rendering): mean ± sd return.

    python tools/eval_expert.py --expert builtin --configs dmc cartpole [--episodes 10]
    python tools/eval_expert.py --expert logdir/experts/dmc_walker_walk/seed0/policy.npz \\
        --configs dmc walker

The env settings (action repeat, time limit) come from the configs.
"""
import argparse


from vmail_tf import config as config_lib  # noqa: E402
from vmail_tf.record_demos import load_expert  # noqa: E402
from vmail_tf.train_expert import evaluate  # noqa: E402

EVAL_SEED = 20_000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--expert', required=True, help='builtin, or an expert weights .npz')
    parser.add_argument('--episodes', type=int, default=10)
    args, rest = parser.parse_known_args()
    config = config_lib.parse_args(rest)
    expert, name = load_expert(args.expert, config)
    mean, sd = evaluate(expert, config, args.episodes, EVAL_SEED)
    print(f'{config.task} {name}: return {mean:.1f} ± {sd:.1f} over {args.episodes} '
          f'episodes (action_repeat {config.action_repeat}, {config.time_limit} env steps)')


if __name__ == '__main__':
    main()
