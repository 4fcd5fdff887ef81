"""Expert demonstrations: the built-in scripted experts, recording them in the
pixel env, and finding the expert folder a run should read."""
import hashlib
import json
import logging
import pathlib
import shutil
import sys
import time
import uuid

import numpy as np

from vmail_tf import episodes as episodes_lib
from vmail_tf.driver import make_driver
from vmail_tf.experts import WEIGHTS_DIR
from vmail_tf.experts.baoding import BaodingExpert
from vmail_tf.experts.car_racing import TrackFollower
from vmail_tf.experts.cartpole import CartpoleSwingup
from vmail_tf.experts.mlp_policy import MLPPolicy
from vmail_tf.experts.reaching import PointMassToTarget, ReacherToTarget

log = logging.getLogger(__name__)

ENVS_DIR = pathlib.Path(__file__).resolve().parent / 'envs'


def _trained_expert(task):
    """A factory for the shipped SAC weights of `task` (weights/<task>.npz)."""
    def make(config):
        policy = MLPPolicy.load(WEIGHTS_DIR / f'{task}.npz')
        if policy.action_repeat != config.action_repeat:
            raise DemoError(
                f'the shipped expert for {task} acts every {policy.action_repeat} '
                f'env steps; this run has action_repeat {config.action_repeat}. '
                f'Pass --expert_dir with demos recorded at this action repeat')
        return policy
    return make


def _scripted(expert_class, *config_keys):
    """A factory for a scripted expert built from these config values."""
    def make(config):
        return expert_class(*(config[key] for key in config_keys))
    make.expert_class = expert_class
    return make


# Tasks with an expert that ships with the package: task -> factory(config).
BUILTIN_EXPERTS = {
    'dmc_cartpole_swingup': _scripted(CartpoleSwingup, 'action_repeat'),
    'dmc_point_mass_easy': _scripted(PointMassToTarget),
    'dmc_reacher_easy': _scripted(ReacherToTarget),
    **{f'dmc_reacher_goal{i}': _scripted(ReacherToTarget) for i in range(4)},
    'car_racing': _scripted(TrackFollower),
    'baoding': _scripted(BaodingExpert),
    **{path.stem: _trained_expert(path.stem) for path in sorted(WEIGHTS_DIR.glob('*.npz'))},
}


class DemoError(RuntimeError):
    pass


def expert_digest(task):
    """(kind, digest) of the built-in expert of `task`: 'sac' and a short hash
    of its shipped weights, or 'scripted' and a hash of its module's source
    (None if the task has no scripted expert); either hash also covers the
    source of the env package (`vmail_tf/envs`). It tells demos of a changed
    expert, or of changed pixels, dynamics or rewards, from demos cached
    before the change."""
    weights = WEIGHTS_DIR / f'{task}.npz'
    if weights.exists():
        return 'sac', _short_hash(weights.read_bytes())
    expert_class = getattr(BUILTIN_EXPERTS.get(task), 'expert_class', None)
    if expert_class is None:
        return 'scripted', None
    source = pathlib.Path(sys.modules[expert_class.__module__].__file__).read_bytes()
    return 'scripted', _short_hash(source)


def _short_hash(expert):
    envs = b''.join(path.read_bytes() for path in sorted(ENVS_DIR.glob('*.py')))
    return hashlib.sha256(expert + envs).hexdigest()[:10]


def builtin_expert_name(task):
    kind, digest = expert_digest(task)
    return f'{kind}:{task}' if digest is None else f'{kind}:{task}:{digest}'


def cache_dir(config):
    """The folder for a task's built-in demos under `demo_cache`: its name
    carries the expert and every env setting that changes the pixels or the
    dynamics."""
    render = 'fastrender' if config.fast_render else 'fullrender'
    kind, digest = expert_digest(config.task)
    name = (f'{config.task}-repeat{config.action_repeat}-{config.image_size}px-'
            f'limit{config.time_limit}-camera{config.camera}-{render}-'
            f'{config.num_demos}eps-{kind}{digest or ""}')
    return pathlib.Path(config.demo_cache).expanduser() / name


