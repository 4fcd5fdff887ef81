"""Graceful stops: a signal asks a run to stop at its next safe point."""
import signal


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
