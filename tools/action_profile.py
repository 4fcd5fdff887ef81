"""How much each folder's episodes act, step by step: demos against a run's.

    python tools/action_profile.py DEMO_DIR RUN/eval_episodes [--windows 0 10 25 50 100]
        [--still 0.05] [--json out.json]

For each folder of episode files, prints the mean |action| (over the action's
dimensions and the episodes) in each window of agent steps, the share of
steps whose mean |action| is below `--still`, and the mean return. An expert
that reaches a goal and then holds still has nearly all of its steps still;
a policy that freezes where it starts matches those (state, action) pairs
without ever reaching the goal, and shows a low return with a high still
share from the first window on. Reads files only: no TensorFlow.
"""
import argparse
import json
import pathlib

import numpy as np

from vmail_tf import episodes as episodes_lib


def action_profile(actions, windows, still):
    """`actions`: a list of (steps, action size) arrays of the actions taken,
    one per episode. Returns {'windows': [[start, end, mean |a|], ...],
    'still_share': share of steps with mean |a| < still}. A window's end is
    the next window's start; the last runs to the longest episode's end."""
    magnitudes = [np.abs(a).mean(axis=-1) for a in actions]
    ends = list(windows[1:]) + [max(len(m) for m in magnitudes)]
    rows = []
    for start, end in zip(windows, ends):
        parts = np.concatenate([m[start:end] for m in magnitudes])
        rows.append([int(start), int(end), float(parts.mean()) if parts.size else None])
    steps = np.concatenate(magnitudes)
    return {'windows': rows, 'still_share': float((steps < still).mean())}


def profile_folder(folder, windows, still):
    loaded = [episode for _, episode in episodes_lib.load_directory(folder)]
    if not loaded:
        raise SystemExit(f'{folder}: no episode files (*.npz) that load')
    # The action taken at step t is stored one entry later (episodes.py).
    taken = [episode['action'][1:] for episode in loaded]
    result = action_profile(taken, windows, still)
    result.update(folder=str(folder), episodes=len(loaded),
                  mean_return=float(np.mean([episode['reward'].sum() for episode in loaded])))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('folders', nargs='+', type=pathlib.Path)
    parser.add_argument('--windows', type=int, nargs='+', default=[0, 10, 25, 50, 100],
                        help='first agent step of each window (ascending)')
    parser.add_argument('--still', type=float, default=0.05,
                        help='mean |action| below which a step counts as still')
    parser.add_argument('--json', type=pathlib.Path, help='also write the results here')
    args = parser.parse_args()
    if args.windows != sorted(set(args.windows)) or args.windows[0] < 0:
        parser.error(f'--windows must be ascending, distinct and >= 0, got {args.windows}')
    results = [profile_folder(folder, args.windows, args.still) for folder in args.folders]
    for result in results:
        print(f"{result['folder']}: {result['episodes']} episodes, mean return "
              f"{result['mean_return']:.1f}, still share {result['still_share']:.3f}")
        for start, end, mean in result['windows']:
            shown = '-' if mean is None else f'{mean:.4f}'
            print(f'  agent steps {start}-{end}: mean |action| {shown}')
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + '\n')


if __name__ == '__main__':
    main()
