"""Helpers shared by the training entry points: the run's config file,
schedules, phase timings and graceful stops."""
import collections
import contextlib
import datetime
import fcntl
import logging
import os
import pathlib
import signal
import socket
import time

from vmail_tf import config as config_lib

log = logging.getLogger(__name__)


def crossed(before, after, every):
    """Whether a multiple of `every` lies in (before, after]."""
    return every > 0 and after // every > before // every


class PhaseTimes:
    """Wall seconds spent in each named phase since the last `pop`: the
    per-round breakdown that the logs carry as `time/<phase>_s`."""

    def __init__(self):
        self.seconds = collections.defaultdict(float)

    @contextlib.contextmanager
    def measure(self, phase):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] += time.perf_counter() - start

    def pop(self):
        seconds = dict(self.seconds)
        self.seconds.clear()
        return seconds


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


class StopRequested(Exception):
    """Raised at a safe point after SIGINT or SIGTERM asked the run to stop."""


class GracefulStop:
    """SIGINT (Ctrl-C) and SIGTERM (`kill`, job schedulers) set a flag that
    the training loops `check` between steps, so a run saves a checkpoint at
    a safe point instead of being interrupted inside TensorFlow. A second
    signal interrupts at once."""

    def __init__(self):
        self.requested = False
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._handle)

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt(f'signal {signum}')
        self.requested = True
        print(f'\nSignal {signum}: stopping after the current step '
              f'(signal again to stop at once)', flush=True)

    def check(self):
        if self.requested:
            raise StopRequested()
