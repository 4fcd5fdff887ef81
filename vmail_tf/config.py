"""Named config blocks from configs.yaml, merged and overridden from the CLI.

The type of every key is the type of its value in `defaults`; a flag or block
that names an unknown key, or gives a value of the wrong type, is an error.
"""
import argparse
import difflib
import pathlib

from ruamel.yaml import YAML

CONFIGS_PATH = pathlib.Path(__file__).resolve().parent.parent / 'configs.yaml'

# Keys whose value must be one of a fixed set.
CHOICES = {
    'method': ('vmail', 'multitask', 'transfer', 'bc', 'dac', 'sqil'),
    'precision': ('32', '16', 'bf16', 'auto'),
    'image_size': (64, 128),
    'render_backend': ('egl', 'osmesa'),
    'model_data': ('pooled', 'fraction'),
    'disc_reward': ('prob', 'log', 'logit'),
    'disc_penalty': ('params', 'input', 'none'),
}

# Keys whose value is a comma-separated list of some of a fixed set.
LIST_CHOICES = {
    'float32_modules': ('encoder', 'rssm', 'decoder', 'discriminator', 'actor', 'value'),
}


# Keys with a smallest allowed value.
MINIMUM = {'threads': 0}


class ConfigError(ValueError):
    pass


class Config(dict):
    """A dict whose keys are also attributes, read-only by convention."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def read_yaml(path):
    with open(path) as f:
        return YAML(typ='safe', pure=True).load(f)


# Top-level sections of configs.yaml that hold the blocks of another tool.
SECTIONS = ('expert_sac',)


def load_blocks(section=None, path=CONFIGS_PATH):
    """The config blocks of V-MAIL training, or of another tool's `section`."""
    blocks = read_yaml(path)
    if section is not None:
        blocks = blocks.get(section) if isinstance(blocks, dict) else None
    elif isinstance(blocks, dict):
        blocks = {k: v for k, v in blocks.items() if k not in SECTIONS}
    if not isinstance(blocks, dict) or 'defaults' not in blocks:
        where = f' section `{section}`' if section else ''
        raise ConfigError(f'{path}{where}: expected a mapping with a `defaults` block')
    return blocks


def _unknown_key(key, known, where):
    close = difflib.get_close_matches(key, known, n=3)
    hint = f'; did you mean {", ".join(close)}?' if close else ''
    return ConfigError(f'unknown config key `{key}` in {where}{hint}')


def coerce(key, value, default):
    """Returns `value` converted to the type of `default`, or raises."""
    kind = type(default)
    if isinstance(value, str) and kind is not str:
        value = _parse_scalar(value)
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # YAML and the command line read `32` as a number
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(
            f'config key `{key}` expects {kind.__name__}, got {value!r}')
    if key in CHOICES and value not in CHOICES[key]:
        allowed = ', '.join(str(c) for c in CHOICES[key])
        raise ConfigError(
            f'config key `{key}` must be one of {allowed}; got {value!r}')
    if key in MINIMUM and value < MINIMUM[key]:
        raise ConfigError(f'config key `{key}` must be at least {MINIMUM[key]}; got {value!r}')
    if key in LIST_CHOICES:
        unknown = [v for v in split_list(value) if v not in LIST_CHOICES[key]]
        if unknown:
            raise ConfigError(f'config key `{key}`: unknown {", ".join(unknown)}; expected a '
                              f'comma-separated list of {", ".join(LIST_CHOICES[key])}')
    return value


def split_list(value):
    """The items of a comma-separated config value."""
    return [item.strip() for item in value.split(',') if item.strip()]


def _parse_scalar(text):
    lowered = text.lower()
    if lowered in ('true', 'false'):
        return lowered == 'true'
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    return text


def merge(names, overrides=(), blocks=None):
    """Merges `defaults` with the named blocks, then `overrides` (key, value)."""
    blocks = blocks if blocks is not None else load_blocks()
    defaults = blocks['defaults']
    config = dict(defaults)
    for name in names:
        if name not in blocks:
            close = difflib.get_close_matches(name, list(blocks), n=3)
            hint = f'; did you mean {", ".join(close)}?' if close else ''
            raise ConfigError(
                f'unknown config block `{name}` (blocks: '
                f'{", ".join(b for b in blocks if b != "defaults")}){hint}')
        for key, value in blocks[name].items():
            if key not in defaults:
                raise _unknown_key(key, defaults, f'block `{name}`')
            config[key] = coerce(key, value, defaults[key])
    for key, value in overrides:
        if key not in defaults:
            raise _unknown_key(key, defaults, 'the command line')
        config[key] = coerce(key, value, defaults[key])
    for key, value in config.items():
        coerce(key, value, defaults[key])
    config['logdir'] = str(pathlib.Path(config['logdir'].format(
        task=config['task'], seed=config['seed'])).expanduser())
    return Config(config)


def parse_args(argv, description='', blocks=None, prog=None):
    """Parses `--configs a b --key value ...` into a Config."""
    blocks = blocks if blocks is not None else load_blocks()
    defaults = blocks['defaults']
    parser = argparse.ArgumentParser(
        prog=prog, description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='config keys (defaults from configs.yaml):\n' + '\n'.join(
            f'  --{key} {value!r}' for key, value in defaults.items()))
    parser.add_argument(
        '--configs', nargs='+', default=[],
        help=f'config blocks to merge, left to right: '
             f'{", ".join(b for b in blocks if b != "defaults")}')
    known, rest = parser.parse_known_args(argv)
    overrides = []
    i = 0
    while i < len(rest):
        flag = rest[i]
        if not flag.startswith('--'):
            parser.error(f'expected a --key, got {flag!r}')
        key, _, value = flag[2:].partition('=')
        if not _:
            if i + 1 >= len(rest):
                parser.error(f'flag --{key} needs a value')
            value = rest[i + 1]
            i += 1
        overrides.append((key, value))
        i += 1
    try:
        return merge(known.configs, overrides, blocks)
    except ConfigError as e:
        parser.exit(2, f'error: {e}\n')


def load_run_config(logdir):
    """The config a run in `logdir` was started with (its config.yaml), with
    that logdir."""
    path = pathlib.Path(logdir) / 'config.yaml'
    if not path.exists():
        raise FileNotFoundError(f'{path} does not exist: is {logdir} a vmail_tf run?')
    saved = read_yaml(path) or {}
    blocks = load_blocks()
    unknown = [k for k in saved if k not in blocks['defaults']]
    if unknown:
        raise ConfigError(f'{path}: unknown keys {unknown}')
    return merge([], [(k, v) for k, v in saved.items() if k != 'logdir'] +
                 [('logdir', str(logdir))], blocks)


def save(config, path):
    yaml = YAML(typ='safe', pure=True)
    yaml.default_flow_style = False
    path = pathlib.Path(path)
    tmp = path.with_suffix('.tmp')
    try:
        with open(tmp, 'w') as f:
            yaml.dump(dict(config), f)
        tmp.replace(path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f'cannot write {path}: {e.strerror or e}') from e
