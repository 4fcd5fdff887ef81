"""Episode files: one `np.savez_compressed` file per episode (docs/design.md section 4).

Entry 0 is the reset (zero action, reward 0, discount 1); entry t >= 1 holds
the observation after step t, the action that led to it and its reward. The
action *taken at* observation t is therefore `action[t + 1]`.
"""
import datetime
import io
import logging
import os
import pathlib
import uuid

import numpy as np

from vmail_tf.runs import writing

log = logging.getLogger(__name__)

REQUIRED_KEYS = ('image', 'action', 'reward', 'discount')


def with_taken_actions(observations, actions):
    """Splits windows (B, T + 1, ...) into the observations at t = 0..T-1
    and the action taken at each, which is stored one entry later: the one
    place that encodes this file format's pairing (numpy or TensorFlow)."""
    return observations[:, :-1], actions[:, 1:]


def episode_length(episode):
    """Number of entries, including the reset entry."""
    return len(episode['action'])


def env_steps(episode, action_repeat):
    """Simulator steps an episode took: its agent steps times the repeat."""
    return (episode_length(episode) - 1) * action_repeat


def filename(episode):
    # Microseconds keep episodes saved within one second in order; names
    # from before them ('...T043115-') still sort first within their second.
    stamp = datetime.datetime.now().strftime('%Y%m%dT%H%M%S.%f')
    return f'{stamp}-{uuid.uuid4().hex}-{episode_length(episode)}.npz'


def save(directory, episode):
    """Writes `episode` atomically (temp file, then rename); returns its path."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lengths = {key: len(value) for key, value in episode.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f'episode keys differ in length: {lengths}')
    path = directory / filename(episode)
    with io.BytesIO() as buffer:
        np.savez_compressed(buffer, **episode)
        data = buffer.getvalue()
    tmp = path.with_name(f'.{path.name}.tmp')
    with writing(path):
        try:
            with open(tmp, 'wb') as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(path)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
    return path


def load(path):
    """Loads one episode file into a dict of arrays in the replay's dtypes;
    raises ValueError naming the key and what was expected on a bad file."""
    with np.load(path, allow_pickle=False) as data:
        episode = {key: data[key] for key in data.files}
    missing = [key for key in REQUIRED_KEYS if key not in episode]
    if missing:
        raise ValueError(f'missing keys {missing} (has {sorted(episode)})')
    lengths = {key: len(value) for key, value in episode.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f'keys differ in length: {lengths}')
    return {key: _standard_array(key, value) for key, value in episode.items()}


def _standard_array(key, value):
    """Float arrays of any precision (e.g. float16 from a mixed-precision
    run) become float32 once checked finite; `image` in any integer dtype
    with values in [0, 255] becomes uint8 (H, W, 3). Anything else that
    would break or poison training is refused."""
    if key == 'image':
        if value.ndim != 4 or value.shape[-1] != 3:
            raise ValueError(f'`image` has shape {value.shape}, expected '
                             f'(length, height, width, 3)')
        if not np.issubdtype(value.dtype, np.integer):
            raise ValueError(f'`image` is {value.dtype}, expected an integer dtype '
                             f'with values in [0, 255] (uint8)')
        if value.dtype != np.uint8 and value.size and (value.min() < 0 or value.max() > 255):
            raise ValueError(f'`image` ({value.dtype}) has values in [{value.min()}, '
                             f'{value.max()}], expected [0, 255]')
        return value.astype(np.uint8, copy=False)
    if np.issubdtype(value.dtype, np.floating):
        bad = ~np.isfinite(value)
        if bad.any():
            first = np.argwhere(bad)[0]
            raise ValueError(f'`{key}` has {int(bad.sum())} non-finite values '
                             f'(NaN or inf), first at entry {int(first[0])}')
        return value.astype(np.float32, copy=False)
    return value


def remove_temporary_files(directory):
    """Deletes the temp files of writes cut short by a kill (`.*.tmp`; never
    an episode). Only for a folder this process owns."""
    for path in pathlib.Path(directory).glob('.*.npz.tmp'):
        path.unlink()


def list_files(directory):
    """Episode files in `directory`, oldest name first."""
    directory = pathlib.Path(directory)
    if not directory.is_dir():
        return []
    return sorted(directory.glob('*.npz'))


def set_aside(paths, directory):
    """Moves episode files into `directory` (created), keeping their names:
    files a run must not train on are kept for the user, never deleted."""
    directory = pathlib.Path(directory)
    with writing(directory):
        directory.mkdir(parents=True, exist_ok=True)
        for path in paths:
            pathlib.Path(path).replace(directory / pathlib.Path(path).name)


def load_directory(directory, newest_steps=None, failures=None, quiet=False):
    """Loads the episodes of `directory` that load cleanly (see `load_files`)."""
    return load_files(list_files(directory), newest_steps, failures, quiet)


def load_files(files, newest_steps=None, failures=None, quiet=False):
    """Loads the episode `files` (oldest first) that load cleanly, warning
    about (unless `quiet`) and skipping the rest (files are never deleted;
    with a `failures` list, each is also appended there as (path, error)).
    With `newest_steps`, loads only the newest episodes that together hold
    at most that many steps. Returns a list of (path, episode)."""
    if newest_steps is not None:
        files = files[::-1]
    loaded, total = [], 0
    for path in files:
        try:
            episode = load(path)
        except Exception as e:
            if not quiet:
                log.warning('skipping episode file %s: %s', path, e)
            if failures is not None:
                failures.append((path, e))
            continue
        total += episode_length(episode) - 1
        if newest_steps is not None and total > newest_steps:
            break
        loaded.append((path, episode))
    if newest_steps is not None:
        loaded = loaded[::-1]
    return loaded


def count_text(count):
    """'1 episode', '3 episodes': for messages."""
    return f'{count} episode' + ('' if count == 1 else 's')


def episode_return(episode):
    return float(np.sum(episode['reward']))
