"""dm_control and D'Claw tasks on true states, with no renderer: for
training and evaluating experts.

Sets MUJOCO_GL=disable before dm_control is imported, so TensorFlow can share
the process (only the renderer clashes with it).
"""
import os
import sys

import numpy as np


def flatten_state(obs):
    """The state vector of an observation dict: every key but `image`, in
    sorted order, flattened. Pixel-env observations give the same vector."""
    return np.concatenate([np.asarray(obs[k], np.float32).reshape(-1)
                           for k in sorted(obs) if k != 'image'])


def make_state_env(task, action_repeat, time_limit, seed):
    """A dmc or claw env without rendering: observations are its state vectors."""
    if 'dm_control' in sys.modules and os.environ.get('MUJOCO_GL') != 'disable':
        raise RuntimeError(
            'dm_control was imported with a renderer before make_state_env; '
            'TensorFlow and the renderer cannot share a process')
    os.environ['MUJOCO_GL'] = 'disable'
    suite_name, _, name = task.partition('_')
    if suite_name == 'claw':
        from vmail_tf.envs.claw import ClawEnv
        return ClawEnv(task, action_repeat=action_repeat, time_limit=time_limit, seed=seed)
    if suite_name != 'dmc':
        raise ValueError(f'state experts support dmc and claw tasks, not `{task}`')
    from vmail_tf.envs.dmc import DMCEnv
    return DMCEnv(name, action_repeat=action_repeat, time_limit=time_limit, seed=seed)


def state_size(env):
    return int(sum(np.prod(shape) for shape, _ in env.obs_spec.values()))


def evaluate_on_states(policy, config, episodes, seed):
    """Mean and sd of the return of `policy(obs dict)` over `episodes` on
    true states (no rendering)."""
    returns = []
    for i in range(episodes):
        env = make_state_env(config.task, config.action_repeat, config.time_limit, seed + i)
        obs, total, done = env.reset(), 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            total += reward
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns)), float(np.std(returns))
