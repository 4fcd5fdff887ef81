"""DA-DAC, the paper's first model-free baseline: Discriminator-Actor-Critic
(Kostrikov et al. 2019) on the DrQ pixel learner. A discriminator on
(features, action) separates expert transitions from the agent's replay; the
agent's reward is D's (`disc_reward`, `logit` = log D - log(1 - D) in the
`dac` block) on its own transitions, recomputed every update."""
import tensorflow as tf

from vmail_tf import losses
from vmail_tf.networks import MLP
from vmail_tf.pixel_sac import PixelEncoder, PixelSAC, transitions


class DACAgent(PixelSAC):

    def __init__(self, config, action_size):
        super().__init__('dac_agent', config, action_size)
        c = config
        self.discriminator = MLP(c.disc_units, c.disc_layers, 1, 'discriminator', 'relu')
        self.discriminator(tf.zeros([1, c.sac_feature_dim + action_size]))
        # The paper found DA-DAC unstable and tried a discriminator with its
        # own encoder; `dac_separate_encoder` offers that.
        disc_modules = [self.discriminator]
        if c.dac_separate_encoder:
            self.disc_encoder = PixelEncoder(c.sac_conv_depth, c.sac_feature_dim,
                                             'disc_encoder')
            self.disc_encoder(self.initial_policy_state(1))
            disc_modules.append(self.disc_encoder)
        self.disc_opt = self.make_optimizer('disc_opt', disc_modules, c.disc_lr)
        self.optimizers.append(self.disc_opt)
        self.finish_init()

    def disc_features(self, frames):
        """D's view of observations: its own encoder's features, or the
        critics' encoder's without gradient."""
        if self.config.dac_separate_encoder:
            return self.disc_encoder(frames)
        return tf.stop_gradient(self.encoder(frames))

    def _train(self, data):
        """One discriminator update on an agent and an expert batch, then one
        SAC update on the agent batch with D's rewards."""
        c = self.config
        agent = self.augment(transitions(data['agent'], c.frame_stack))
        expert = self.augment(transitions(data['expert'], c.frame_stack))

        def updated_d_reward(agent_features):
            """D updated on the agent's features (the critics', given) and
            the expert's; then the updated D's rewards."""
            with tf.GradientTape() as tape:
                if c.dac_separate_encoder:
                    agent_features = self.disc_encoder(agent['obs'])
                expert_inputs = tf.concat([self.disc_features(expert['obs']),
                                           expert['action']], -1)
                agent_inputs = tf.concat([agent_features, agent['action']], -1)
                objective, metrics = losses.discriminator_objective(
                    self.discriminator, expert_inputs, agent_inputs, c.disc_penalty,
                    c.disc_penalty_scale, self.rng)
            metrics['disc_grad_norm'] = self.disc_opt.minimize(tape, objective)
            # D's own encoder moved with it; the shared one did not (D's loss
            # does not train it).
            if c.dac_separate_encoder:
                agent_inputs = tf.concat([self.disc_encoder(agent['obs']), agent['action']], -1)
            reward = tf.stop_gradient(losses.discriminator_reward(
                self.discriminator(agent_inputs)[..., 0], c.disc_reward))
            return reward, metrics

        return self.sac_update(agent, updated_d_reward)
