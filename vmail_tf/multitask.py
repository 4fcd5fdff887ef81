"""Multi-task V-MAIL on several source tasks of one domain, the first half
of the paper's Algorithm 2 (docs/design.md section 9): one world model
learned from all tasks' data, and a discriminator, actor and value per task,
each trained on rollouts of the shared model against its task's demos."""
import functools

import tensorflow as tf

from vmail_tf import config as config_lib
from vmail_tf import demos
from vmail_tf.agent import Agent, equip_task_head
from vmail_tf.config import ConfigError
from vmail_tf.driver import make_driver
from vmail_tf.trainer import Trainer


def source_task_configs(config):
    """One config per source task (`task` and `expert_dir` set), from the
    comma lists `source_tasks` and `source_expert_dirs`."""
    tasks = config_lib.split_list(config.source_tasks)
    if len(tasks) < 2:
        raise ConfigError(f'config key `source_tasks` must name at least two tasks, '
                          f'comma-separated; got {config.source_tasks!r}')
    dirs = [d.strip() for d in config.source_expert_dirs.split(',')] \
        if config.source_expert_dirs else [''] * len(tasks)
    if len(dirs) != len(tasks):
        raise ConfigError(f'config key `source_expert_dirs` has {len(dirs)} entries for '
                          f'{len(tasks)} source tasks; give one per task (empty for built-in)')
    return [config_lib.Config(dict(config, task=task, expert_dir=folder))
            for task, folder in zip(tasks, dirs)]


class TaskHead(tf.Module):
    """The discriminator, actor and value of one further source task."""

    def __init__(self, agent, index):
        super().__init__(name=f'task{index}')
        self.actor = agent.make_actor()
        equip_task_head(agent, self)


class MultiTaskAgent(Agent):
    """The agent is the first task's head (as a single-task agent is);
    `extra_heads` hold the others. `task_policies[i]` acts for task i."""

    def __init__(self, config, action_size):
        super().__init__(config, action_size)
        self.task_policies = [tf.function(functools.partial(self._act, head.actor))
                              for head in self.heads]

    def add_task_heads(self):
        count = len(config_lib.split_list(self.config.source_tasks))
        self.extra_heads = [TaskHead(self, i) for i in range(1, count)]

    @property
    def heads(self):
        return [self] + list(self.extra_heads)

    def _train(self, data):
        """One update: the world model on the pooled batch, then each task's
        D, actor and value against its demos ('expert0', 'expert1', ...).
        Metrics: each task's under `task<i>/`, and their mean."""
        post, metrics = self._train_model(data['model'])
        per_task = [self.imitate(post, data[f'expert{i}'], head)
                    for i, head in enumerate(self.heads)]
        for key in per_task[0]:
            metrics[key] = tf.reduce_mean(tf.stack([m[key] for m in per_task]))
            metrics.update({f'task{i}/{key}': m[key] for i, m in enumerate(per_task)})
        self.step.assign_add(1)
        return metrics


class MultiTaskTrainer(Trainer):
    """Each round collects `train_every` env steps split evenly over the
    source tasks, each with its own policy; evaluation runs every task."""

    def __init__(self, config):
        self.task_configs = source_task_configs(config)
        self.parts = ('model',) + tuple(f'expert{i}' for i in range(len(self.task_configs)))
        super().__init__(self.task_configs[0])
        extra = self.task_configs[1:]
        self.task_drivers = [self.driver] + [make_driver(c, 'train', c.envs) for c in extra]
        self.eval_drivers = [self.eval_driver] + [make_driver(c, 'eval') for c in extra]
        self.drivers += self.task_drivers[1:] + self.eval_drivers[1:]
        sizes = {d.action_size for d in self.task_drivers}
        if len(sizes) > 1:
            raise ConfigError(f'source tasks {config.source_tasks} have different action '
                              f'sizes {sorted(sizes)}; they must share one domain')

    def make_agent(self, action_size):
        return MultiTaskAgent(self.config, action_size)

    def expert_pools(self, action_size):
        return {f'expert{i}': demos.expert_episodes(c, action_size)
                for i, c in enumerate(self.task_configs)}

    def _collect(self, prefill, chunk, on_step):
        count, taken = len(self.task_configs), 0
        for i, driver in enumerate(self.task_drivers):
            share = chunk // count + (i < chunk % count)
            done_before = taken
            taken += self.collect_task(
                driver, self.agent.task_policies[i], f'task{i}', prefill, share,
                lambda done: on_step(done_before + done))
        return taken

    def evaluate(self):
        """Every source task's greedy episodes; returns the mean of their returns."""
        returns = [self.evaluate_task(driver, self.agent.task_policies[i], f'task{i}')
                   for i, driver in enumerate(self.eval_drivers)]
        return sum(returns) / len(returns)
