"""Evaluates an expert on true states (no rendering): mean ± sd return.

    python tools/eval_expert.py --expert builtin --configs dmc cartpole [--episodes 10]
    python tools/eval_expert.py --expert logdir/experts/dmc_walker_walk/seed0/policy.npz \\
        --configs dmc walker

The env settings (action repeat, time limit) come from the configs.
"""
import argparse

from vmail_tf import config as config_lib, episodes
from vmail_tf.demos import load_expert_policy
from vmail_tf.experts.state_env import evaluate_on_states
from vmail_tf.seeds import env_seed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--expert', required=True, help='builtin, or an expert weights .npz')
    parser.add_argument('--episodes', type=int, default=10)
    args, rest = parser.parse_known_args()
    config = config_lib.parse_args(rest)
    expert, name = load_expert_policy(args.expert, config)
    mean, sd = evaluate_on_states(expert, config, args.episodes, env_seed('expert_check', 0))
    print(f'{config.task} {name}: return {mean:.1f} ± {sd:.1f} over '
          f'{episodes.count_text(args.episodes)} (action_repeat {config.action_repeat}, '
          f'{config.time_limit} env steps)')


if __name__ == '__main__':
    main()
