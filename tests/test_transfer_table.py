"""tools/transfer_table.py: the Table-1 comparison from runs and eval files."""
import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import transfer_table  # noqa: E402


def run(directory, returns, method):
    directory.mkdir(parents=True)
    with open(directory / 'metrics.jsonl', 'w') as f:
        for step, value in returns:
            f.write(json.dumps({'step': step, 'eval/return': value}) + '\n')
    (directory / 'config.yaml').write_text(f'method: {method}\n')
    return str(directory)


def test_rows_give_the_last_return_of_each_run_as_a_share_of_the_expert(tmp_path):
    transfer = [run(tmp_path / 't0', [(100, 10.0), (200, 30.0)], 'transfer'),
                run(tmp_path / 't1', [(200, 50.0)], 'transfer')]
    oracle = run(tmp_path / 'oracle', [(1000, 70.0), (2000, 90.0)], 'vmail')
    evaluation = tmp_path / 'policy.json'
    evaluation.write_text(json.dumps({'return': 20.0, 'episodes': 10, 'task': 'dmc_x'}))
    demos = tmp_path / 'demos.json'
    demos.write_text(json.dumps({'mean_return': 200.0}))
    out = tmp_path / 'table.md'
    text = transfer_table.main([
        '--expert', str(demos), '--runs', 'V-MAIL transfer', *transfer,
        '--evals', 'policy transfer', str(evaluation), '--runs', 'oracle', oracle,
        '--out', str(out)])
    rows = text.splitlines()
    assert rows[0] == '| method | runs | return | % of expert (200.0) | taken at |'
    # (30 + 50) / 2 = 40 ± 10, 20 % of 200; rows in the order given
    assert rows[2] == '| V-MAIL transfer | 2 | 40.0 ± 10.0 | 20 % | 200 updates |'
    assert rows[3] == '| policy transfer | 1 | 20.0 | 10 % | 10 episodes on dmc_x |'
    assert rows[4] == '| oracle | 1 | 90.0 | 45 % | 2000 env steps |'
    assert out.read_text() == text + '\n'


def test_an_oracle_row_gives_each_row_a_share_of_its_return(tmp_path):
    transfer = run(tmp_path / 't', [(200, 60.0)], 'transfer')
    oracle = run(tmp_path / 'oracle', [(2000, 80.0)], 'vmail')
    rows = transfer_table.main(['--expert', '100', '--runs', 'transfer', transfer,
                                '--runs', 'oracle', oracle, '--oracle', 'oracle']).splitlines()
    assert rows[0] == '| method | runs | return | % of expert (100.0) | % of oracle | taken at |'
    assert rows[1] == '|---|---|---|---|---|---|'
    assert rows[2] == '| transfer | 1 | 60.0 | 60 % | 75 % | 200 updates |'  # 60 / 80
    assert rows[3] == '| oracle | 1 | 80.0 | 80 % | 100 % | 2000 env steps |'
    with pytest.raises(SystemExit, match=r"--oracle 'V-MAIL' names no row \(rows: transfer, oracle\)"):
        transfer_table.main(['--expert', '100', '--runs', 'transfer', transfer,
                             '--runs', 'oracle', oracle, '--oracle', 'V-MAIL'])


def test_bad_inputs_are_named(tmp_path, capsys):
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps({'return': 1.0}))
    with pytest.raises(SystemExit, match=r"bad.json lacks \['episodes', 'task'\]"):
        transfer_table.main(['--expert', '5', '--evals', 'x', str(bad)])
    with pytest.raises(SystemExit, match='--expert nowhere.json: neither a number'):
        transfer_table.main(['--expert', 'nowhere.json', '--evals', 'x', str(bad)])
    with pytest.raises(SystemExit, match='missing/metrics.jsonl does not exist'):
        transfer_table.main(['--expert', '5', '--runs', 'x', str(tmp_path / 'missing')])
    with pytest.raises(SystemExit) as exit_info:
        transfer_table.main(['--expert', '5', '--runs', 'x'])  # a row without runs
    assert exit_info.value.code == 2 and '--runs x names no files' in capsys.readouterr().err


def test_a_share_of_a_negative_or_missing_expert_return_is_not_given(tmp_path):
    from vmail_tf.run_metrics import percent_of_expert
    assert percent_of_expert(930.0, 1000.0) == '93 %'
    assert percent_of_expert(1.0, 3.0, 1) == '33.3 %'
    assert percent_of_expert(-50.0, -43.6) is None  # Baoding's expert scores below zero
    assert percent_of_expert(5.0, 0.0) is None and percent_of_expert(5.0, None) is None
    oracle = run(tmp_path / 'oracle', [(1000, -60.0)], 'vmail')
    rows = transfer_table.main(['--expert', '-43.6', '--runs', 'oracle', oracle]).splitlines()
    assert rows[2] == '| oracle | 1 | -60.0 | – | 1000 env steps |'
