"""Experts that act on true states (numpy only)."""
import pathlib

# The shipped SAC experts' weights, one `<task>.npz` each.
WEIGHTS_DIR = pathlib.Path(__file__).resolve().parent / 'weights'
