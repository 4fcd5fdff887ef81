"""Reading a finished or running run's results: its eval returns from
metrics.jsonl and what its steps count (env steps or updates)."""
import json
import pathlib

from vmail_tf import config as config_lib

# Methods that learn without stepping the env: their `step` counts updates.
OFFLINE_METHODS = ('bc', 'transfer')


def read_returns(logdir):
    """{step: eval return} from a run's metrics.jsonl."""
    path = pathlib.Path(logdir) / 'metrics.jsonl'
    if not path.exists():
        raise FileNotFoundError(f'{path} does not exist')
    returns = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}:{number}: not JSON: {e}') from None
            if 'eval/return' in record:
                returns[int(record['step'])] = float(record['eval/return'])
    if not returns:
        raise ValueError(f'{path} holds no eval/return lines')
    return returns


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