def record(expert, config, directory, num_episodes, name='expert'):
    """Runs `expert(obs) -> action` in the pixel env and writes `num_episodes`
    episode files plus demos.json into `directory`. Returns the returns."""
    directory = pathlib.Path(directory)
    driver = make_driver(config, 'demos')
    returns = []
    start = time.time()
    try:
        while len(returns) < num_episodes:
            single = lambda obs, _: expert({k: v[0] for k, v in obs.items()})[None]
            _, finished = driver.run(single, episodes=1)
            for episode in finished:
                episodes_lib.save(directory, episode)
                returns.append(episodes_lib.episode_return(episode))
                print(f'  demo {len(returns)}/{num_episodes}: return '
                      f'{returns[-1]:.1f} ({time.time() - start:.0f} s)',
                      file=sys.stderr, flush=True)
    finally:
        driver.close()
    info = {
        'task': config.task, 'expert': name, 'returns': returns,
        'mean_return': float(np.mean(returns)),
        'fast_render': config.fast_render, 'image_size': config.image_size,
        'action_repeat': config.action_repeat, 'time_limit': config.time_limit,
        'camera': config.camera,
    }
    (directory / 'demos.json').write_text(json.dumps(info, indent=2) + '\n')
    return returns


def resolve_expert_dir(config):
    """The expert folder of a run: `expert_dir` if given, else the cached
    built-in demos of the task, recorded on first use."""
    if config.expert_dir:
        path = expert_folder(config)
        if not path.is_dir():
            raise DemoError(f'expert_dir {path} is not a directory')
        return path
    if config.task not in BUILTIN_EXPERTS:
        raise DemoError(
            f'no --expert_dir given and task `{config.task}` has no built-in '
            f'expert (built-in: {", ".join(BUILTIN_EXPERTS)}). Pass '
            f'--expert_dir DIR with a folder of expert episodes (*.npz, format '
            f'in the README), recorded with the same env settings as this run.')
    target = cache_dir(config)
    if (target / 'demos.json').exists():
        return target
    print(f'Recording {config.num_demos} built-in expert demos for '
          f'{config.task} into {target} (once; reused afterwards)',
          file=sys.stderr, flush=True)
    partial = target.with_name(f'.{target.name}.partial-{uuid.uuid4().hex[:8]}')
    try:
        record(BUILTIN_EXPERTS[config.task](config), config, partial,
               config.num_demos, name=builtin_expert_name(config.task))
        publish_recording(partial, target)
    finally:
        if partial.exists():
            shutil.rmtree(partial)
    return target


def publish_recording(partial, target):
    """Move a finished recording into place. Runs started together (two
    seeds) each record; the first to finish publishes, the others keep its
    demos so that every run reads the same ones."""
    try:
        partial.rename(target)
    except OSError:
        if not (target / 'demos.json').exists():
            raise DemoError(f'cannot move the recorded demos into {target}: it exists '
                            f'without a demos.json; move it away and run again') from None
        print(f'{target} was recorded meanwhile by another run; using it',
              file=sys.stderr, flush=True)
        shutil.rmtree(partial)


def load_folder(directory):
    """Loads the episodes of `directory`. Returns (loaded [(path, episode)],
    problems [message]): the files that cannot be loaded, or a folder with
    no episodes at all."""
    directory = pathlib.Path(directory)
    failures = []
    loaded = episodes_lib.load_directory(directory, failures=failures, quiet=True)
    problems = [f'{path}: cannot be loaded: {error}' for path, error in failures]
    if not loaded and not failures:
        present = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
        shown = ', '.join(present[:5]) + (' ...' if len(present) > 5 else '')
        problems.append(f'expert folder {directory} holds no loadable *.npz episodes'
                        + (f' (it holds: {shown})' if present else ' (it is empty)'))
    return loaded, problems


