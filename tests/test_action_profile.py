import os
import sys

import numpy as np
import pytest

from vmail_tf import episodes

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools'))
import action_profile  # noqa: E402


def test_windows_and_still_share_by_hand():
    # mean |a| per step: episode 1: 1.0, 0.5, 0.0, 0.0; episode 2: 0.2, 0.02, 0.0
    first = np.array([[1.0, -1.0], [0.5, -0.5], [0.0, 0.0], [0.0, 0.0]])
    second = np.array([[0.4, 0.0], [0.04, 0.0], [0.0, 0.0]])
    result = action_profile.action_profile([first, second], windows=[0, 2], still=0.05)
    assert result['windows'][0][:2] == [0, 2]
    assert result['windows'][0][2] == pytest.approx((1.0 + 0.5 + 0.2 + 0.02) / 4)
    assert result['windows'][1][:2] == [2, 4]
    assert result['windows'][1][2] == pytest.approx(0.0)
    assert result['still_share'] == pytest.approx(4 / 7)  # 0.02 and the four zeros
    assert action_profile.action_profile([second], [0, 5], 0.05)['windows'][1][2] is None


def test_a_folder_of_episode_files_skips_the_reset_entry(tmp_path):
    for scale in (1.0, 3.0):
        # entry 0 is the reset entry: its action (here 9) is not an action taken
        action = np.array([[9.0], [scale], [scale], [0.0]], np.float32)
        episodes.save(tmp_path, {'image': np.zeros((4, 2, 2, 3), np.uint8), 'action': action,
                                 'reward': np.array([0, 1, 1, 0], np.float32),
                                 'discount': np.ones(4, np.float32)})
    result = action_profile.profile_folder(tmp_path, [0, 2], still=0.05)
    assert result['episodes'] == 2 and result['mean_return'] == pytest.approx(2.0)
    assert result['windows'] == [[0, 2, pytest.approx(2.0)], [2, 3, pytest.approx(0.0)]]
    assert result['still_share'] == pytest.approx(2 / 6)
    with pytest.raises(SystemExit, match='no episode files'):
        action_profile.profile_folder(tmp_path / 'missing', [0], 0.05)
