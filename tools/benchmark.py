"""Times the train step (V-MAIL, DA-DAC or DA-SQIL) and the collection loop for any config.

    python tools/benchmark.py --configs dmc walker [--key value ...]
        [--steps 5] [--profile] [--collect_seconds 20] [--loop_steps 6000] [--json out.json]

--loop_steps runs the real training loop (a Trainer on a temporary logdir,
the config's demos) and reports seconds per 1000 env steps by phase.

Imports TensorFlow only inside main(): env workers are spawned processes that
re-import this script and must not load TensorFlow.
"""
import argparse


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=5, help='timed train steps after the first')
    parser.add_argument('--profile', action='store_true', help='time each phase of the step')
    parser.add_argument('--collect_seconds', type=float, default=0.0,
                        help='also time collection for this long (0 = skip)')
    parser.add_argument('--loop_steps', type=int, default=0,
                        help='also time the real loop over this many env steps (0 = skip)')
    parser.add_argument('--json', help='write the results to this JSON file')
    args, rest = parser.parse_known_args()
    if args.steps < 5:
        parser.error('--steps must be at least 5')
    from vmail_tf import config as config_lib
    config = config_lib.parse_args(rest, description='benchmark config')
    from vmail_tf.quiet import import_tensorflow
    import_tensorflow(threads=config.threads)
    from vmail_tf import benchmark
    results = benchmark.run(config, args.steps, args.profile, args.collect_seconds, args.json,
                            args.loop_steps)
    print(benchmark.format_table(results))


if __name__ == '__main__':
    main()
