import os
import sys

import numpy as np
import pytest

from vmail_tf import config as config_lib
from vmail_tf.experts.state_env import evaluate_on_states

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import walker_speed  # noqa: E402


def test_band_share_counts_the_speeds_inside_the_band_bounds_included():
    assert walker_speed.band_share([1.0, 2.0, 3.0, 4.0, 4.5], (2.0, 4.0)) == pytest.approx(0.6)
    assert walker_speed.band_share([-1.0, 0.5], (2.0, 4.0)) == 0.0


def test_measure_gives_the_return_evaluate_gives_and_a_still_walker_outside_the_band():
    config = config_lib.merge(['dmc', 'walker_band'], [('time_limit', 40)])
    still = lambda obs: np.zeros(6, np.float32)  # noqa: E731
    records = walker_speed.measure(still, config, 2, seed=3, band=(2.0, 4.0))
    expected, _ = evaluate_on_states(still, config, 2, seed=3)
    assert np.mean([r['return'] for r in records]) == pytest.approx(expected, abs=0.1)
    for record in records:
        assert abs(record['mean_speed']) < 1.0 and record['band_share'] == 0.0
