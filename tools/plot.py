"""Plots evaluation return against env steps for several runs (Figure 4 style).

    python tools/plot.py --out curves.png --expert 787 \\
        --method V-MAIL logdir/dmc_cartpole_swingup/seed0 logdir/dmc_cartpole_swingup/seed1 \\
        --method BC logdir/dmc_cartpole_swingup/bc-seed0 logdir/dmc_cartpole_swingup/bc-seed1

Each --method names a line and the runs (seeds) averaged into it: the mean
and a ±1 sd band of `eval/return` from each run's metrics.jsonl, on the env
steps all its runs share. Runs that take no env steps (config.yaml says
method: bc or transfer) are drawn as a horizontal line at their mean final return.
--per_task: each run is a multi-task source run, and each of its source
tasks gets its own line ("NAME: task"), from eval/return/task<i>.
--expert draws a dashed line. A markdown table of each method's final
return (mean ± sd over its runs, at the last step they share) and mean wall
time to that step (from each log period's `fps`) is printed.
"""
import argparse
import pathlib
import sys

import numpy as np

from vmail_tf.run_metrics import (is_offline, percent_of_expert, read_returns, read_task_returns,
                                  read_wall_seconds)


def curve(runs):
    """Steps shared by all runs, and the mean and sd of their returns there."""
    shared = sorted(set.intersection(*(set(r) for r in runs)))
    values = np.array([[r[s] for s in shared] for r in runs])
    return np.array(shared), values.mean(0), values.std(0)


def final_returns(runs, offline):
    """Each run's return at the last step all runs share (at its own last
    evaluation when offline), and that step."""
    if offline:
        return np.array([r[max(r)] for r in runs]), max(max(r) for r in runs)
    steps, _, _ = curve(runs)
    if len(steps) == 0:
        raise ValueError('the runs share no evaluation step')
    return np.array([r[steps[-1]] for r in runs]), int(steps[-1])


def wall_time(walls, step):
    """The runs' mean wall time to `step` as h:mm, '–' if one did not log it."""
    if not walls or any(step not in w for w in walls):
        return '–'
    minutes = round(np.mean([w[step] for w in walls]) / 60)
    return f'{minutes // 60}:{minutes % 60:02d} h'


def summary_table(methods, expert=None, offline=(), walls=None):
    """Markdown rows: method, runs, final return mean ± sd, % of expert,
    steps, and the mean wall time to that step (`walls`: {name: [the
    read_wall_seconds of each run]})."""
    lines = ['| method | runs | final return | % of expert | at | wall time |',
             '|---|---|---|---|---|---|']
    for name, runs in methods.items():
        final, step = final_returns(runs, name in offline)
        share = percent_of_expert(final.mean(), expert) or '–'
        unit = 'updates' if name in offline else 'env steps'
        # an sd over one run would read as "no spread"; there is no estimate
        spread = f' ± {final.std():.1f}' if len(runs) > 1 else ''
        lines.append(f'| {name} | {len(runs)} | {final.mean():.1f}{spread} '
                     f'| {share} | {step} {unit} | {wall_time((walls or {}).get(name), step)} |')
    return '\n'.join(lines)


def seeds(runs):
    return f'{len(runs)} seed' + ('s' if len(runs) > 1 else '')


def plot(methods, out, expert=None, title='', offline=()):
    """methods: {name: [returns of each run]}; `offline` names horizontal lines."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for index, (name, runs) in enumerate(methods.items()):
        color = f'C{index}'
        if name in offline:
            final, _ = final_returns(runs, offline=True)
            ax.axhline(final.mean(), color=color, linestyle='-.',
                       label=f'{name} ({seeds(runs)}, no env steps)')
            ax.axhspan(final.mean() - final.std(), final.mean() + final.std(),
                       color=color, alpha=0.15)
            continue
        steps, mean, sd = curve(runs)
        if len(steps) == 0:
            raise ValueError(f'the runs of {name} share no evaluation step')
        ax.plot(steps, mean, color=color, label=f'{name} ({seeds(runs)})')
        ax.fill_between(steps, mean - sd, mean + sd, color=color, alpha=0.2)
    if expert is not None:
        ax.axhline(expert, color='black', linestyle='--', label='expert')
    ax.set_xlabel('env steps')
    ax.set_ylabel('eval return')
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def task_lines(name, logdirs):
    """{'NAME: task': [returns of each run]} for multi-task runs that share
    their source tasks."""
    per_run = [read_task_returns(d) for d in logdirs]
    if any(list(tasks) != list(per_run[0]) for tasks in per_run):
        raise ValueError(f'the runs of {name} have different source tasks: '
                         + '; '.join(f'{d}: {",".join(t)}' for d, t in zip(logdirs, per_run)))
    return {f'{name}: {task}': [tasks[task] for tasks in per_run] for task in per_run[0]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--method', nargs='+', action='append', required=True,
                        metavar=('NAME', 'LOGDIR'), help='a line: its name, then its runs')
    parser.add_argument('--out', required=True, type=pathlib.Path)
    parser.add_argument('--expert', type=float, help='expert return (dashed line)')
    parser.add_argument('--title', default='')
    parser.add_argument('--per_task', action='store_true',
                        help="a line per source task of multi-task runs")
    args = parser.parse_args(argv)
    methods, walls, offline = {}, {}, set()
    for name, *logdirs in args.method:
        if not logdirs:
            parser.error(f'--method {name} names no runs')
        try:
            run_walls = [read_wall_seconds(d) for d in logdirs]
            lines = task_lines(name, logdirs) if args.per_task \
                else {name: [read_returns(d) for d in logdirs]}
            methods.update(lines)
            walls.update({line: run_walls for line in lines})
        except (FileNotFoundError, ValueError) as e:
            sys.exit(f'error: {e}')
        if all(is_offline(d) for d in logdirs):
            offline.update(lines)
    plot(methods, args.out, args.expert, args.title, offline)
    print(f'wrote {args.out}')
    print(summary_table(methods, args.expert, offline, walls))


if __name__ == '__main__':
    main()
