"""Evaluates a run's latest checkpoint without training.

    python -m vmail_tf.evaluate --logdir DIR [--episodes 10] [--video out.gif]
        [--task TASK [--expert_dir DIR]] [--head I] [--json out.json]

Rebuilds the agent from DIR/config.yaml (any method), restores the newest
checkpoint that reads back whole (one cut short by a kill is skipped), runs
episodes with the actor's mode and no noise in fresh environments, and
reports mean ± sd return and the share of the expert's
return (the mean return of the run's expert episodes).

`--task` runs the policy on another task of the same domain (the "policy
transfer" comparison of the paper's Table 1), judged against that task's
expert (built-in, or `--expert_dir`); `--head` picks the task head of a
multi-task run (0 = its first source task).

Imports TensorFlow only inside main(): env workers re-import this module.
"""
import argparse
import json
import pathlib
import sys

from vmail_tf import config as config_lib
from vmail_tf import episodes, run_metrics


def main(argv=None):
    parser = argparse.ArgumentParser(description='Evaluate a run\'s latest checkpoint.')
    parser.add_argument('--logdir', required=True, type=pathlib.Path)
    parser.add_argument('--episodes', type=int, default=10)
    parser.add_argument('--video', type=pathlib.Path, help='write the first episode as a GIF')
    parser.add_argument('--task', help='run the policy on this task instead of the run\'s own')
    parser.add_argument('--expert_dir', default='',
                        help='with --task: that task\'s expert episodes (default: built-in)')
    parser.add_argument('--head', type=int, default=0,
                        help='task head of a multi-task run to act with (0 = first source task)')
    parser.add_argument('--json', type=pathlib.Path, help='also write the result as JSON')
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = config_lib.load_run_config(args.logdir)
        if args.task:
            config = config_lib.Config(dict(config, task=args.task, expert_dir=args.expert_dir))
        heads = len(config_lib.split_list(config.source_tasks)) \
            if config.method == 'multitask' else 1
        if not 0 <= args.head < heads:
            raise config_lib.ConfigError(
                f'--head {args.head}: the run in {args.logdir} has {heads} task head(s)')
    except (FileNotFoundError, config_lib.ConfigError) as e:
        sys.exit(f'error: {e}')
    from vmail_tf.quiet import import_tensorflow
    import_tensorflow(threads=config.threads)
    import tensorflow as tf

    from vmail_tf import demos
    from vmail_tf.methods import agent_class
    from vmail_tf.driver import make_driver
    from vmail_tf.greedy_episodes import greedy_episodes, summarize
    from vmail_tf.logger import encode_gif
    from vmail_tf.trainer_base import newest_readable, recorded_checkpoints

    checkpoint_dir = args.logdir / 'checkpoint'
    latest, skipped = newest_readable(recorded_checkpoints(checkpoint_dir))
    for bad, problem in skipped:
        print(f'warning: skipping unreadable checkpoint {bad}: {problem}', file=sys.stderr)
    if latest is None:
        sys.exit(f'error: no readable checkpoint in {checkpoint_dir}')
    driver = make_driver(config, 'evaluate')
    try:
        agent = agent_class(config.method)(config, driver.action_size)
        try:  # the run's counters stay behind
            tf.train.Checkpoint(agent=agent).restore(
                latest).assert_existing_objects_matched().expect_partial()
        except (AssertionError, ValueError, tf.errors.OpError) as e:
            sys.exit(f'error: {latest} does not match the config in {args.logdir}: '
                     f'{str(e).splitlines()[0]}')
        policy, head = None, ''
        if config.method == 'multitask':
            policy, head = agent.task_policies[args.head], f', head {args.head}'
        print(f'Evaluating {latest} ({config.method}, {config.task}{head}) over '
              f'{episodes.count_text(args.episodes)}', flush=True)
        finished = greedy_episodes(agent, driver, args.episodes, policy)
    finally:
        driver.close()
    scores = summarize(finished, config.action_repeat)
    mean, sd = scores['eval/return'], scores['eval/return_sd']
    line = f'return {mean:.1f} ± {sd:.1f} over {episodes.count_text(len(finished))}'
    reference = demos.expert_return(config)
    if reference is not None:
        share = run_metrics.percent_of_expert(mean, reference, 1)
        line += f"; {share} of the expert's" if share else "; the expert's"
        line += f' {reference:.1f}'
    else:
        line += f'; no expert episodes in {demos.expert_folder(config)} to compare with'
    print(line)
    if args.json:
        args.json.write_text(json.dumps({
            'logdir': str(args.logdir), 'checkpoint': latest, 'task': config.task,
            'head': args.head, 'episodes': len(finished), 'return': mean,
            'return_sd': sd, 'expert_return': reference}, indent=2) + '\n')
        print(f'wrote {args.json}')
    if args.video:
        args.video.write_bytes(encode_gif(finished[0]['image'], driver.video_fps))
        print(f'wrote {args.video}')
    return mean


if __name__ == '__main__':
    main()
