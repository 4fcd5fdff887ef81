"""Adam over a fixed set of modules, with global-norm clipping (unless `clip`
is None) and, under float16 mixed precision only, dynamic loss scaling."""
import tensorflow as tf
import tf_keras as keras


class Optimizer(tf.Module):

    def __init__(self, name, modules, lr, clip, eps, loss_scaling):
        super().__init__(name=name)
        self.modules = modules
        self.lr = lr
        self.clip = clip
        self.loss_scaling = loss_scaling
        opt = keras.optimizers.Adam(lr, epsilon=eps)
        self.opt = (keras.mixed_precision.LossScaleOptimizer(opt)
                    if loss_scaling else opt)

    @property
    def variables_to_train(self):
        return [v for m in self.modules for v in m.trainable_variables]

    def build(self):
        """Creates the Adam slots now, so a checkpoint can restore into them."""
        self.opt.build(self.variables_to_train)

    def reset_learning_rate(self):
        """Sets Adam's rate to this optimiser's `lr`: a restored checkpoint
        brings back the rate it was saved with, which a resumed run with
        another config, or a transfer run, must not keep."""
        self.opt.learning_rate.assign(self.lr)

    def scale(self, loss):
        """The loss to differentiate: scaled under float16 mixed precision. Call it
        inside the gradient tape."""
        return self.opt.get_scaled_loss(loss) if self.loss_scaling else loss

    def minimize(self, tape, scaled_loss):
        """Applies one clipped Adam step for a loss from `scale`; returns the
        gradient norm before clipping. A step whose loss or gradient norm is
        not finite is not applied (no variable or Adam slot changes): under
        loss scaling the scaler skips it and lowers the scale; otherwise the
        caller sees the non-finite norm and reports it."""
        variables = self.variables_to_train
        grads = tape.gradient(scaled_loss, variables)
        if self.loss_scaling:
            grads = self.opt.get_unscaled_gradients(grads)
        missing = [v.name for v, g in zip(variables, grads) if g is None]
        if missing:
            raise ValueError(f'{self.name}: loss has no gradient for {missing}')
        norm = tf.linalg.global_norm(grads)
        if self.clip is not None:
            grads, _ = tf.clip_by_global_norm(grads, self.clip, use_norm=norm)
        if self.loss_scaling:
            self.opt.apply_gradients(zip(grads, variables))
        else:
            finite = tf.logical_and(tf.math.is_finite(norm), tf.math.is_finite(scaled_loss))
            tf.cond(finite, lambda: self._apply(grads, variables), tf.no_op)
        return norm

    def _apply(self, grads, variables):
        self.opt.apply_gradients(zip(grads, variables))
        return tf.no_op()


class VariableModule(tf.Module):
    """Gives a bare variable (e.g. SAC's log temperature) the
    `trainable_variables` of a module, for `Optimizer`."""

    def __init__(self, variable):
        super().__init__()
        self.variable = variable
