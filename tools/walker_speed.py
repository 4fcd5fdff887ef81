"""How fast a walker policy moves, on true states: what the return of the
speed-band task (walk at 2-4 m/s, `walker_band`) does not show by itself.

    python tools/walker_speed.py --expert vmail_tf/experts/weights/dmc_walker_walk.npz \\
        --configs dmc walker_band [--episodes 5] [--json speeds.json]

Runs the expert weights on the configs' walker task, whatever task they were
trained for, and gives for each episode the mean horizontal speed (m/s, after
each agent step), the share of agent steps inside the 2-4 m/s band and the
return.
"""
import argparse
import json
import os
import pathlib

import numpy as np

from vmail_tf import config as config_lib
from vmail_tf.experts.mlp_policy import MLPPolicy
from vmail_tf.experts.state_env import make_state_env
from vmail_tf.seeds import env_seed


def band_share(speeds, band):
    """Share of `speeds` inside `band` (low, high; bounds included)."""
    speeds = np.asarray(speeds)
    return float(np.mean((speeds >= band[0]) & (speeds <= band[1])))


def measure(policy, config, episodes, seed, band):
    """One record per episode: mean speed, share of steps in `band`, return."""
    records = []
    for i in range(episodes):
        env = make_state_env(config.task, config.action_repeat, config.time_limit, seed + i)
        obs, total, done, speeds = env.reset(), 0.0, False, []
        while not done:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            speeds.append(float(env.physics.horizontal_velocity()))
            total += reward
            done = terminated or truncated
        records.append({'mean_speed': round(float(np.mean(speeds)), 3),
                        'band_share': round(band_share(speeds, band), 3),
                        'return': round(total, 1)})
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--expert', required=True, help='expert weights .npz')
    parser.add_argument('--episodes', type=int, default=5)
    parser.add_argument('--json', default='', help='also write the result as JSON')
    args, rest = parser.parse_known_args()
    config = config_lib.parse_args(rest)
    if not config.task.startswith('dmc_walker_'):
        parser.error(f'--configs give {config.task}; expected a walker task (dmc_walker_...)')
    os.environ['MUJOCO_GL'] = 'disable'  # walker_band imports dm_control: no renderer
    from vmail_tf.envs.walker_band import SPEED_BAND
    policy = MLPPolicy.load(args.expert)
    records = measure(policy, config, args.episodes, env_seed('expert_check', 0), SPEED_BAND)
    speeds = [r['mean_speed'] for r in records]
    summary = {'expert': args.expert, 'trained_for': policy.task, 'task': config.task,
               'band': list(SPEED_BAND), 'episodes': records,
               'mean_speed': round(float(np.mean(speeds)), 3),
               'band_share': round(float(np.mean([r['band_share'] for r in records])), 3),
               'mean_return': round(float(np.mean([r['return'] for r in records])), 1)}
    print(f"{args.expert} (trained for {policy.task}) on {config.task}: mean speed "
          f"{summary['mean_speed']:.2f} m/s (episodes {', '.join(f'{s:.2f}' for s in speeds)}), "
          f"{100 * summary['band_share']:.0f} % of steps at {SPEED_BAND[0]:g}-{SPEED_BAND[1]:g} m/s, "
          f"return {summary['mean_return']:.1f}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(summary, indent=2) + '\n')


if __name__ == '__main__':
    main()
