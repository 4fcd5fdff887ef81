"""Records expert demonstrations in the pixel env, in the replay format.

    python -m vmail_tf.record_demos --expert builtin --out DIR [--episodes 10] \\
        --configs dmc walker [--key value ...]

--expert is `builtin` (the task's shipped expert) or the path of an expert
weights file (policy.npz from vmail_tf.train_expert). The env settings
(image size, action repeat, time limit, render setting) come from the
configs, so demos match the runs that use the same configs. DIR must be new
or empty; demos.json beside the episodes records the settings and returns.
Imports no TensorFlow: the expert runs in numpy.
"""
import argparse
import pathlib
import sys

import numpy as np

from vmail_tf import config as config_lib
from vmail_tf import demos, episodes


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description='Record expert demonstrations.')
    parser.add_argument('--expert', required=True, help='builtin, or an expert weights .npz')
    parser.add_argument('--out', required=True, type=pathlib.Path, help='new or empty folder')
    parser.add_argument('--episodes', type=int, default=None,
                        help='episodes to record (default: the config\'s num_demos)')
    args, rest = parser.parse_known_args(argv)
    config = config_lib.parse_args(rest)
    if args.out.exists() and any(args.out.iterdir()):
        sys.exit(f'error: {args.out} is not empty; demos are never written into '
                 f'an existing folder')
    try:
        expert, name = demos.load_expert_policy(args.expert, config)
    except (demos.DemoError, ValueError) as e:
        sys.exit(f'error: {e}')
    count = args.episodes or config.num_demos
    print(f'Recording {episodes.count_text(count)} of {config.task} with {name} into {args.out}',
          flush=True)
    returns = demos.record(expert, config, args.out, count, name=name)
    print(f'Return {np.mean(returns):.1f} ± {np.std(returns):.1f} over {episodes.count_text(count)}; '
          f'check with: python -m vmail_tf.check_demos {args.out}', flush=True)


if __name__ == '__main__':
    main()
