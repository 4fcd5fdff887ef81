"""The console's progress line, shared by the training entry points."""
import datetime
import time

import numpy as np

# Metrics shown on the progress lines of V-MAIL and the baselines, with their labels.
LOSS_LABELS = {'image_error': 'image error', 'kl': 'kl', 'd_expert': 'D(expert)',
               'd_policy': 'D(policy)', 'actor_loss': 'actor', 'critic_loss': 'critic',
               'bc_loss': 'BC loss'}


def _duration(seconds):
    return str(datetime.timedelta(seconds=int(seconds))) if np.isfinite(seconds) else '?'


class Progress:
    """A one-line status every `every` seconds: step, rate, phase, eval
    return, losses, ETA. Each update is also a safe point to honour a stop
    request (`stop.check()`)."""

    def __init__(self, total, every, start_step, stop=None, unit='fps', labels=LOSS_LABELS,
                 clock=time.time):
        self.total, self.every, self.unit = total, every, unit
        self.stop, self.labels, self.clock = stop, labels, clock
        self.last_print = 0.0
        self.eval_return = None
        self.restart(start_step)

    def restart(self, step):
        """Measure the rate from here: a phase that took time without
        advancing the step (world-model pretraining) would skew the ETA."""
        self.start_time, self.start_step = self.clock(), step
        self.round_time, self.round_step = self.start_time, step

    def round_done(self, step):
        """Marks the end of a round (its env steps and their updates). The
        rate is then measured up to the last round's end: a collection whose
        updates are still to come would make it look far too fast."""
        self.round_time, self.round_step = self.clock(), step

    def _rate(self, step, now):
        if self.round_step > self.start_step:
            return (self.round_step - self.start_step) / max(self.round_time - self.start_time,
                                                            1e-6)
        return (step - self.start_step) / max(now - self.start_time, 1e-6)

    def update(self, step, metrics, phase='', force=False, work=None, phase_eta=False):
        """`work`: (done, total, start time) of a phase that does not move
        the step (updates): the line shows its rate, and its own ETA where
        the run has no step rate yet or `phase_eta` asks for it."""
        if self.stop is not None:
            self.stop.check()
        now = self.clock()
        if not force and now - self.last_print < self.every:
            return
        self.last_print = now
        parts = [f'step {step}/{self.total}']
        fps = self._rate(step, now)
        if not phase_eta:
            parts.append(f'{fps:.1f} {self.unit}')
        eta_label, eta = 'ETA', (self.total - step) / fps if fps > 0 else float('inf')
        if work:
            done, total, started = work
            rate = done / max(now - started, 1e-6)
            parts.append(f'{phase} {done}/{total} at {rate:.1f} updates/s')
            if phase_eta or fps <= 0:
                eta_label, eta = 'ETA of this phase', (total - done) / rate
        elif phase:
            parts.append(phase)
        if self.eval_return is not None:
            parts.append(f'eval return {self.eval_return:.1f}')
        losses = [f'{label} {metrics[key]:.3g}' for key, label in self.labels.items()
                  if key in metrics]
        if losses:
            parts.append(' '.join(losses))
        parts.append(f'{eta_label} {_duration(eta)}')
        print(' | '.join(parts), flush=True)
