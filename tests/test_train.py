"""End-to-end: the CLI trains on cartpole from pixels, then resumes."""
import hashlib
import json
import os
import subprocess
import sys

import tensorflow as tf

from vmail_tf import config as config_lib
from vmail_tf import demos

from helpers import latest_checkpoint_value

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def train(*args):
    result = subprocess.run(
        [sys.executable, '-m', 'vmail_tf.train', '--configs', 'dmc', 'cartpole', 'debug',
         *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def snapshot(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.iterdir())}


def summaries(logdir):
    tags = {}
    for path in sorted(logdir.glob('events.out.tfevents.*')):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append((event.step, value))
    return tags


def test_smoke_run_logs_checkpoints_and_resumes(tmp_path):
    config = config_lib.merge(['dmc', 'cartpole', 'debug'], [
        ('demo_cache', str(tmp_path / 'cache'))])
    expert_dir = demos.resolve_expert_dir(config)
    before = snapshot(expert_dir)
    logdir = tmp_path / 'run'
    common = ('--logdir', str(logdir), '--expert_dir', str(expert_dir))

    out = train(*common)
    assert 'step 400/400' in out and 'fps' in out and 'ETA' in out
    assert 'updates/s' in out  # the training phase shows its rate
    for noise in ('oneDNN custom operations', 'absl::InitializeLog', 'cuInit', 'cudart'):
        assert noise not in out  # TensorFlow's start-up notices are hidden
    assert (logdir / 'config.yaml').exists()
    assert latest_checkpoint_value(logdir, 'env_step') == 400
    assert list((logdir / 'train_episodes').glob('*.npz'))
    assert list((logdir / 'eval_episodes').glob('*.npz'))
    lines = [json.loads(line) for line in open(logdir / 'metrics.jsonl')]
    assert any('train/model_loss' in line for line in lines)
    assert any('eval/return' in line for line in lines)
    megabytes = [line['replay/megabytes'] for line in lines if 'replay/megabytes' in line]
    # the replay only grows here; at least one 64-px episode of images is held
    assert megabytes == sorted(megabytes) and megabytes[-1] > 64 * 64 * 3 * 10 / 1e6
    tags = summaries(logdir)
    for tag in ('train/model_loss', 'train/d_expert', 'train/disc_penalty', 'fps',
                'eval/return'):
        assert tag in tags, sorted(tags)
    gif = tags['train/openloop'][0][1].image
    assert gif.encoded_image_string[:6] == b'GIF89a' and gif.height == 3 * 64
    assert tags['eval/policy'][0][1].image.encoded_image_string[:3] == b'GIF'

    out = train(*common, '--steps', '600')
    assert 'Resumed from' in out and 'at env step 400' in out
    assert 'step 600/600' in out
    assert latest_checkpoint_value(logdir, 'env_step') == 600
    steps = [json.loads(line)['step'] for line in open(logdir / 'metrics.jsonl')]
    assert max(steps) == 600 and min(s for s in steps if s > 400) > 400
    assert steps == sorted(steps)
    kept = list(logdir.glob('config-*.yaml'))  # the changed config keeps the old one
    assert len(kept) == 1 and 'steps: 400' in kept[0].read_text()
    assert 'steps: 600' in (logdir / 'config.yaml').read_text()
    assert snapshot(expert_dir) == before  # the expert folder is read-only

    changed = subprocess.run(
        [sys.executable, '-m', 'vmail_tf.train', '--configs', 'dmc', 'cartpole', 'debug',
         *common, '--steps', '800', '--deter_size', '20'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert changed.returncode != 0
    assert 'cannot resume from' in changed.stderr and 'Traceback' not in changed.stderr
    assert latest_checkpoint_value(logdir, 'env_step') == 600


def test_missing_expert_dir_for_a_task_without_builtin_expert(tmp_path):
    result = subprocess.run(
        [sys.executable, '-m', 'vmail_tf.train', '--configs', 'dmc', 'debug',
         '--task', 'dmc_hopper_hop', '--logdir', str(tmp_path / 'run')],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert 'no --expert_dir given' in result.stderr
    assert 'Traceback' not in result.stderr


def test_sigterm_saves_a_checkpoint_to_resume_from(tmp_path):
    import signal
    config = config_lib.merge(['dmc', 'cartpole', 'debug'], [
        ('demo_cache', str(tmp_path / 'cache'))])
    expert_dir = demos.resolve_expert_dir(config)
    logdir = tmp_path / 'run'
    process = subprocess.Popen(
        [sys.executable, '-m', 'vmail_tf.train', '--configs', 'dmc', 'cartpole', 'debug',
         '--logdir', str(logdir), '--expert_dir', str(expert_dir), '--steps', '100000',
         '--eval_every', '100000'],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in process.stdout:
        seen.append(line)
        if 'training' in line:
            break
    process.send_signal(signal.SIGTERM)
    output = ''.join(seen) + process.communicate(timeout=120)[0]
    assert process.returncode == 130, output
    assert 'saving a checkpoint' in output
    assert list((logdir / 'checkpoint').glob('ckpt-*.index')), output


def test_model_pretraining_runs_once_after_the_prefill(tmp_path):
    config = config_lib.merge(['dmc', 'cartpole', 'debug'], [
        ('demo_cache', str(tmp_path / 'cache'))])
    logdir = tmp_path / 'run'
    train('--logdir', str(logdir), '--expert_dir', str(demos.resolve_expert_dir(config)),
          '--steps', '300', '--model_pretrain', '3')
    lines = [json.loads(line) for line in open(logdir / 'metrics.jsonl')]
    pretrain = [line for line in lines if 'pretrain/model_loss' in line]
    assert len(pretrain) == 1
    assert config.prefill <= pretrain[0]['step'] < config.prefill + config.action_repeat
    assert pretrain[0]['pretrain/model_loss'] > 0 and 'pretrain/kl' in pretrain[0]
    # debug: prefill 100, then 2 V-MAIL updates per 100 env steps; pretraining
    # updates are not V-MAIL updates
    assert [line['train/updates'] for line in lines if 'train/updates' in line][-1] == 6


HOLD_LOCK = ('import sys, time; from vmail_tf.runs import lock_logdir; '
             'lock = lock_logdir(sys.argv[1]); print("locked", flush=True); time.sleep(600)')


def test_a_second_run_on_a_logdir_in_use_refuses_and_a_killed_holder_does_not_block(tmp_path):
    import signal
    from vmail_tf.runs import lock_logdir
    logdir = tmp_path / 'run'
    logdir.mkdir()
    holder = subprocess.Popen([sys.executable, '-c', HOLD_LOCK, str(logdir)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        second = subprocess.run(
            [sys.executable, '-m', 'vmail_tf.train', '--configs', 'dmc', 'cartpole', 'debug',
             '--logdir', str(logdir), '--demo_cache', str(tmp_path / 'cache')],
            cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert second.returncode != 0
        assert f'{logdir} is in use by another run (pid {holder.pid}' in second.stderr
        assert 'Traceback' not in second.stderr
        assert not (logdir / 'config.yaml').exists()  # refused before writing anything
        assert not (tmp_path / 'cache').exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    lock_logdir(logdir).close()  # the kernel released the killed holder's lock
