"""The paper's Table 1 from real runs: each method's final return on the
target task as a share of the target expert's return.

    python tools/transfer_table.py --expert TARGET/demos.json \\
        --runs 'V-MAIL transfer' RUN [RUN ...] \\
        --runs 'BC' RUN [RUN ...] \\
        --evals 'policy transfer' EVAL.json [EVAL.json ...] \\
        --runs 'V-MAIL (oracle)' RUN [RUN ...] [--oracle 'V-MAIL (oracle)'] [--out table.md]

--runs: runs (one per seed) whose metrics.jsonl holds eval/return; a run
counts with its last evaluation. --evals: results of
`python -m vmail_tf.evaluate --json` (e.g. a source policy run on the
target task with --task). --expert: a number, or a demos.json (its
mean_return). --oracle: a row's name; each row's mean as a share of that
row's gets a column too. Rows keep the order given; the table is printed
and, with --out, written.
"""
import argparse
import json
import pathlib
import sys

import numpy as np

from vmail_tf.run_metrics import is_offline, percent_of_expert, read_returns


class AddRow(argparse.Action):
    """Appends (kind, name, paths) to `rows`, keeping the order given."""

    def __call__(self, parser, namespace, values, option_string=None):
        name, *paths = values
        if not paths:
            parser.error(f'{option_string} {name} names no files')
        namespace.rows = (namespace.rows or []) + [(option_string, name, paths)]


def expert_return(spec):
    """A number, or the mean_return of a demos.json."""
    try:
        return float(spec)
    except ValueError:
        pass
    path = pathlib.Path(spec)
    if not path.exists():
        raise FileNotFoundError(f'--expert {spec}: neither a number nor an existing file')
    record = json.loads(path.read_text())
    if 'mean_return' not in record:
        raise ValueError(f'{path} has no `mean_return` (expected a demos.json)')
    return float(record['mean_return'])


def run_result(logdir):
    """(last eval return, where it was taken) of one run."""
    returns = read_returns(logdir)
    step = max(returns)
    unit = 'updates' if is_offline(logdir) else 'env steps'
    return returns[step], f'{step} {unit}'


def eval_result(path):
    """(return, what it was) from an `evaluate --json` file."""
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f'{path} does not exist')
    record = json.loads(path.read_text())
    missing = [k for k in ('return', 'episodes', 'task') if k not in record]
    if missing:
        raise ValueError(f'{path} lacks {missing}: not written by vmail_tf.evaluate --json')
    return float(record['return']), f"{record['episodes']} episodes on {record['task']}"


def table(rows, expert, oracle=None):
    """Markdown: method, runs, return mean ± sd (sd only over two or more),
    % of the expert, % of the row named `oracle` (if given), and where each
    value was taken."""
    read_rows = []
    for kind, name, paths in rows:
        read = run_result if kind == '--runs' else eval_result
        results = [read(p) for p in paths]
        read_rows.append((name, np.array([value for value, _ in results]),
                          ', '.join(sorted({w for _, w in results}))))
    means = {name: values.mean() for name, values, _ in read_rows}
    if oracle is not None and oracle not in means:
        raise ValueError(f'--oracle {oracle!r} names no row (rows: {", ".join(means)})')
    oracle_head = f' % of {oracle} |' if oracle else ''
    lines = [f'| method | runs | return | % of expert ({expert:.1f}) |{oracle_head} taken at |',
             '|---|---|---|---|' + ('---|' if oracle else '') + '---|']
    for name, values, where in read_rows:
        spread = f' ± {values.std():.1f}' if len(values) > 1 else ''
        share = (f" {percent_of_expert(values.mean(), means[oracle]) or '–'} |"
                 if oracle else '')
        lines.append(f'| {name} | {len(values)} | {values.mean():.1f}{spread} '
                     f"| {percent_of_expert(values.mean(), expert) or '–'} |{share} {where} |")
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--expert', required=True,
                        help="the target expert's return, or its demos.json")
    for flag, what in (('--runs', 'LOGDIR'), ('--evals', 'EVAL_JSON')):
        parser.add_argument(flag, nargs='+', action=AddRow, dest='rows',
                            metavar=('NAME', what), help=f'a row: its name, then its {what}s')
    parser.add_argument('--oracle', metavar='NAME',
                        help="a row's name: add each row's share of its return")
    parser.add_argument('--out', type=pathlib.Path, help='also write the table here')
    args = parser.parse_args(argv)
    if not args.rows:
        parser.error('give at least one --runs or --evals row')
    try:
        text = table(args.rows, expert_return(args.expert), args.oracle)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    print(text)
    if args.out:
        args.out.write_text(text + '\n')
        print(f'wrote {args.out}')
    return text


if __name__ == '__main__':
    main()
