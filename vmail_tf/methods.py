"""The trainer and agent of each `method`: V-MAIL, multi-task V-MAIL and
transfer, and the baselines."""


def trainer_class(method):
    if method == 'bc':
        from vmail_tf.bc import BCTrainer
        return BCTrainer
    if method in ('dac', 'sqil'):
        from vmail_tf.model_free import ModelFreeTrainer
        return ModelFreeTrainer
    if method == 'multitask':
        from vmail_tf.multitask import MultiTaskTrainer
        return MultiTaskTrainer
    if method == 'transfer':
        from vmail_tf.transfer import TransferTrainer
        return TransferTrainer
    from vmail_tf.trainer import Trainer
    return Trainer


def agent_class(method):
    if method == 'bc':
        from vmail_tf.bc import BCAgent
        return BCAgent
    if method in ('dac', 'sqil'):
        from vmail_tf.model_free import AGENTS
        return AGENTS[method]
    if method == 'multitask':
        from vmail_tf.multitask import MultiTaskAgent
        return MultiTaskAgent
    from vmail_tf.agent import Agent
    return Agent
