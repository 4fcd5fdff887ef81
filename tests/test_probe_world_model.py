import json
import os
import sys

import imageio.v2 as imageio
import numpy as np
import pytest

from vmail_tf import episodes

from helpers import make_episode

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools'))
import probe_world_model  # noqa: E402


def test_frame_error_and_holdout_by_hand():
    truth = np.full((2, 4, 4, 3), 255, np.uint8)
    recon = np.zeros((2, 4, 4, 3), np.float32)
    assert probe_world_model.frame_error(truth, recon) == pytest.approx(0.25 * 48)
    assert probe_world_model.split_holdout([1, 2, 3], 1, 'agent') == ([1, 2], [3])
    with pytest.raises(ValueError, match='2 agent episodes: need more than --holdout 2'):
        probe_world_model.split_holdout([1, 2], 2, 'agent')


def test_probe_trains_the_model_and_writes_errors_and_openloop(tmp_path):
    for folder, seed in (('agent', 0), ('expert', 10)):
        for i in range(3):
            episodes.save(tmp_path / folder, make_episode(30, seed=seed + i))
    out = tmp_path / 'probe'
    probe_world_model.main([
        '--episodes', str(tmp_path / 'agent'), '--updates', '2', '--every', '1',
        '--holdout', '1', '--out', str(out), '--configs', 'dmc', 'cartpole', 'debug',
        '--expert_dir', str(tmp_path / 'expert'), '--logdir', str(tmp_path / 'run')])
    rows = [json.loads(line) for line in open(out / 'probe.jsonl')]
    assert [r['update'] for r in rows] == [1, 2]
    assert all(np.isfinite(r[k]) and r[k] > 0 for r in rows
               for k in ('model_loss', 'agent_error', 'expert_error'))
    # 5 frames of 4 sequences of 64 px side by side, 2 px between frames
    assert imageio.imread(out / 'openloop-2.png').shape == (3 * 64, 5 * 4 * 64 + 4 * 2, 3)
