"""Environments. Modules here never import TensorFlow: they run in worker processes."""
