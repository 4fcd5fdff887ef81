"""A run's logdir, shared by the training entry points: its lock, its
config.yaml, the seeds, and failed writes named."""
import contextlib
import datetime
import fcntl
import logging
import os
import pathlib
import socket

from vmail_tf import config as config_lib

log = logging.getLogger(__name__)


class WriteFailed(RuntimeError):
    """A file of the run could not be written: disk full, read-only or no
    permission."""


@contextlib.contextmanager
def writing(path):
    """Turns a failed write into WriteFailed naming `path` and the reason."""
    try:
        yield
    except OSError as e:
        raise WriteFailed(f'cannot write {path}: {e.strerror or e}') from e


class LogdirInUse(RuntimeError):
    """Another process holds the logdir's lock."""


def lock_logdir(logdir):
    """Takes the logdir's lock for the life of this process, or raises
    LogdirInUse naming the holder. The lock is an flock on `<logdir>/lock`:
    the kernel releases it when its holder exits in any way, kill -9
    included, so a crashed run never blocks the next one."""
    path = pathlib.Path(logdir) / 'lock'
    handle = open(path, 'a+')
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or 'a process that has not written its id yet'
        handle.close()
        raise LogdirInUse(f'{logdir} is in use by another run ({holder}); wait for '
                          f'it to end or stop it, or use another --logdir') from None
    handle.seek(0)
    handle.truncate()
    handle.write(f'pid {os.getpid()} on {socket.gethostname()}\n')
    handle.flush()
    return handle


def open_run(config):
    """The set-up every training entry point shares: the logdir, its lock
    (kept in the returned handle), config.yaml, and the seeds."""
    import numpy as np
    import tensorflow as tf
    logdir = pathlib.Path(config.logdir)
    logdir.mkdir(parents=True, exist_ok=True)
    lock = lock_logdir(logdir)
    write_config(config, logdir)
    np.random.seed(config.seed)
    tf.random.set_seed(config.seed)
    return logdir, lock


def write_config(config, logdir):
    """Writes config.yaml; a different earlier one is kept under a new name."""
    path = logdir / 'config.yaml'
    if path.exists():
        old = config_lib.read_yaml(path) or {}
        changed = sorted(k for k in set(old) | set(config) if old.get(k) != config.get(k))
        if not changed:
            return
        stamp = datetime.datetime.now().strftime('%Y%m%dT%H%M%S')
        kept = path.with_name(f'config-{stamp}.yaml')
        path.rename(kept)
        log.warning('config differs from the run in %s (%s); old config kept as %s',
                    logdir, ', '.join(changed), kept.name)
    config_lib.save(config, path)
