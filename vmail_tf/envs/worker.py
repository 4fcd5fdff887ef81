"""Environments in `spawn`ed worker processes that never import TensorFlow.

TensorFlow and dm_control's Mesa renderer crash when imported into one
process, so the learner talks to each environment through a pipe. A worker
that raises sends its traceback back; a worker that dies or goes silent is
detected by polling, never waited on forever.
"""
import multiprocessing
import signal
import sys
import time
import traceback


class EnvWorkerError(RuntimeError):
    """An env worker raised, died or stopped answering."""


def _car_racing(spec):
    from vmail_tf.envs.car_racing import CarRacingEnv
    return CarRacingEnv(action_repeat=spec['action_repeat'], image_size=spec['image_size'],
                        time_limit=spec['time_limit'], seed=spec['seed'])


def _mujoco_renderer(spec):
    """Sets MuJoCo's render backend, before any MuJoCo env is imported."""
    from vmail_tf.envs import dmc
    dmc.set_render_backend(spec['render_backend'])
    return dmc


def _baoding(spec):
    _mujoco_renderer(spec)
    from vmail_tf.envs.baoding import BaodingEnv
    return BaodingEnv(action_repeat=spec['action_repeat'], image_size=spec['image_size'],
                      time_limit=spec['time_limit'], seed=spec['seed'])


def _claw(spec):
    _mujoco_renderer(spec)
    from vmail_tf.envs.claw import ClawEnv
    return ClawEnv(spec['task'], action_repeat=spec['action_repeat'],
                   image_size=spec['image_size'], time_limit=spec['time_limit'],
                   seed=spec['seed'], fast_render=spec['fast_render'])


def _dmc(spec):
    return _mujoco_renderer(spec).DMCEnv(
        spec['task'].partition('_')[2], action_repeat=spec['action_repeat'],
        image_size=spec['image_size'], time_limit=spec['time_limit'],
        camera=spec['camera'], fast_render=spec['fast_render'],
        seed=spec['seed'])


# Task names: whole names first, then families named `<prefix>_<task>`.
_TASKS = {'car_racing': _car_racing, 'baoding': _baoding}
_FAMILIES = {'claw': _claw, 'dmc': _dmc}


def make_env(spec):
    """Builds the environment described by `spec` (a plain dict)."""
    task = spec['task']
    build = _TASKS.get(task) or _FAMILIES.get(task.partition('_')[0])
    if build is None:
        raise ValueError(
            f"unknown task `{task}`; expected car_racing, baoding, a D'Claw "
            f"task like claw_valve3_cw or a dm_control task like dmc_walker_walk")
    return build(spec)


def _serve(conn, spec):
    # Ctrl-C reaches the whole process group: the learner decides when its
    # workers stop, so they ignore it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if 'tensorflow' in sys.modules:
            raise RuntimeError(
                'tensorflow was imported into an env worker; the entry module '
                'must import it lazily (see vmail_tf/envs/worker.py)')
        env = make_env(spec)
        conn.send(('ok', (env.action_size, env.step_seconds)))
    except Exception:
        conn.send(('error', traceback.format_exc()))
        return
    while True:
        try:
            command, payload = conn.recv()
        except EOFError:
            break
        if command == 'close':
            break
        try:
            if command == 'reset':
                result = env.reset()
            elif command == 'step':
                result = env.step(payload)
            else:
                raise ValueError(f'unknown command {command!r}')
            conn.send(('ok', result))
        except Exception:
            conn.send(('error', traceback.format_exc()))
    env.close()
    conn.close()


class EnvWorker:
    """One environment in its own process, with a blocking or split API:
    `reset()`/`step(a)`, or `send_step(a)` then `receive()` to step many
    workers in parallel."""

    def __init__(self, spec, timeout):
        self.spec = dict(spec)
        self.timeout = timeout
        self._start()

    def _start(self):
        context = multiprocessing.get_context('spawn')
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, self.spec), daemon=True)
        self._process.start()
        child.close()
        self.action_size, self.step_seconds = self.receive()

    def _describe(self):
        return f"env worker for {self.spec['task']} (pid {self._process.pid})"

    def _died(self):
        self._process.join(5)
        return EnvWorkerError(
            f'{self._describe()} died with exit code {self._process.exitcode}')

    def receive(self):
        deadline = time.monotonic() + self.timeout
        while not self._conn.poll(0.1):
            if not self._process.is_alive():
                raise self._died()
            if time.monotonic() > deadline:
                raise EnvWorkerError(
                    f'{self._describe()} did not answer within '
                    f'{self.timeout:.0f} s')
        try:
            status, payload = self._conn.recv()
        except (EOFError, OSError):
            raise self._died() from None
        if status == 'error':
            raise EnvWorkerError(f'{self._describe()} raised:\n{payload}')
        return payload

    def _send(self, command, payload=None):
        try:
            self._conn.send((command, payload))
        except OSError:
            raise self._died() from None

    def send_reset(self):
        self._send('reset')

    def send_step(self, action):
        self._send('step', action)

    def reset(self):
        self.send_reset()
        return self.receive()

    def step(self, action):
        self.send_step(action)
        return self.receive()

    def restart(self):
        self.close()
        self._start()

    def close(self):
        if self._process.is_alive():
            try:
                self._conn.send(('close', None))
            except (BrokenPipeError, OSError):
                pass
            self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._conn.close()


def env_spec(config, seed):
    """The settings an env worker needs, taken from a run's config."""
    keys = ('task', 'render_backend', 'action_repeat', 'image_size',
            'time_limit', 'camera', 'fast_render')
    return {**{key: config[key] for key in keys}, 'seed': int(seed)}


def probe_action_size(config):
    """The action dimension of a config's task, from a short-lived worker."""
    worker = EnvWorker(env_spec(config, 0), config.worker_timeout)
    try:
        return worker.action_size
    finally:
        worker.close()
