"""The trainer and agent of each `method`: V-MAIL and its baselines."""


def trainer_class(method):
    if method == 'bc':
        from vmail_tf.bc import BCTrainer
        return BCTrainer
    if method in ('dac', 'sqil'):
        from vmail_tf.model_free import ModelFreeTrainer
        return ModelFreeTrainer
    from vmail_tf.trainer import Trainer
    return Trainer


def agent_class(method):
    if method == 'bc':
        from vmail_tf.bc import BCAgent
        return BCAgent
    if method in ('dac', 'sqil'):
        from vmail_tf.model_free import AGENTS
        return AGENTS[method]
    from vmail_tf.agent import Agent
    return Agent
