"""The run of the model-free baselines (DA-DAC, DA-SQIL): V-MAIL's loop
(`trainer.Trainer`: prefill, rounds of collection and updates, evaluation,
exact resume) with a pixel SAC agent in place of the world-model agent. Its
batches are transitions: windows of `frame_stack` + 1 entries from the
agent's episodes and from the expert's."""
from vmail_tf.config import ConfigError
from vmail_tf.dac import DACAgent
from vmail_tf.sqil import SQILAgent
from vmail_tf.trainer import Trainer

AGENTS = {'dac': DACAgent, 'sqil': SQILAgent}


class ModelFreeTrainer(Trainer):

    parts = ('agent', 'expert')

    def __init__(self, config):
        for key, expected, why in (
                ('model_pretrain', 0, 'they have no world model'),
                ('precision', '32', 'they run in float32'),
                ('jit', False, 'their step is not compiled with XLA')):
            if config[key] != expected:
                raise ConfigError(f'config key `{key}` must be {expected!r} for method '
                                  f'{config.method} (got {config[key]!r}): {why}')
        if config.prefill < config.time_limit:
            raise ConfigError(
                f'config key `prefill` ({config.prefill}) must be at least `time_limit` '
                f'({config.time_limit}) for method {config.method}: the replay holds '
                f'finished episodes, and the first update needs one')
        if config.method == 'sqil' and config.sac_batch_size % 2:
            raise ConfigError(
                f'config key `sac_batch_size` ({config.sac_batch_size}) must be even for '
                f'method sqil: its batches are half expert, half agent transitions')
        super().__init__(config)

    def make_agent(self, action_size):
        return AGENTS[self.config.method](self.config, action_size)

    def batch_shape(self):
        return self.config.sac_batch_size, self.config.frame_stack

    def _video(self, step):
        """No world model, so no open-loop video; eval GIFs are still logged."""
