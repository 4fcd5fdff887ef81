"""Checks a folder of expert demonstrations, optionally against a config.

    python -m vmail_tf.check_demos DIR [--configs dmc walker ...] [--key value ...]

Prints the episodes, lengths, keys with shapes and dtypes, returns and the
action range. Exits 1 when a file fails to load, the folder holds no
episodes, or (with --configs) the folder cannot serve that config: image
size, action dimension, episodes shorter than a training window, render
settings. Imports no TensorFlow.
"""
import argparse
import json
import pathlib
import sys

import numpy as np

from vmail_tf import config as config_lib
from vmail_tf import demos, episodes
from vmail_tf.envs.worker import probe_action_size


def describe(directory, loaded):
    lines = [f'{directory}: {episodes.count_text(len(loaded))}']
    if not loaded:
        return lines
    lengths = [episodes.episode_length(e) for _, e in loaded]
    returns = [episodes.episode_return(e) for _, e in loaded]
    actions = np.concatenate([e['action'][1:] for _, e in loaded])
    lines.append(f'  entries per episode: {min(lengths)}..{max(lengths)} '
                 f'(total {sum(lengths)}, including one reset entry each)')
    lines.append(f'  return: {np.mean(returns):.1f} ± {np.std(returns):.1f} '
                 f'(min {min(returns):.1f}, max {max(returns):.1f})')
    lines.append(f'  action range: [{actions.min():.3f}, {actions.max():.3f}] '
                 f'over {actions.shape[-1]} dims')
    first = loaded[0][1]
    for key in sorted(first):
        shapes = {e[key].shape[1:] for _, e in loaded}
        dtypes = {str(e[key].dtype) for _, e in loaded}
        mixed = ' (differs between episodes)' if len(shapes) > 1 or len(dtypes) > 1 else ''
        lines.append(f'  {key}: {first[key].shape[1:]} {first[key].dtype}{mixed}')
    info_path = pathlib.Path(directory) / 'demos.json'
    if info_path.exists():
        info = json.loads(info_path.read_text())
        shown = {k: v for k, v in info.items() if k != 'returns'}
        lines.append(f'  demos.json: {shown}')
    return lines


def check(directory, config=None, action_size=None):
    """Returns (report lines, problems). With a config, the checks are the
    ones training applies (demos.check_folder)."""
    if config is not None:
        loaded, problems = demos.check_folder(directory, config, action_size)
    else:
        loaded, problems = demos.load_folder(directory)
    return describe(directory, loaded), problems


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description='Check a folder of expert demonstrations.')
    parser.add_argument('directory', type=pathlib.Path)
    args, rest = parser.parse_known_args(argv)
    if not args.directory.is_dir():
        sys.exit(f'error: {args.directory} is not a directory')
    config = config_lib.parse_args(rest) if rest else None
    action_size = probe_action_size(config) if config else None
    lines, problems = check(args.directory, config, action_size)
    print('\n'.join(lines))
    for problem in problems:
        print(f'FAIL: {problem}')
    if problems:
        sys.exit(1)
    if config:
        print(f'OK: the folder can serve task {config.task} '
              f'(image {config.image_size} px, action dim {action_size}, '
              f'batch_length {config.batch_length})')


if __name__ == '__main__':
    main()
