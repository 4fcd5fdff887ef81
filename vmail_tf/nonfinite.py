"""Non-finite losses and gradients: an update whose loss or gradient norm is
NaN or inf is not applied (optim.Optimizer.minimize); this module reports
which update it was, counts them, stops a run that keeps producing them, and
keeps non-finite variables out of checkpoints."""
import logging

import numpy as np

log = logging.getLogger(__name__)

# Each update's loss and gradient-norm metrics.
UPDATES = {
    'world model': ('model_loss', 'model_grad_norm'),
    'discriminator': ('disc_loss', 'disc_grad_norm'),
    'actor': ('actor_loss', 'actor_grad_norm'),
    'value': ('value_loss', 'value_grad_norm'),
    'critic': ('critic_loss', 'critic_grad_norm'),
    'behaviour cloning': ('bc_loss', 'bc_grad_norm'),
}


class NonFiniteError(RuntimeError):
    """Training produced non-finite numbers it cannot recover from."""


def nonfinite_updates(metrics):
    """Names of the updates in `metrics` whose loss or gradient norm is not finite."""
    return [name for name, (loss, norm) in UPDATES.items()
            if loss in metrics and not (np.isfinite(metrics[loss])
                                        and np.isfinite(metrics[norm]))]


class Watch:
    """Checks the metrics of every update. Under float16 loss scaling, a
    non-finite gradient with finite losses is the scaler's normal overflow
    step (skipped and counted); anything else non-finite is a failure,
    logged with the update's name and step; `limit` failures in a row stop
    the run."""

    def __init__(self, loss_scaling, limit):
        self.loss_scaling, self.limit = loss_scaling, limit
        self.in_a_row = 0
        self.counts = {'nonfinite/skipped_updates': 0, 'nonfinite/loss_scaler_skips': 0}

    def check(self, metrics, where):
        """`where`: the update's place in the run, for the messages."""
        bad = nonfinite_updates(metrics)
        if not bad:
            self.in_a_row = 0
            return
        losses_finite = all(np.isfinite(metrics[UPDATES[name][0]]) for name in bad)
        if self.loss_scaling and losses_finite:
            self.counts['nonfinite/loss_scaler_skips'] += 1
            return
        self.counts['nonfinite/skipped_updates'] += 1
        self.in_a_row += 1
        values = ', '.join(f'{key} {metrics[key]:.3g}' for name in bad for key in UPDATES[name])
        log.warning('%s: non-finite %s (%s); the update was not applied',
                    where, ', '.join(bad), values)
        if self.in_a_row >= self.limit:
            raise NonFiniteError(
                f'{self.in_a_row} updates in a row had non-finite losses or gradients '
                f'(last: {", ".join(bad)} at {where}); stopping')

    def pop_counts(self):
        counts = dict(self.counts)
        for key in self.counts:
            self.counts[key] = 0
        return counts


def check_variables(module):
    """Raises NonFiniteError naming the variables of `module` that hold NaN or inf."""
    bad = [v.name for v in module.variables
           if v.dtype.is_floating and not np.all(np.isfinite(v.numpy()))]
    if bad:
        shown = ', '.join(bad[:5]) + (' ...' if len(bad) > 5 else '')
        raise NonFiniteError(f'{len(bad)} variables hold non-finite values ({shown})')
