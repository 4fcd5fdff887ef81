"""Kills a real (debug-size) training run, V-MAIL or a baseline, with SIGKILL
at random moments, resumes it after each kill, and checks that the logdir
always resumes.

    python tools/crash_test.py [--method vmail|dac|sqil] [--kills 20] [--steps 1600]
        [--seed 0] [--logdir /tmp/vmail_crash] [--json results/reliability/crash_test.json]

After every kill (the whole process group: trainer and env workers, as a
power cut would) it checks: every episode file loads; the newest readable
checkpoint's env step never goes backwards; metrics.jsonl parses once a
half-written last line is cut (as the logger does on start). The run is
then resumed by the same command. At the end the run finishes; its update
count must equal an uninterrupted run's and its episode files must hold no
more env steps than it counts (a kill's episodes from after the checkpoint
are set aside). Prints and writes the counts.
"""
import argparse
import json
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import time


from vmail_tf import config as config_lib
from vmail_tf import episodes, precision
from vmail_tf.logger import drop_partial_last_line
from vmail_tf.trainer_base import checkpoint_counter, newest_readable, recorded_checkpoints

# Exact chunks (100 env steps = 50 agent steps), more updates per round than
# debug's 2, and an evaluation and checkpoint every round, so that kills
# land in collection, updates, evals and checkpoint writes.
OVERRIDES = ('--action_repeat', '2', '--train_steps', '10', '--eval_every', '100')
# The baselines' replay holds finished episodes: their prefill covers one (200 env steps).
METHOD_OVERRIDES = {'vmail': (), 'dac': ('--prefill', '200'), 'sqil': ('--prefill', '200')}


def run_settings(method):
    """(config blocks, overrides) of the crash-tested run of `method`."""
    blocks = ('dmc', 'cartpole') + (() if method == 'vmail' else (method,)) + ('debug',)
    return blocks, OVERRIDES + METHOD_OVERRIDES[method]


def command(blocks, overrides, logdir, steps, demo_cache):
    return [sys.executable, '-m', 'vmail_tf.train', '--configs', *blocks, *overrides,
            '--steps', str(steps), '--logdir', str(logdir), '--demo_cache', str(demo_cache)]


def checkpoint_counters(logdir):
    """(env step, update) of the newest readable checkpoint, the number of
    damaged checkpoints, or (None, None, damaged) when none is readable."""
    path, skipped = newest_readable(recorded_checkpoints(logdir / 'checkpoint'))
    if path is None:
        return None, None, len(skipped)
    return (checkpoint_counter(path, 'env_step'), checkpoint_counter(path, 'agent/step'),
            len(skipped))


def check_logdir(logdir):
    """What a kill left: counts of unreadable episodes, parse errors, and
    the newest readable checkpoint's counters."""
    bad_episodes = 0
    for path in episodes.list_files(logdir / 'train_episodes'):
        try:
            episodes.load(path)
        except Exception:
            bad_episodes += 1
    metrics = logdir / 'metrics.jsonl'
    drop_partial_last_line(metrics)
    bad_lines = 0
    if metrics.exists():
        for line in metrics.read_text().splitlines():
            try:
                json.loads(line)
            except json.JSONDecodeError:
                bad_lines += 1
    env_step, updates, damaged = checkpoint_counters(logdir)
    return {'unreadable_episodes': bad_episodes, 'bad_metric_lines': bad_lines,
            'damaged_checkpoints': damaged, 'env_step': env_step, 'updates': updates}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--method', choices=tuple(METHOD_OVERRIDES), default='vmail')
    parser.add_argument('--kills', type=int, default=20)
    parser.add_argument('--steps', type=int, default=1600)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--min_seconds', type=float, default=2.0)
    parser.add_argument('--max_seconds', type=float, default=25.0)
    parser.add_argument('--logdir', type=pathlib.Path, default=pathlib.Path('/tmp/vmail_crash'))
    parser.add_argument('--json', type=pathlib.Path)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    if args.logdir.exists():
        shutil.rmtree(args.logdir)
    logdir, demo_cache = args.logdir / 'run', args.logdir / 'demos'
    root = pathlib.Path(__file__).resolve().parent.parent
    blocks, overrides = run_settings(args.method)
    config = config_lib.merge(blocks, [(k[2:], v) for k, v in zip(overrides[::2], overrides[1::2])])
    run = command(blocks, overrides, logdir, args.steps, demo_cache)

    kills, newest_step, backwards = [], 0, 0
    for index in range(args.kills):
        process = subprocess.Popen(run, cwd=root,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        delay = rng.uniform(args.min_seconds, args.max_seconds)
        time.sleep(delay)
        finished = process.poll() is not None
        if not finished:
            os.killpg(process.pid, signal.SIGKILL)
        output = process.communicate()[0].decode(errors='replace')
        last = [line for line in output.splitlines() if line.startswith('step ')]
        result = check_logdir(logdir)
        if result['env_step'] is not None:
            backwards += result['env_step'] < newest_step
            newest_step = max(newest_step, result['env_step'])
        result.update(kill=index + 1, after_s=round(delay, 1), finished=finished,
                      last_progress=last[-1][:90] if last else '')
        kills.append(result)
        print(json.dumps(result), flush=True)
        if finished:
            break

    final = subprocess.run(run, cwd=root, capture_output=True, text=True)
    result = check_logdir(logdir)
    episode_steps = sum(episodes.env_steps(episodes.load(path), config.action_repeat)
                        for path in episodes.list_files(logdir / 'train_episodes'))
    rounds = (args.steps - config.prefill) // config.train_every + 1
    expected = rounds * config.train_steps
    summary = {
        'kills': sum(not k['finished'] for k in kills),
        'unreadable_episodes': sum(k['unreadable_episodes'] for k in kills),
        'bad_metric_lines': sum(k['bad_metric_lines'] for k in kills),
        'damaged_checkpoints_seen': sum(k['damaged_checkpoints'] for k in kills),
        'env_step_went_backwards': backwards,
        'final_returncode': final.returncode,
        'final_env_step': result['env_step'], 'final_updates': result['updates'],
        'expected_updates': expected, 'train_episode_env_steps': episode_steps,
        'method': args.method,
        'ok': bool(final.returncode == 0 and result['updates'] == expected
                   and result['env_step'] == args.steps and not backwards
                   and episode_steps <= args.steps
                   and not any(k['unreadable_episodes'] or k['bad_metric_lines'] for k in kills)),
        'cpu': precision.describe_cpu(),
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps({'summary': summary, 'kills': kills}, indent=2) + '\n')
    if final.returncode != 0:
        print(final.stdout[-2000:], final.stderr[-2000:], file=sys.stderr)
    sys.exit(0 if summary['ok'] else 1)


if __name__ == '__main__':
    main()
