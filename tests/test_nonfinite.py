"""An update with a NaN/inf loss or gradient is not applied, and is reported."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from vmail_tf import nonfinite, optim

FINITE = {'model_loss': 1.0, 'model_grad_norm': 2.0, 'disc_loss': 0.5, 'disc_grad_norm': 1.0}


def test_a_nonfinite_step_changes_no_variable_and_no_adam_slot():
    module = tf.Module()
    module.layer = keras.layers.Dense(3)
    module.layer(tf.zeros([1, 2]))
    opt = optim.Optimizer('opt', [module], 0.1, 100.0, 1e-7, loss_scaling=False)
    opt.build()

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(module.layer(x))
        return opt.minimize(tape, loss)

    before = [v.numpy().copy() for v in list(module.variables) + list(opt.opt.variables())]
    assert np.isnan(step(tf.constant([[1.0, np.nan]])).numpy())
    for old, new in zip(before, list(module.variables) + list(opt.opt.variables())):
        np.testing.assert_array_equal(old, new.numpy())
    assert np.isfinite(step(tf.constant([[1.0, 2.0]])).numpy())
    assert int(opt.opt.iterations.numpy()) == 1
    assert not np.array_equal(before[0], module.variables[0].numpy())


def test_watch_names_the_update_and_stops_after_the_limit_in_a_row(caplog):
    watch = nonfinite.Watch(loss_scaling=False, limit=2)
    bad = dict(FINITE, disc_loss=np.nan)
    watch.check(bad, 'update 7')
    assert 'update 7: non-finite discriminator (disc_loss nan, disc_grad_norm 1)' in caplog.text
    watch.check(FINITE, 'update 8')  # a good update resets the run of failures
    watch.check(bad, 'update 9')
    with pytest.raises(nonfinite.NonFiniteError, match=r'2 updates in a row .*discriminator at update 10'):
        watch.check(bad, 'update 10')
    assert watch.pop_counts() == {'nonfinite/skipped_updates': 3,
                                  'nonfinite/loss_scaler_skips': 0}
    assert watch.pop_counts()['nonfinite/skipped_updates'] == 0


def test_loss_scaler_overflow_steps_are_counted_not_failures():
    watch = nonfinite.Watch(loss_scaling=True, limit=2)
    for _ in range(5):
        watch.check(dict(FINITE, model_grad_norm=np.inf), 'update')
    assert watch.pop_counts() == {'nonfinite/skipped_updates': 0,
                                  'nonfinite/loss_scaler_skips': 5}
    # A NaN loss is a failure under scaling too: counted, then fatal at the limit.
    watch.check(dict(FINITE, model_loss=np.nan), 'update 6')
    with pytest.raises(nonfinite.NonFiniteError, match=r'2 updates in a row .*world model at update 7'):
        watch.check(dict(FINITE, model_loss=np.nan), 'update 7')
    assert watch.pop_counts()['nonfinite/skipped_updates'] == 2
