"""The V-MAIL agent: world model, discriminator, actor and value in one
`tf.Module`, trained by one graph-mode step (docs/design.md section 2)."""
import functools

import numpy as np
import tensorflow as tf

from vmail_tf import config as config_lib
from vmail_tf import dists, episodes, losses, networks, optim, precision


def preprocess(image):
    """uint8 [0, 255] -> float32 [-0.5, 0.5]."""
    return tf.cast(image, tf.float32) / 255.0 - 0.5


def _flatten_time(state):
    """(B, T, ...) -> (B*T, ...) for every entry of a state dict."""
    return {k: tf.reshape(v, [-1, v.shape[-1]]) for k, v in state.items()}


def expert_pairs(features, actions):
    """(state, action taken) pairs of expert windows of T + 1 entries,
    flattened to (B*T, F + A); features[:, t] is the latent of observation t."""
    states, taken = episodes.with_taken_actions(features, actions)
    pairs = tf.concat([states, taken], -1)
    return tf.reshape(pairs, [-1, pairs.shape[-1]])


class AgentBase(tf.Module):
    """What the V-MAIL and BC agents share: the precision policy, a random
    generator, the update counter, the conv encoder and the actor."""

    def __init__(self, name, config, action_size):
        super().__init__(name=name)
        self.config = config
        self.action_size = action_size
        self.policy_name, self.loss_scaling = precision.set_policy(config.precision)
        self.float32_modules = set(config_lib.split_list(config.float32_modules))
        self.rng = tf.random.Generator.from_seed(config.seed)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name='step')
        with self.precision_of('encoder'):
            self.encoder = networks.ConvEncoder(config.cnn_depth, config.image_size)
        self.actor = self.make_actor()

    def make_actor(self):
        c = self.config
        with self.precision_of('actor'):
            return networks.Actor(self.action_size, c.num_units, c.actor_layers,
                                  c.actor_init_std, c.actor_mean_scale, c.actor_min_std,
                                  rng=self.rng)

    def precision_of(self, module):
        """A scope that builds `module` in float32 if `float32_modules` names it."""
        return precision.float32_if(module in self.float32_modules)

    def optimizer(self, name, modules, lr):
        """Adam over `modules` with the config's clipping and the policy's
        loss scaling."""
        return optim.Optimizer(name, modules, lr, self.config.grad_clip,
                               self.config.adam_eps, self.loss_scaling)


def equip_task_head(agent, head):
    """Gives `head` (which has an actor) a discriminator and a value, and
    the optimisers of all three: the parts of V-MAIL that belong to one
    task, while the world model is shared (docs/design.md section 9)."""
    c = agent.config
    with agent.precision_of('discriminator'):
        head.discriminator = networks.MLP(c.disc_units, c.disc_layers, 1, name='discriminator')
    with agent.precision_of('value'):
        head.value = networks.MLP(c.num_units, c.value_layers, 1, name='value')
    head.disc_opt = agent.optimizer('disc_opt', [head.discriminator], c.disc_lr)
    head.actor_opt = agent.optimizer('actor_opt', [head.actor], c.actor_lr)
    head.value_opt = agent.optimizer('value_opt', [head.value], c.value_lr)


