"""The training loops' schedules and the wall time of their phases."""
import collections
import contextlib
import time


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
