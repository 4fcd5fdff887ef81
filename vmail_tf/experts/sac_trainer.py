"""The state-based SAC expert's training run: collect with the actor,
update, evaluate and checkpoint (with the replay buffer) on schedule;
re-running on the same logdir resumes."""
import pathlib

import numpy as np
import tensorflow as tf

from vmail_tf.config import ConfigError
from vmail_tf.experts import WEIGHTS_DIR
from vmail_tf.experts.mlp_policy import MLPPolicy
from vmail_tf.experts.sac import SAC, TransitionReplay
from vmail_tf.experts.state_env import (evaluate_on_states, flatten_state, make_state_env,
                                       state_size)
from vmail_tf.logger import Logger
from vmail_tf.progress import Progress
from vmail_tf.runs import open_run
from vmail_tf.schedule import crossed
from vmail_tf.seeds import env_seed


def load_init_policy(spec):
    """The expert weights named by the `init_policy` key: a weights .npz, or
    the task name of a built-in SAC expert (its file in experts/weights). A
    wrong one is a ConfigError naming it."""
    file = pathlib.Path(spec).expanduser()
    if not file.is_file() and (WEIGHTS_DIR / f'{spec}.npz').is_file():
        file = WEIGHTS_DIR / f'{spec}.npz'
    if not file.is_file():
        shipped = ', '.join(sorted(path.stem for path in WEIGHTS_DIR.glob('*.npz')))
        raise ConfigError(f'init_policy {spec}: no such file and no built-in SAC expert; '
                          f'expected an expert weights .npz or one of: {shipped}')
    try:
        return MLPPolicy.load(file)
    except ValueError as e:
        raise ConfigError(f'init_policy {spec}: {e}') from e


class ExpertTrainer:
    """SAC on a task's true states: bursts of `update_every` agent steps,
    then as many updates; policy.npz and a checkpoint at each evaluation."""

    def __init__(self, config):
        c = self.config = config
        init_policy = load_init_policy(c.init_policy) if c.init_policy else None
        self.logdir, self.lock = open_run(c)
        self.env = make_state_env(c.task, c.action_repeat, c.time_limit,
                                  env_seed('expert_train', c.seed))
        obs_size = state_size(self.env)
        self.sac = SAC(obs_size, self.env.action_size, c)
        self.replay = TransitionReplay(c.replay_capacity, obs_size,
                                       self.env.action_size, c.seed)
        self.env_step = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.checkpoint = tf.train.Checkpoint(sac=self.sac, env_step=self.env_step)
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, self.logdir / 'checkpoint', max_to_keep=c.keep_checkpoints)
        self.replay_path = self.logdir / 'checkpoint' / 'replay.npz'
        if self.manager.latest_checkpoint:
            self.checkpoint.restore(self.manager.latest_checkpoint).assert_existing_objects_matched()
            for opt in self.sac.optimizers:
                opt.reset_learning_rate()
            if self.replay_path.exists():
                with np.load(self.replay_path) as data:
                    self.replay.restore(dict(data))
            print(f'Resumed from {self.manager.latest_checkpoint} at env step '
                  f'{int(self.env_step.numpy())} with {self.replay.size} transitions',
                  flush=True)
        elif init_policy:
            try:
                self.sac.load_actor(init_policy)
            except ValueError as e:
                raise ConfigError(f'init_policy {c.init_policy}: {e}') from e
            print(f'Actor initialised from {c.init_policy}', flush=True)
        self.logger = Logger(self.logdir)

    def save(self):
        step = int(self.env_step.numpy())
        tmp = self.replay_path.with_name('.replay.tmp.npz')
        self.replay_path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(tmp, **self.replay.state())
        tmp.replace(self.replay_path)
        self.manager.save(checkpoint_number=step)
        policy = self.sac.export(self.config.task, self.config.action_repeat)
        tmp = self.logdir / '.policy.tmp.npz'
        policy.save(tmp)
        tmp.replace(self.logdir / 'policy.npz')
        return policy

    def run(self, stop=None):
        c = self.config
        step = int(self.env_step.numpy())
        state, episode_return, returns = flatten_state(self.env.reset()), 0.0, []
        progress = Progress(c.steps, c.progress_every, step, stop, labels={})
        metrics = {}
        while step < c.steps:
            chunk_start = step
            for _ in range(c.update_every):
                if step < c.seed_steps and not c.init_policy:
                    action = np.random.uniform(-1, 1, self.env.action_size)
                else:
                    action = self.sac.act(tf.constant(state[None]), True).numpy()[0]
                next_obs, reward, terminated, truncated, _ = self.env.step(action)
                next_state = flatten_state(next_obs)
                self.replay.add(obs=state, action=action, reward=reward,
                                next_obs=next_state, discount=0.0 if terminated else 1.0)
                state, episode_return = next_state, episode_return + reward
                step += c.action_repeat
                if terminated or truncated:
                    returns.append(episode_return)
                    state, episode_return = flatten_state(self.env.reset()), 0.0
                if step >= c.steps:
                    break
            if step >= c.seed_steps:
                count = max(1, int(c.update_every * c.updates_per_step))
                batches = self.replay.sample(count, c.batch_size)
                updates = self.sac.update_many(batches, step >= c.actor_start)
                metrics = {k: float(v) for k, v in updates.items()}
            self.env_step.assign(step)
            if crossed(chunk_start, step, c.eval_every) or step >= c.steps:
                policy = self.save()
                mean, sd = evaluate_on_states(policy, c, c.eval_episodes,
                                              env_seed('expert_eval', c.seed, step))
                progress.eval_return = mean
                scalars = {f'train/{k}': v for k, v in metrics.items()}
                scalars.update({'eval/return': mean, 'eval/return_sd': sd})
                if returns:
                    scalars['train/return'] = float(np.mean(returns[-10:]))
                self.logger.scalars(step, scalars)
            progress.round_done(step)
            recent = f'{np.mean(returns[-10:]):.1f}' if returns else '-'
            progress.update(step, {}, f'train return {recent}', force=step >= c.steps)
        print(f'Done: policy in {self.logdir / "policy.npz"}', flush=True)
