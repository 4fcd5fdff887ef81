"""Hand-made episodes in the replay format, and settings shared by tests."""
import pathlib

import numpy as np

# Seconds before a silent env worker counts as dead: generous, since a
# loaded CI machine renders slowly.
WORKER_TIMEOUT = 120.0


def make_episode(length, action_size=1, image_size=64, seed=0):
    """An episode of `length` entries whose action at entry t is t (every
    dim) and whose image at entry t is filled with t % 256."""
    rng = np.random.default_rng(seed)
    steps = np.arange(length, dtype=np.float32)
    action = np.repeat(steps[:, None], action_size, 1)
    action[0] = 0.0
    image = np.broadcast_to(
        (np.arange(length) % 256).astype(np.uint8)[:, None, None, None],
        (length, image_size, image_size, 3)).copy()
    return {
        'image': image,
        'action': action.astype(np.float32),
        'reward': rng.uniform(0, 1, length).astype(np.float32) * (steps > 0),
        'discount': np.ones(length, np.float32),
    }


def tiny(config, **overrides):
    """`config` with some keys changed."""
    from vmail_tf import config as config_lib
    return config_lib.Config(dict(config, **overrides))


def latest_checkpoint_value(logdir, name):
    """A counter in a run's newest checkpoint: 'env_step' or 'agent/step'."""
    import tensorflow as tf
    path = tf.train.latest_checkpoint(str(pathlib.Path(logdir) / 'checkpoint'))
    assert path, f'no checkpoint in {logdir}'
    from vmail_tf.trainer_base import checkpoint_counter
    return checkpoint_counter(path, name)
