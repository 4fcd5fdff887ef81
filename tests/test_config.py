import subprocess
import sys

import pytest

from vmail_tf import config as config_lib

BLOCKS = {
    'defaults': {'logdir': 'logdir/{task}/seed{seed}', 'task': 'dmc_walker_walk',
                 'seed': 0, 'batch_size': 16, 'lr': 1e-3, 'jit': False,
                 'disc_reward': 'prob'},
    'small': {'batch_size': 4, 'lr': 2e-3},
    'smaller': {'batch_size': 2},
}


def test_blocks_merge_left_to_right_then_flags():
    config = config_lib.merge(['small', 'smaller'], [('lr', '5e-4')], BLOCKS)
    assert config.batch_size == 2
    assert config.lr == 5e-4
    assert config.jit is False
    assert config.logdir == 'logdir/dmc_walker_walk/seed0'


def test_flag_values_are_converted_to_the_default_type():
    config = config_lib.merge([], [('batch_size', '1e2'), ('lr', '3'),
                                   ('jit', 'True'), ('seed', '7')], BLOCKS)
    assert config.batch_size == 100 and isinstance(config.batch_size, int)
    assert config.lr == 3.0 and isinstance(config.lr, float)
    assert config.jit is True
    assert config.logdir == 'logdir/dmc_walker_walk/seed7'


def test_unknown_key_names_the_key_and_close_matches():
    with pytest.raises(config_lib.ConfigError, match='`batch_sise`.*batch_size'):
        config_lib.merge([], [('batch_sise', '3')], BLOCKS)


def test_unknown_key_in_a_block_names_the_block():
    blocks = dict(BLOCKS, broken={'nope': 1})
    with pytest.raises(config_lib.ConfigError, match='`nope` in block `broken`'):
        config_lib.merge(['broken'], [], blocks)


def test_unknown_block_lists_the_blocks():
    with pytest.raises(config_lib.ConfigError, match='`smal`.*did you mean small'):
        config_lib.merge(['smal'], [], BLOCKS)


@pytest.mark.parametrize('key,value', [
    ('batch_size', '2.5'), ('batch_size', 'many'), ('jit', 'yes'), ('lr', 'fast')])
def test_bad_type_is_an_error_naming_the_key(key, value):
    with pytest.raises(config_lib.ConfigError, match=f'`{key}` expects'):
        config_lib.merge([], [(key, value)], BLOCKS)


def test_choice_keys_reject_other_values():
    with pytest.raises(config_lib.ConfigError, match='`disc_reward` must be one of prob, log, logit'):
        config_lib.merge([], [('disc_reward', 'sigmoid')], BLOCKS)


def test_threads_below_zero_are_refused():
    assert config_lib.merge([], [('threads', '1')]).threads == 1
    with pytest.raises(config_lib.ConfigError, match='`threads` must be at least 0; got -1'):
        config_lib.merge([], [('threads', '-1')])


def test_threads_set_tensorflows_thread_pools():
    code = ('from vmail_tf.quiet import import_tensorflow; import_tensorflow(threads={}); '
            'import tensorflow as tf; t = tf.config.threading; '
            'print(t.get_intra_op_parallelism_threads(), t.get_inter_op_parallelism_threads())')
    for threads, expected in ((1, '1 1'), (0, '0 0')):
        result = subprocess.run([sys.executable, '-c', code.format(threads)], capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == expected.split()


def test_each_source_family_has_its_own_default_logdir():
    logdir = lambda *names: config_lib.merge(list(names)).logdir
    assert logdir('dmc', 'multitask').endswith('logdir/walker_sources/seed0')
    assert logdir('dmc', 'multitask', 'reacher_sources').endswith('logdir/reacher_sources/seed0')
    assert logdir('claw', 'multitask', 'claw_sources').endswith('logdir/claw_sources/seed0')


def test_parse_args_reads_configs_and_both_flag_forms():
    config = config_lib.parse_args(
        ['--configs', 'small', '--seed', '3', '--lr=0.5'], blocks=BLOCKS)
    assert (config.batch_size, config.seed, config.lr) == (4, 3, 0.5)


def test_parse_args_error_is_one_line_and_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        config_lib.parse_args(['--bach_size', '3'], blocks=BLOCKS)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count('\n') == 0 and 'bach_size' in err and 'batch_size' in err


def test_help_lists_every_key(capsys):
    with pytest.raises(SystemExit):
        config_lib.parse_args(['--help'], blocks=BLOCKS)
    out = capsys.readouterr().out
    for key in BLOCKS['defaults']:
        assert f'--{key}' in out


def test_shipped_blocks_merge_and_save_round_trip(tmp_path):
    blocks = config_lib.load_blocks()
    for name in ('dmc', 'walker', 'cheetah', 'cartpole', 'debug'):
        assert name in blocks
    config = config_lib.merge(['dmc', 'cartpole', 'debug'])
    assert config.task == 'dmc_cartpole_swingup'
    config_lib.save(config, tmp_path / 'config.yaml')
    assert config_lib.read_yaml(tmp_path / 'config.yaml') == dict(config)


def test_defaults_are_the_settings_that_imitated_and_authors_restores_the_released_code():
    ours = config_lib.merge(['dmc', 'walker'])
    assert (ours.disc_penalty, ours.return_bootstrap, ours.return_lambda) == ('input', True, 0.95)
    authors = config_lib.merge(['dmc', 'walker', 'authors'])
    assert (authors.disc_reward, authors.disc_penalty, authors.return_lambda,
            authors.return_bootstrap, authors.model_data) == ('prob', 'params', 1.0, False, 'pooled')
    # Only those keys differ.
    assert {k for k in ours if ours[k] != authors[k]} == {
        'disc_penalty', 'return_lambda', 'return_bootstrap'}


def test_every_shipped_block_merges_onto_the_defaults():
    for blocks in (config_lib.load_blocks(), config_lib.load_blocks('expert_sac')):
        defaults = blocks['defaults']
        for name, block in blocks.items():
            merged = config_lib.merge([name], blocks=blocks)
            for key, value in block.items():
                if key != 'logdir':  # a template, filled in by merge
                    assert merged[key] == config_lib.coerce(key, value, defaults[key]), (name, key)
