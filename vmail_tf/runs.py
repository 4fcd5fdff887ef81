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


def stop_on_sigterm():
    """Turns SIGTERM (`kill`, job schedulers) into KeyboardInterrupt, so a run
    stopped that way saves a checkpoint like one stopped with Ctrl-C."""
    def handler(signum, frame):
        raise KeyboardInterrupt(f'signal {signum}')
    signal.signal(signal.SIGTERM, handler)