def check_folder(directory, config, action_size):
    """Loads the expert episodes of `directory` and checks them for a run
    with `config` and `action_size`. Returns (loaded [(path, episode)],
    problems [message]): the folder serves the run only when there are no
    problems; every problem of every file is listed."""
    directory = pathlib.Path(directory)
    loaded, problems = load_folder(directory)
    info_path = directory / 'demos.json'
    if info_path.exists():
        info = json.loads(info_path.read_text())
        if 'task' in info and info['task'] != config.task:
            problems.append(f'{info_path}: demos of task {info["task"]}, this run\'s task is '
                            f'{config.task}; pass the folder of {config.task}\'s demos')
        for key in ('fast_render', 'action_repeat', 'image_size', 'camera'):
            if key in info and info[key] != config[key]:
                problems.append(
                    f'{info_path}: demos were recorded with {key}={info[key]}, '
                    f'this run has {key}={config[key]}; record demos with the '
                    f'run\'s env settings or change --{key}')
    size = config.image_size
    for path, episode in loaded:
        image, action = episode['image'], episode['action']
        if image.shape[1:] != (size, size, 3):
            problems.append(
                f'{path}: `image` is {image.dtype} {image.shape[1:]}, expected '
                f'uint8 ({size}, {size}, 3) for image_size {size}')
        if action.ndim != 2 or action.shape[1] != action_size:
            problems.append(
                f'{path}: `action` has shape {action.shape}, expected '
                f'(length, {action_size}) for task {config.task}')
        if len(action) < config.batch_length + 1:
            problems.append(
                f'{path}: {len(action)} entries, fewer than batch_length + 1 = '
                f'{config.batch_length + 1}')
    return loaded, problems


def load_experts(directory, config, action_size):
    """The expert episodes of `directory`, all of them checked for this run;
    DemoError if any file has a problem (a folder is never half-accepted)."""
    loaded, problems = check_folder(directory, config, action_size)
    if problems:
        more = (f' (and {len(problems) - 1} more; see python -m '
                f'vmail_tf.check_demos {directory})' if len(problems) > 1 else '')
        raise DemoError(problems[0] + more)
    return [episode for _, episode in loaded]


def expert_episodes(config, action_size, record=True):
    """The one way in to a run's demonstrations: resolves its expert folder
    (`expert_dir`, or the built-in demos, recorded first if missing and
    `record`), loads it and checks it for the run. Returns (folder, episodes)."""
    if record:
        folder = resolve_expert_dir(config)
    else:
        folder = expert_folder(config)
        if not folder.is_dir():
            raise DemoError(f'no demos at {folder}; a training run with these configs '
                            f'records the built-in ones, or pass --expert_dir')
    return folder, load_experts(folder, config, action_size)


def expert_folder(config):
    """Where a run's demonstrations are: `expert_dir`, else the built-in
    demos' cache folder (which may not be recorded yet)."""
    if config.expert_dir:
        return pathlib.Path(config.expert_dir).expanduser()
    return cache_dir(config)


def load_expert_policy(spec, config):
    """The policy named by `spec` ('builtin', or a weights .npz of a SAC
    expert) for this config's task and action repeat, and its name."""
    if spec == 'builtin':
        if config.task not in BUILTIN_EXPERTS:
            raise DemoError(
                f'task {config.task} has no built-in expert (built-in: '
                f'{", ".join(BUILTIN_EXPERTS)}); pass --expert policy.npz')
        return BUILTIN_EXPERTS[config.task](config), builtin_expert_name(config.task)
    path = pathlib.Path(spec)
    if not path.is_file():
        raise DemoError(f'--expert {spec}: expected `builtin` or an expert weights file')
    policy = MLPPolicy.load(path)
    if policy.task != config.task or policy.action_repeat != config.action_repeat:
        raise DemoError(
            f'{path} was trained for {policy.task} with action_repeat '
            f'{policy.action_repeat}; the configs give {config.task} with '
            f'action_repeat {config.action_repeat}')
    return policy, str(path)


def expert_return(config):
    """Mean return of the run's expert episodes, or None if there are none."""
    loaded = episodes_lib.load_directory(expert_folder(config))
    if not loaded:
        return None
    return float(np.mean([episodes_lib.episode_return(e) for _, e in loaded]))
