"""vmail_tf: V-MAIL (visual model-based adversarial imitation learning) in TensorFlow 2.

This package's top level imports nothing heavy: environment worker processes
import `vmail_tf.envs` and must never load TensorFlow (see envs/worker.py).
"""
__version__ = '0.1.0'
