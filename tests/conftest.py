import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
# No renderer in the test process: it holds TensorFlow, which crashes beside
# Mesa. Tests that render do it in env workers, which set their own backend
# (vmail_tf/envs/worker.py).
os.environ['MUJOCO_GL'] = 'disable'

from vmail_tf import config as config_lib  # noqa: E402


@pytest.fixture
def debug_config(tmp_path):
    """The `dmc cartpole debug` config, writing only under tmp_path."""
    return config_lib.merge(['dmc', 'cartpole', 'debug'], [
        ('logdir', str(tmp_path / 'run')),
        ('demo_cache', str(tmp_path / 'demos'))])
