"""Trains a state-based SAC expert for a dm_control task.

    python -m vmail_tf.train_expert --configs walker_walk [--key value ...]

Blocks come from the `expert_sac` section of configs.yaml. Writes under the
logdir: config.yaml, metrics.jsonl, TensorBoard events, checkpoint/ (with the
replay buffer) and policy.npz (the actor, for numpy evaluation). Re-running
the same command resumes.
"""
import logging
import sys

from vmail_tf import config as config_lib
from vmail_tf.runs import LogdirInUse
from vmail_tf.stopping import GracefulStop, StopRequested


def main(argv=None):
    config = config_lib.parse_args(
        sys.argv[1:] if argv is None else argv,
        description='Train a state-based SAC expert.',
        blocks=config_lib.load_blocks('expert_sac'), prog='python -m vmail_tf.train_expert')
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(name)s: %(message)s')
    logging.getLogger('absl').setLevel(logging.WARNING)
    from vmail_tf.quiet import import_tensorflow
    import_tensorflow(threads=config.threads)
    from vmail_tf.experts.sac_trainer import ExpertTrainer
    try:
        trainer = ExpertTrainer(config)
    except (LogdirInUse, config_lib.ConfigError) as e:
        sys.exit(f'error: {e}')
    try:
        trainer.run(GracefulStop())
    except (StopRequested, KeyboardInterrupt):
        print('Stopped: saving a checkpoint to resume from', flush=True)
        trainer.save()
        sys.exit(130)


if __name__ == '__main__':
    main()
