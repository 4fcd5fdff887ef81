"""Helpers shared by the training entry points: the run's config file and schedules."""
import datetime
import logging
import signal

from vmail_tf import config as config_lib

log = logging.getLogger(__name__)


def crossed(before, after, every):
    """Whether a multiple of `every` lies in (before, after]."""
    return every > 0 and after // every > before // every


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
