"""How far a D'Claw run's eval episodes turned the valve, evaluation by
evaluation, against its demos: what a return alone does not show.

    python tools/valve_turns.py --run logdir/claw_valve3_cw/seed0 --demos DEMO_DIR --json turns.json

For each episode: the valve's net turn in the task's direction (rad; the
demos' direction is positive), the mean |action| over its steps and its
return. A run's eval episodes (`eval_episodes/`, oldest first) are grouped
`eval_episodes` at a time (its config.yaml) onto the evaluations of its
metrics.jsonl, and each group's mean return is checked against the logged
one.
"""
import argparse
import json
import pathlib
import sys

import numpy as np

from vmail_tf import config as config_lib
from vmail_tf import episodes
from vmail_tf.envs.claw import VARIANTS
from vmail_tf.run_metrics import read_returns


def describe(path, direction):
    """Turn (rad, in `direction`), mean |action| and return of one episode file."""
    episode = episodes.load(path)
    if 'valve' not in episode:
        raise ValueError(f'{path} holds no `valve` (cos, sin of its angle): not a D\'Claw episode')
    cos, sin = episode['valve'][:, 0], episode['valve'][:, 1]
    angle = np.unwrap(np.arctan2(sin, cos))
    return {'turn_rad': round(float(direction * (angle[-1] - angle[0])), 2) + 0.0,  # no -0.0
            'mean_abs_action': round(float(np.abs(episode['action'][1:]).mean()), 3),
            'return': round(episodes.episode_return(episode), 1)}


def run_turns(run):
    """{eval step: [each eval episode's description]} of a claw run."""
    run = pathlib.Path(run)
    config = config_lib.read_yaml(run / 'config.yaml') or {}
    if config.get('task') not in VARIANTS:
        raise ValueError(f'{run / "config.yaml"}: task {config.get("task")!r} is not a D\'Claw '
                         f'valve task ({", ".join(VARIANTS)})')
    direction = VARIANTS[config['task']][1]
    count = int(config['eval_episodes'])
    returns = read_returns(run)
    files = episodes.list_files(run / 'eval_episodes')
    if len(files) != count * len(returns):
        raise ValueError(f'{run / "eval_episodes"} holds {len(files)} episodes, not '
                         f'{count} for each of the {len(returns)} evaluations in metrics.jsonl')
    turns = {}
    for index, step in enumerate(sorted(returns)):
        group = [describe(p, direction) for p in files[count * index:count * (index + 1)]]
        mean = np.mean([e['return'] for e in group])
        if abs(mean - returns[step]) > 0.1:
            raise ValueError(f'eval episodes {count * index}..{count * (index + 1) - 1} return '
                             f'{mean:.1f} on average, but metrics.jsonl logs {returns[step]:.1f} '
                             f'at step {step}: the files do not line up with the evaluations')
        turns[step] = group
    return turns, direction


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--run', required=True, type=pathlib.Path)
    parser.add_argument('--demos', type=pathlib.Path, help='a folder of demo episodes')
    parser.add_argument('--json', type=pathlib.Path, help='also write the result as JSON')
    args = parser.parse_args(argv)
    try:
        turns, direction = run_turns(args.run)
        demos = [describe(p, direction) for p in episodes.list_files(args.demos)] \
            if args.demos else []
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    rows = [('demos', demos)] if demos else []
    rows += [(f'eval at {step}', group) for step, group in turns.items()]
    for name, group in rows:
        print(f'{name}: turn ' + ', '.join(f'{e["turn_rad"]:.1f}' for e in group)
              + ' rad; mean |action| ' + ', '.join(f'{e["mean_abs_action"]:.2f}' for e in group)
              + '; return ' + ', '.join(f'{e["return"]:.1f}' for e in group))
    if args.json:
        args.json.write_text(json.dumps({'run': str(args.run), 'demos': demos,
                                         'evals': {str(s): g for s, g in turns.items()}},
                                        indent=1) + '\n')
        print(f'wrote {args.json}')


if __name__ == '__main__':
    main()
