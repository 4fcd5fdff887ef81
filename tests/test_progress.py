"""The progress line: the run's ETA from the step rate, or a phase's own ETA."""
import time

import types

from vmail_tf.progress import Progress

NO_STOP = types.SimpleNamespace(check=lambda: None)


def test_a_phase_eta_replaces_the_step_rate(capsys):
    progress = Progress(total=1000, every=0.0, start_step=100, stop=NO_STOP)
    started = time.time() - 50.0  # 5 of 10 updates in 50 s: 0.1 updates/s, 50 s left
    progress.update(100, {'image_error': 12.0, 'model_loss': 11303.0}, 'model pretraining',
                    work=(5, 10, started), phase_eta=True)
    line = capsys.readouterr().out.strip()
    assert line == ('step 100/1000 | model pretraining 5/10 at 0.1 updates/s | image error 12 '
                    '| ETA of this phase 0:00:50')


def test_updates_before_the_first_step_show_their_rate_and_eta(capsys):
    progress = Progress(total=1000, every=0.0, start_step=100, stop=NO_STOP)
    progress.update(100, {}, 'training', work=(20, 100, time.time() - 10.0))
    line = capsys.readouterr().out.strip()
    assert line == ('step 100/1000 | 0.0 fps | training 20/100 at 2.0 updates/s '
                    '| ETA of this phase 0:00:40')


def test_restart_measures_the_rate_from_the_new_step(capsys):
    progress = Progress(total=1000, every=0.0, start_step=0, stop=NO_STOP)
    progress.restart(500)
    progress.update(500, {})
    # no step since the restart: no rate yet, so no ETA
    assert capsys.readouterr().out.strip() == 'step 500/1000 | 0.0 fps | ETA ?'


def test_lines_wait_for_the_interval_unless_forced(capsys):
    progress = Progress(total=10, every=3600.0, start_step=0, stop=NO_STOP)
    progress.update(1, {})
    first = capsys.readouterr().out
    progress.update(2, {})
    assert capsys.readouterr().out == ''
    progress.update(3, {}, force=True)
    assert first.startswith('step 1/10') and capsys.readouterr().out.startswith('step 3/10')


def test_the_eta_counts_only_finished_rounds_so_a_fresh_collection_does_not_shorten_it(capsys):
    now = [0.0]
    progress = Progress(total=10000, every=0.0, start_step=1000, stop=NO_STOP,
                        clock=lambda: now[0])
    now[0] = 100.0  # a round: 1000 env steps and their updates in 100 s
    progress.round_done(2000)
    now[0] = 110.0  # the next collection, 1000 steps in 10 s, its updates still to come
    progress.update(3000, {})
    # 10 steps/s from the finished round: 7000 steps left take 700 s
    assert capsys.readouterr().out.strip() == 'step 3000/10000 | 10.0 fps | ETA 0:11:40'


def test_before_the_first_round_ends_the_rate_is_the_current_one(capsys):
    now = [0.0]
    progress = Progress(total=1000, every=0.0, start_step=0, stop=NO_STOP,
                        clock=lambda: now[0])
    now[0] = 10.0
    progress.update(100, {})
    assert capsys.readouterr().out.strip() == 'step 100/1000 | 10.0 fps | ETA 0:01:30'
    progress.restart(100)  # restarting forgets the rounds before it
    now[0] = 20.0
    progress.update(150, {})
    assert capsys.readouterr().out.strip() == 'step 150/1000 | 5.0 fps | ETA 0:02:50'
