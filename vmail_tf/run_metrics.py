"""Reading a finished or running run's results: its eval returns and wall
time from metrics.jsonl, and what its steps count (env steps or updates)."""
import json
import pathlib

from vmail_tf import config as config_lib

# Methods that learn without stepping the env: their `step` counts updates.
OFFLINE_METHODS = ('bc', 'transfer')


def _records(logdir):
    """The JSON records of a run's metrics.jsonl, in order."""
    path = pathlib.Path(logdir) / 'metrics.jsonl'
    if not path.exists():
        raise FileNotFoundError(f'{path} does not exist')
    with open(path) as f:
        for number, line in enumerate(f, 1):
            try:
                yield json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}:{number}: not JSON: {e}') from None


def read_returns(logdir, key='eval/return'):
    """{step: eval return} from a run's metrics.jsonl (`key`: another
    logged return, e.g. a multi-task run's eval/return/task1)."""
    returns = {int(r['step']): float(r[key]) for r in _records(logdir) if key in r}
    if not returns:
        raise ValueError(f'{pathlib.Path(logdir) / "metrics.jsonl"} holds no {key} lines')
    return returns


def read_task_returns(logdir):
    """{source task: {step: eval return}} of a multi-task source run, in the
    order of its config's `source_tasks` (logged as eval/return/task<i>)."""
    path = pathlib.Path(logdir) / 'config.yaml'
    if not path.exists():
        raise FileNotFoundError(f'{path} does not exist')
    tasks = (config_lib.read_yaml(path) or {}).get('source_tasks')
    if not tasks:
        raise ValueError(f'{path} names no source_tasks: {logdir} is not a multi-task run')
    return {task: read_returns(logdir, f'eval/return/task{i}')
            for i, task in enumerate(config_lib.split_list(tasks))}


def read_wall_seconds(logdir):
    """{step: wall seconds from the start of the run to that log}, from the
    `fps` of each log period (its steps over its seconds: collection,
    updates, logging, and the previous period's video and evaluation). A
    resumed run's repeated steps count once, as the resumed pass logged
    them, so this is the time of a run that was never stopped."""
    period = {}
    for record in _records(logdir):
        if record.get('fps', 0) > 0:
            step = int(record['step'])
            earlier = [s for s in period if s < step]
            period[step] = (step - max(earlier, default=0)) / record['fps']
    total, elapsed = 0.0, {}
    for step in sorted(period):
        total += period[step]
        elapsed[step] = total
    return elapsed


def is_offline(logdir):
    """Whether the run learned without env steps (behaviour cloning, transfer)."""
    path = pathlib.Path(logdir) / 'config.yaml'
    return path.exists() and \
        (config_lib.read_yaml(path) or {}).get('method') in OFFLINE_METHODS


def percent_of_expert(value, expert, digits=0):
    """'93 %' for a return as a share of the expert's; None when the
    expert's return is missing or not positive (a share of a negative
    return, as Baoding's, reads backwards)."""
    if expert is None or expert <= 0:
        return None
    return f'{100 * value / expert:.{digits}f} %'
