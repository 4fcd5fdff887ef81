import json
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import valve_turns  # noqa: E402


def write_episode(path, angles, action, rewards):
    angles = np.asarray(angles, np.float64)
    steps = len(angles)
    np.savez(path, image=np.zeros((steps, 4, 4, 3), np.uint8),
             action=np.full((steps, 9), action, np.float32),
             reward=np.asarray(rewards, np.float32), discount=np.ones(steps, np.float32),
             valve=np.stack([np.cos(angles), np.sin(angles)], -1).astype(np.float32))


def make_run(root, returns_logged):
    run = root / 'run'
    (run / 'eval_episodes').mkdir(parents=True)
    (run / 'config.yaml').write_text('task: claw_valve3_cw\neval_episodes: 2\n')
    (run / 'metrics.jsonl').write_text(''.join(
        json.dumps({'step': step, 'eval/return': value}) + '\n'
        for step, value in returns_logged))
    # eval at 100: turned 3.5 rad clockwise (the task's way), and 1 rad
    # counter-clockwise across the +-pi seam; eval at 200: held still twice
    write_episode(run / 'eval_episodes' / 'a.npz', [0, -1, -2, -3.5], 0.5, [0, 1, 2, 3])
    write_episode(run / 'eval_episodes' / 'b.npz', [3.0, 3.5, 4.0], -0.25, [0, 1, 1])
    write_episode(run / 'eval_episodes' / 'c.npz', [1.0, 1.0], 0.0, [0, -1])
    write_episode(run / 'eval_episodes' / 'd.npz', [1.0, 1.0], 0.0, [0, -3])
    return run


def test_turns_in_the_tasks_direction_across_the_seam_grouped_by_evaluation(tmp_path):
    run = make_run(tmp_path, [(100, 4.0), (200, -2.0)])
    turns, direction = valve_turns.run_turns(run)
    assert direction == -1.0
    assert turns[100] == [{'turn_rad': 3.5, 'mean_abs_action': 0.5, 'return': 6.0},
                          {'turn_rad': -1.0, 'mean_abs_action': 0.25, 'return': 2.0}]
    assert [e['turn_rad'] for e in turns[200]] == [0.0, 0.0]
    out = tmp_path / 'turns.json'
    valve_turns.main(['--run', str(run), '--demos', str(run / 'eval_episodes'),
                      '--json', str(out)])
    written = json.loads(out.read_text())
    assert written['evals']['200'][1]['return'] == -3.0
    assert [e['turn_rad'] for e in written['demos']] == [3.5, -1.0, 0.0, 0.0]


def test_files_that_do_not_line_up_with_the_logged_evaluations_are_refused(tmp_path):
    run = make_run(tmp_path, [(100, 4.0), (200, -5.0)])
    with pytest.raises(SystemExit, match='logs -5.0 at step 200'):
        valve_turns.main(['--run', str(run)])
    (run / 'eval_episodes' / 'd.npz').unlink()
    with pytest.raises(SystemExit, match='holds 3 episodes, not 2 for each of the 2'):
        valve_turns.main(['--run', str(run)])
    (run / 'config.yaml').write_text('task: dmc_walker_walk\neval_episodes: 2\n')
    with pytest.raises(SystemExit, match="task 'dmc_walker_walk' is not a D'Claw"):
        valve_turns.main(['--run', str(run)])
