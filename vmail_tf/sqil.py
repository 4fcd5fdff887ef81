"""DA-SQIL, the paper's second model-free baseline: Soft Q Imitation
Learning (Reddy et al. 2020) on the DrQ pixel learner. Every batch is half
expert transitions with reward 1 and half the agent's with reward 0."""
import tensorflow as tf

from vmail_tf.pixel_sac import PixelSAC, transitions


def balanced_batch(agent, expert):
    """The first half of an expert and of an agent batch (windows or
    transitions), concatenated, with rewards 1 (expert) and 0 (agent)."""
    half = tf.shape(agent['action'])[0] // 2
    batch = {k: tf.concat([expert[k][:half], agent[k][:half]], 0) for k in agent}
    reward = tf.concat([tf.ones([half]), tf.zeros([half])], 0)
    return batch, reward


class SQILAgent(PixelSAC):

    def __init__(self, config, action_size):
        super().__init__('sqil_agent', config, action_size)
        self.finish_init()

    def _train(self, data):
        windows, reward = balanced_batch(data['agent'], data['expert'])
        return self.sac_update(self.augment(transitions(windows, self.config.frame_stack)),
                               lambda features: (reward, {}))
