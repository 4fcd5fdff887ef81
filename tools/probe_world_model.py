"""Diagnoses how fast a world model learns to reconstruct a fixed dataset.

    python tools/probe_world_model.py --episodes RUN/train_episodes \\
        --updates 3000 --every 500 --out probe-cpu --configs dmc cartpole cpu
    python tools/probe_world_model.py --episodes RUN/train_episodes \\
        --updates 3000 --every 500 --out probe-big --configs dmc cartpole cpu --cnn_depth 32

Trains a fresh world model alone (the agent's own update) on the agent
episodes of `--episodes` and the run's expert demos, and keeps the last
`--holdout` episodes of each aside. Every `--every` updates it prints the
posterior reconstruction error of the held-out agent and expert episodes
(squared error summed over a frame's pixels, in [0, 1] units) and the
seconds spent in updates (the first one builds the graph), appends them to
OUT/probe.jsonl, and saves an open-loop prediction of held-out agent windows
as OUT/openloop-<update>.png (rows truth, model, error; five frames from
frame 2 to the last; frames 0-4 are observed, the rest imagined). Config
keys after the probe's own flags work as in training (`--configs ...
--key value`), so two settings can be compared on the same data and clock.

Imports TensorFlow only inside main(): env workers re-import this script.
"""
import argparse
import json
import pathlib
import sys
import time

import numpy as np


def split_holdout(episodes, holdout, what):
    """(train, held out): the last `holdout` episodes are held out."""
    if len(episodes) <= holdout:
        raise ValueError(f'{len(episodes)} {what} episodes: need more than '
                         f'--holdout {holdout} to keep some for training')
    return episodes[:-holdout], episodes[-holdout:]


def frame_error(truth, recon):
    """Squared error summed over each frame's pixels, averaged over frames;
    `truth` uint8, `recon` in [-0.5, 0.5] like the decoder's mean."""
    from vmail_tf.agent import preprocess
    from vmail_tf.losses import image_squared_error
    return float(image_squared_error(preprocess(truth), recon))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0], add_help=False)
    parser.add_argument('--episodes', required=True, type=pathlib.Path,
                        help='folder of agent episodes, e.g. RUN/train_episodes')
    parser.add_argument('--updates', type=int, default=3000)
    parser.add_argument('--every', type=int, default=500)
    parser.add_argument('--holdout', type=int, default=2)
    parser.add_argument('--out', required=True, type=pathlib.Path)
    args, rest = parser.parse_known_args(argv)
    from vmail_tf.quiet import import_tensorflow
    import_tensorflow()
    import imageio.v2 as imageio
    import tensorflow as tf

    from vmail_tf import config as config_lib
    from vmail_tf import demos, episodes
    from vmail_tf.agent import Agent, preprocess
    from vmail_tf.logger import tile_videos
    from vmail_tf.replay import Replay
    from video_frames import side_by_side

    config = config_lib.parse_args(rest, prog='tools/probe_world_model.py')
    agent_eps = [e for _, e in episodes.load_directory(args.episodes)]
    if not agent_eps:
        sys.exit(f'error: {args.episodes} holds no loadable *.npz episodes')
    action_size = agent_eps[0]['action'].shape[-1]
    _, expert_eps = demos.expert_episodes(config, action_size, record=False)
    try:
        agent_train, agent_test = split_holdout(agent_eps, args.holdout, 'agent')
        expert_train, expert_test = split_holdout(expert_eps, args.holdout, 'expert')
    except ValueError as error:
        sys.exit(f'error: {error}')
    replay = Replay(10 ** 9, config.batch_length, seed=config.seed)
    for i, episode in enumerate(agent_train):
        replay.add_agent(i, episode)
    for episode in expert_train:
        replay.add_expert(episode)

    agent = Agent(config, action_size)

    @tf.function
    def reconstruct(image, action):
        post, _ = agent.rssm.observe(agent.encoder(preprocess(image)), action)
        return agent.decoder(agent.rssm.features(post))

    def test_error(held_out):
        return np.mean([frame_error(e['image'], reconstruct(
            e['image'][None], e['action'][None].astype(np.float32))[0].numpy())
            for e in held_out])

    windows = Replay(10 ** 9, config.batch_length, seed=1)
    for i, episode in enumerate(agent_test):
        windows.add_agent(i, episode)
    video_batch = {k: tf.constant(v) for k, v in windows.sample_model(
        config.video_sequences, config.model_data, config.model_expert_fraction).items()}

    args.out.mkdir(parents=True, exist_ok=True)
    print(f'{len(agent_train)} + {len(expert_train)} agent + expert episodes for '
          f'training, {len(agent_test)} + {len(expert_test)} held out; batch '
          f'{config.batch_size} x {config.batch_length}, cnn_depth {config.cnn_depth}',
          flush=True)
    seconds = 0.0
    for step in range(1, args.updates + 1):
        batch = {k: tf.constant(v) for k, v in replay.sample_model(
            config.batch_size, config.model_data, config.model_expert_fraction).items()}
        start = time.perf_counter()
        metrics = agent.train_model(batch)
        seconds += time.perf_counter() - start
        if step % args.every == 0 or step == args.updates:
            row = {'update': step, 'seconds': round(seconds, 1),
                   'model_loss': float(metrics['model_loss']), 'kl': float(metrics['kl']),
                   'agent_error': test_error(agent_test),
                   'expert_error': test_error(expert_test)}
            print('  '.join(f'{k} {v:.4g}' if isinstance(v, float) else f'{k} {v}'
                            for k, v in row.items()), flush=True)
            with open(args.out / 'probe.jsonl', 'a') as f:
                f.write(json.dumps(row) + '\n')
            tiled = tile_videos(agent.video(video_batch).numpy())
            picks = np.unique(np.linspace(2, len(tiled) - 1, 5).round().astype(int))
            imageio.imwrite(args.out / f'openloop-{step}.png', side_by_side(tiled, picks))


if __name__ == '__main__':
    main()
