"""Evaluates a run's latest checkpoint without training.

    python -m vmail_tf.evaluate --logdir DIR [--episodes 10] [--video out.gif]

Rebuilds the agent from DIR/config.yaml (V-MAIL or BC), restores the latest
checkpoint, runs episodes with the actor's mode and no noise in fresh
environments, and reports mean ± sd return and the share of the expert's
return (the mean return of the run's expert episodes).

Imports TensorFlow only inside main(): env workers re-import this module.
"""
import argparse
import pathlib
import sys

from vmail_tf import config as config_lib

def expert_return(config):
    """Mean return of the run's expert episodes, or None if unavailable."""
    import numpy as np
    from vmail_tf import demos, episodes
    loaded = episodes.load_directory(demos.expert_folder(config))
    if not loaded:
        return None
    return float(np.mean([episodes.episode_return(e) for _, e in loaded]))


def main(argv=None):
    parser = argparse.ArgumentParser(description='Evaluate a run\'s latest checkpoint.')
    parser.add_argument('--logdir', required=True, type=pathlib.Path)
    parser.add_argument('--episodes', type=int, default=10)
    parser.add_argument('--video', type=pathlib.Path, help='write the first episode as a GIF')
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = config_lib.load_run_config(args.logdir)
    except (FileNotFoundError, config_lib.ConfigError) as e:
        sys.exit(f'error: {e}')
    from vmail_tf.quiet import import_tensorflow
    import_tensorflow()
    import tensorflow as tf

    from vmail_tf.methods import agent_class
    from vmail_tf.driver import make_driver
    from vmail_tf.evaluation import greedy_episodes, summarize
    from vmail_tf.logger import encode_gif

    checkpoint_dir = args.logdir / 'checkpoint'
    latest = tf.train.latest_checkpoint(str(checkpoint_dir))
    if latest is None:
        sys.exit(f'error: no checkpoint in {checkpoint_dir}')
    driver = make_driver(config, 'evaluate')
    try:
        agent = agent_class(config.method)(config, driver.action_size)
        tf.train.Checkpoint(agent=agent).restore(latest).expect_partial()
        print(f'Evaluating {latest} ({config.method}, {config.task}) over '
              f'{args.episodes} episodes', flush=True)
        finished = greedy_episodes(agent, driver, args.episodes)
    finally:
        driver.close()
    scores = summarize(finished, config.action_repeat)
    mean, sd = scores['eval/return'], scores['eval/return_sd']
    line = f'return {mean:.1f} ± {sd:.1f} over {len(finished)} episodes'
    reference = expert_return(config)
    if reference:
        line += f'; {100 * mean / reference:.1f} % of the expert\'s {reference:.1f}'
    print(line)
    if args.video:
        args.video.write_bytes(encode_gif(finished[0]['image']))
        print(f'wrote {args.video}')
    return mean


if __name__ == '__main__':
    main()
