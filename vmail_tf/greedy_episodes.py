"""Episodes with an agent's deterministic policy: the actor's mode, no noise."""
import numpy as np

from vmail_tf import episodes


def greedy_episodes(agent, driver, count, policy=None):
    """Runs `count` fresh episodes on `driver`'s workers with `policy` (the
    agent's by default); returns them."""
    policy = policy or agent.policy
    state = [agent.initial_policy_state(len(driver.workers))]

    def greedy(obs, is_first):
        action, state[0] = policy(obs['image'], state[0], is_first, False)
        return action.numpy()

    driver.drop_unfinished()
    _, finished = driver.run(greedy, episodes=count)
    return finished[:count]


def summarize(finished, action_repeat):
    returns = [episodes.episode_return(e) for e in finished]
    lengths = [episodes.env_steps(e, action_repeat) for e in finished]
    return {'eval/return': float(np.mean(returns)),
            'eval/return_sd': float(np.std(returns)),
            'eval/length': float(np.mean(lengths))}
