"""Diagnoses how fast a discriminator can separate expert from imagined pairs.

    python tools/probe_discriminator.py --logdir RUN [--updates 500] [--lrs 8e-5 3e-4]

Restores a run's world model and actor, builds one fixed set of expert pairs
(posterior latents of expert windows with the actions taken) and imagined
policy pairs, then trains fresh discriminators on them, once per penalty
variant and learning rate, and prints D(expert) and D(policy) as training
goes. A discriminator that cannot separate fixed pairs within a few hundred
updates gives the actor no signal.

Imports TensorFlow only inside main(): env workers re-import this script.
"""
import argparse
import pathlib


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--logdir', required=True, type=pathlib.Path)
    parser.add_argument('--updates', type=int, default=500)
    parser.add_argument('--lrs', type=float, nargs='+', default=[8e-5, 3e-4])
    parser.add_argument('--penalties', nargs='+', default=['params', 'input', 'none'])
    args = parser.parse_args()
    from vmail_tf.quiet import import_tensorflow
    import_tensorflow()
    import tensorflow as tf

    from vmail_tf import config as config_lib
    from vmail_tf import demos, networks, optim
    from vmail_tf.agent import Agent, preprocess
    from vmail_tf.envs.worker import probe_action_size
    from vmail_tf.losses import discriminator_objective
    from vmail_tf.replay import Replay

    config = config_lib.load_run_config(args.logdir)
    action_size = probe_action_size(config)
    _, experts = demos.expert_episodes(config, action_size, record=False)
    agent = Agent(config, action_size)
    latest = tf.train.latest_checkpoint(str(args.logdir / 'checkpoint'))
    tf.train.Checkpoint(agent=agent).restore(latest).expect_partial()
    replay = Replay(10 ** 9, config.batch_length, seed=0)
    for episode in experts:
        replay.add_expert(episode)
    batch = {k: tf.constant(v) for k, v in replay.sample_expert(config.batch_size).items()}
    post, _ = agent.rssm.observe(agent.encoder(preprocess(batch['image'])), batch['action'])
    expert_in = agent.expert_inputs(batch)
    policy_in = agent.policy_inputs(*agent.imagine(agent.imagination_starts(post)))
    print(f'{latest}: {expert_in.shape[0]} expert pairs, {policy_in.shape[0]} imagined pairs')
    rng = tf.random.Generator.from_seed(0)
    for penalty in args.penalties:
        for lr in args.lrs:
            disc = networks.MLP(config.disc_units, config.disc_layers, 1, name='probe')
            disc(expert_in[:1])
            opt = optim.Optimizer('probe_opt', [disc], lr, config.grad_clip,
                                  config.adam_eps, False)

            @tf.function
            def update():
                with tf.GradientTape() as tape:
                    objective, metrics = discriminator_objective(
                        disc, expert_in, policy_in, penalty, config.disc_penalty_scale, rng)
                opt.minimize(tape, objective)
                return metrics['d_expert'], metrics['d_policy']

            marks = sorted({1, args.updates // 10, args.updates // 2, args.updates})
            row = []
            for step in range(1, args.updates + 1):
                d_e, d_p = update()
                if step in marks:
                    row.append(f'{step}: {float(d_e):.2f}/{float(d_p):.2f}')
            print(f'penalty {penalty:6s} lr {lr:.0e}  D(expert)/D(policy) after ' + ', '.join(row))


if __name__ == '__main__':
    main()