class Agent(AgentBase):
    """The world model and one task's discriminator, actor and value: the
    agent is its own task head (`heads`)."""

    def __init__(self, config, action_size):
        super().__init__('agent', config, action_size)
        with self.precision_of('rssm'):
            self.rssm = networks.RSSM(
                config.stoch_size, config.deter_size, config.hidden_size,
                config.min_std, rng=self.rng)
        with self.precision_of('decoder'):
            self.decoder = networks.ConvDecoder(config.cnn_depth, config.image_size)
        equip_task_head(self, self)
        self.add_task_heads()
        self.model_opt = self.optimizer(
            'model_opt', [self.encoder, self.rssm, self.decoder], config.model_lr)
        self.optimizers = [self.model_opt] + [
            opt for head in self.heads for opt in (head.disc_opt, head.actor_opt, head.value_opt)]
        self._build()
        jit = config.jit or None
        self.train = tf.function(self._train, jit_compile=jit)
        self.train_model = tf.function(
            lambda model: self._train_model(model)[1], jit_compile=jit)
        self.policy = tf.function(functools.partial(self._act, self.actor))
        self.video = tf.function(self._video)

    def add_task_heads(self):
        """Where a multi-task agent adds the heads of its further tasks."""

    @property
    def heads(self):
        """Each task's module with discriminator, actor, value and optimisers."""
        return [self]

    @property
    def feature_size(self):
        return self.config.stoch_size + self.config.deter_size

    def _build(self):
        """Creates every variable and optimiser slot by a forward pass on
        zeros: a checkpoint can then be restored before the first train step
        (the authors' code crashed here)."""
        size = self.config.image_size
        embed = self.encoder(tf.zeros([1, 1, size, size, 3]))
        post, _ = self.rssm.observe(embed, tf.zeros([1, 1, self.action_size]))
        feat = self.rssm.features(post)
        self.decoder(feat)
        for head in self.heads:
            head.actor.params(feat)
            head.value(feat)
            head.discriminator(tf.concat([feat, tf.zeros([1, 1, self.action_size])], -1))
        for opt in self.optimizers:
            opt.build()

    # ------------------------------------------------------------------ acting

    def initial_policy_state(self, batch_size):
        latent = self.rssm.initial(batch_size)
        return latent, tf.zeros([batch_size, self.action_size])

    def _act(self, actor, image, state, is_first, explore):
        """One step of `actor` on a batch of observations.

        `is_first` marks envs whose episode just reset: their latent state and
        previous action restart from zeros. Exploration adds clipped Gaussian
        noise to a sampled action; evaluation takes the mode.
        """
        latent, prev_action = state
        keep = 1.0 - tf.cast(is_first, tf.float32)[:, None]
        latent = {k: v * keep for k, v in latent.items()}
        prev_action = prev_action * keep
        embed = self.encoder(preprocess(image))
        latent, _ = self.rssm.obs_step(latent, prev_action, embed)
        feat = self.rssm.features(latent)
        if explore:
            action = actor.sample(feat)
            noise = self.config.expl_noise * self.rng.normal(tf.shape(action))
            action = tf.clip_by_value(action + noise, -1.0, 1.0)
        else:
            action = actor.mode(feat)
        return action, (latent, action)

    # ---------------------------------------------------------------- training

    def _train(self, data):
        """One V-MAIL update on {'model': batch, 'expert': batch}; returns metrics."""
        # 1. World model (Eq. 7).
        post, metrics = self._train_model(data['model'])
        metrics.update(self.imitate(post, data['expert'], self))
        self.step.assign_add(1)
        return metrics

    def imitate(self, post, expert, head):
        """Steps 2-5 of the update for one task: D, actor and value of `head`
        on rollouts of the shared model from the posterior states `post`,
        against the task's `expert` batch. Returns metrics."""
        c = self.config
        # 2. Expert latents: posterior at t paired with the action taken at t.
        expert_inputs = self.expert_inputs(expert)

        # 3. Imagination and actor (Eq. 8): D's output is the reward; gradients
        # flow through the dynamics and D, but only the actor is updated.
        start = self.imagination_starts(post)
        with tf.GradientTape() as tape:
            feats, actions = self.imagine(start, head.actor)
            logits = head.discriminator(tf.concat([feats[:-1], actions], -1))[..., 0]
            rewards = losses.discriminator_reward(logits, c.disc_reward)
            values = head.value(feats)[..., 0]
            bootstrap = values[-1] if c.return_bootstrap else tf.zeros_like(values[-1])
            returns = losses.lambda_return(
                rewards, values[1:], bootstrap, c.discount, c.return_lambda)
            weights = tf.stop_gradient(c.discount ** tf.range(
                c.horizon, dtype=tf.float32))[:, None]
            actor_loss = -tf.reduce_mean(weights * returns)
            scaled = head.actor_opt.scale(actor_loss)
        metrics = {'actor_grad_norm': head.actor_opt.minimize(tape, scaled),
                   'actor_loss': actor_loss, 'imag_reward': tf.reduce_mean(rewards),
                   'imag_return': tf.reduce_mean(returns[0])}

        # 4. Discriminator (Eq. 6) on expert pairs and imagined policy pairs.
        policy_inputs = self.policy_inputs(feats, actions)
        with tf.GradientTape() as tape:
            objective, disc_metrics = self.discriminator_objective(
                expert_inputs, policy_inputs, head.discriminator)
            scaled = head.disc_opt.scale(objective)
        metrics['disc_grad_norm'] = head.disc_opt.minimize(tape, scaled)
        metrics.update(disc_metrics)

        # 5. Value regression on the stop-gradient returns.
        with tf.GradientTape() as tape:
            predicted = head.value(tf.stop_gradient(feats[:-1]))[..., 0]
            value_loss = -tf.reduce_mean(weights * dists.normal_log_prob(
                tf.stop_gradient(returns), predicted))
            scaled = head.value_opt.scale(value_loss)
        metrics['value_grad_norm'] = head.value_opt.minimize(tape, scaled)
        metrics['value_loss'] = value_loss
        return metrics

    def _train_model(self, model):
        """One world-model update (Eq. 7): KL with free nats minus the image
        log-likelihood. Returns the posterior states and metrics."""
        with tf.GradientTape() as tape:
            image = preprocess(model['image'])
            post, prior = self.rssm.observe(self.encoder(image), model['action'])
            recon = self.decoder(self.rssm.features(post))
            image_ll = losses.image_log_likelihood(image, recon)
            kl_term, kl = losses.kl_loss(post, prior, self.config.free_nats)
            model_loss = kl_term - image_ll
            scaled = self.model_opt.scale(model_loss)
        grad_norm = self.model_opt.minimize(tape, scaled)
        return post, {'model_grad_norm': grad_norm, 'model_loss': model_loss,
                      'kl': kl, 'image_loss': -image_ll,
                      'image_error': losses.image_squared_error(image, recon)}

    def expert_inputs(self, expert):
        """D's expert inputs from an expert batch of T + 1 entries: the
        posterior features at t with the action taken there, (B*T, F + A),
        without gradient."""
        post, _ = self.rssm.observe(self.encoder(preprocess(expert['image'])), expert['action'])
        return tf.stop_gradient(expert_pairs(self.rssm.features(post), expert['action']))

    @staticmethod
    def imagination_starts(post):
        """Every posterior state but each sequence's last, flattened to
        (B*(T-1), ...), without gradient: where imagination starts."""
        return _flatten_time({k: tf.stop_gradient(v[:, :-1]) for k, v in post.items()})

    def policy_inputs(self, feats, actions):
        """D's policy inputs from an imagined rollout: (H*N, F + A) pairs of
        state h and the action taken there, without gradient."""
        pairs = tf.concat([feats[:-1], actions], -1)
        return tf.stop_gradient(tf.reshape(pairs, [-1, self.feature_size + self.action_size]))

    def discriminator_objective(self, expert_inputs, policy_inputs, discriminator=None):
        """D's loss and penalty with this run's settings: (objective, metrics)."""
        c = self.config
        return losses.discriminator_objective(
            discriminator or self.discriminator, expert_inputs, policy_inputs,
            c.disc_penalty, c.disc_penalty_scale, self.rng)

    def imagine(self, start, actor=None):
        """Rolls the prior `horizon` steps from `start` (N states) with actions
        sampled from `actor` (the agent's own by default) on stop-gradient
        features. Returns features (H+1, N, F) and actions (H, N, A)."""
        actor = actor or self.actor

        def step(carry, _):
            state, _ = carry
            action = actor.sample(tf.stop_gradient(self.rssm.features(state)))
            return self.rssm.img_step(state, action), action

        first_action = tf.zeros([tf.shape(start['deter'])[0], self.action_size])
        states, actions = tf.scan(
            step, tf.range(self.config.horizon), (start, first_action))
        feats = tf.concat([self.rssm.features(start)[None],
                           self.rssm.features(states)], 0)
        return feats, actions

    # ------------------------------------------------------------------ videos

    def _video(self, data):
        """Open-loop prediction of each sequence of `data`: observe
        `video_context` frames, then imagine the rest with the true actions.
        Returns uint8 (batch, T, 3*H, W, 3) with truth, model and error
        stacked vertically."""
        context = self.config.video_context
        image, action = data['image'], data['action']
        embed = self.encoder(preprocess(image))
        post, _ = self.rssm.observe(embed[:, :context], action[:, :context])
        last = {k: v[:, -1] for k, v in post.items()}
        prior = self.rssm.imagine_with_actions(action[:, context:], last)
        model = tf.concat([self.decoder(self.rssm.features(post)),
                           self.decoder(self.rssm.features(prior))], 1) + 0.5
        truth = tf.cast(image, tf.float32) / 255.0
        error = (model - truth + 1.0) / 2.0
        frames = tf.concat([truth, model, error], 2)
        return tf.cast(tf.clip_by_value(frames, 0.0, 1.0) * 255.0, tf.uint8)


def metrics_to_numpy(metrics):
    return {k: float(np.asarray(v)) for k, v in metrics.items()}
