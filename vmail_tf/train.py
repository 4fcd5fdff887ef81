"""Entry point: python -m vmail_tf.train --configs dmc walker [--key value ...]

This module must not import TensorFlow at import time: env worker processes
are started with `spawn`, which re-imports the main module in the worker,
and TensorFlow beside dm_control's renderer crashes the process.
"""
import logging
import sys

from vmail_tf import config as config_lib


def main(argv=None):
    config = config_lib.parse_args(
        sys.argv[1:] if argv is None else argv,
        description='Train V-MAIL from pixels and expert demonstrations.',
        prog='python -m vmail_tf.train')
    logging.basicConfig(level=logging.INFO if config.verbose else logging.WARNING,
                        format='%(levelname)s %(name)s: %(message)s')
    logging.getLogger('absl').setLevel(logging.WARNING)
    from vmail_tf.quiet import import_tensorflow
    import_tensorflow(config.verbose, config.threads)
    from vmail_tf import demos
    from vmail_tf.envs.worker import EnvWorkerError
    from vmail_tf.nonfinite import NonFiniteError
    from vmail_tf.runs import LogdirInUse, WriteFailed
    from vmail_tf.stopping import StopRequested
    from vmail_tf.trainer_base import ResumeError
    from vmail_tf.methods import trainer_class
    try:
        trainer = trainer_class(config.method)(config)
    except (config_lib.ConfigError, demos.DemoError, EnvWorkerError, LogdirInUse,
            ResumeError, WriteFailed) as e:
        sys.exit(f'error: {e}')
    try:
        trainer.run()
    except (KeyboardInterrupt, StopRequested):
        sys.exit(130)
    except (NonFiniteError, WriteFailed) as e:
        sys.exit(f'error: {e}')
    except EnvWorkerError:
        sys.exit(1)


if __name__ == '__main__':
    main()
