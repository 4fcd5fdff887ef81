import logging
import re

import numpy as np
import pytest

from vmail_tf import episodes
from vmail_tf.replay import Replay

from helpers import make_episode


def test_episode_round_trip_and_file_name(tmp_path):
    episode = make_episode(11, action_size=2)
    episode['height'] = np.linspace(0, 1, 11, dtype=np.float32)[:, None]
    path = episodes.save(tmp_path, episode)
    assert re.fullmatch(r'\d{8}T\d{6}\.\d{6}-[0-9a-f]{32}-11\.npz', path.name)
    loaded = episodes.load(path)
    assert sorted(loaded) == sorted(episode)
    for key in episode:
        np.testing.assert_array_equal(loaded[key], episode[key])
        assert loaded[key].dtype == episode[key].dtype
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_episodes_saved_within_one_second_list_in_save_order(tmp_path):
    # resume counts the first N files as the checkpoint's episodes
    saved = [episodes.save(tmp_path, make_episode(3, seed=i)) for i in range(8)]
    assert episodes.list_files(tmp_path) == saved
    older = tmp_path / f'{saved[0].name.split(".")[0]}-{"0" * 32}-3.npz'
    older.write_bytes(saved[0].read_bytes())  # a name from before the microseconds
    assert episodes.list_files(tmp_path)[0] == older


def test_save_rejects_ragged_episodes_and_writes_nothing(tmp_path):
    episode = make_episode(5)
    episode['reward'] = episode['reward'][:3]
    with pytest.raises(ValueError, match='differ in length'):
        episodes.save(tmp_path, episode)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_and_incomplete_files_are_skipped_with_a_warning(tmp_path, caplog):
    good = episodes.save(tmp_path, make_episode(6))
    (tmp_path / 'broken.npz').write_bytes(b'not a zip file')
    np.savez_compressed(tmp_path / 'noimage.npz', action=np.zeros((3, 1)))
    with caplog.at_level(logging.WARNING):
        loaded = episodes.load_directory(tmp_path)
    assert [path for path, _ in loaded] == [good]
    assert 'broken.npz' in caplog.text and 'noimage.npz' in caplog.text
    assert "missing keys ['image'" in caplog.text
    assert (tmp_path / 'broken.npz').exists()  # reported, never deleted


def test_load_directory_keeps_the_newest_episodes_within_a_step_budget(tmp_path):
    names = []
    for i in range(4):
        path = episodes.save(tmp_path, make_episode(11, seed=i))
        renamed = path.with_name(f'2026010{i}T000000-{path.name.split("-", 1)[1]}')
        path.rename(renamed)
        names.append(renamed)
    loaded = episodes.load_directory(tmp_path, newest_steps=25)
    assert [path for path, _ in loaded] == names[2:]


def test_capacity_drops_the_oldest_agent_episodes():
    replay = Replay(capacity=25, batch_length=5)
    for i in range(4):
        replay.add_agent(f'ep{i}', make_episode(10, seed=i))
    assert replay.num_agent_episodes == 2
    assert replay.agent_steps == 20
    replay.add_agent('short', make_episode(4))
    assert replay.num_agent_episodes == 2  # shorter than a window: not stored


def test_replay_ram_is_close_to_the_episode_bytes():
    replay = Replay(capacity=10_000, batch_length=5)
    episode = make_episode(100, action_size=6)
    for i in range(5):
        replay.add_agent(f'ep{i}', episode)
    image_bytes = 5 * episode['image'].nbytes
    assert image_bytes <= replay.nbytes() <= 1.2 * image_bytes


def test_windows_have_the_batch_shape_and_are_contiguous():
    replay = Replay(capacity=1000, batch_length=6, seed=1)
    replay.add_agent('a', make_episode(20, action_size=2))
    replay.add_expert(make_episode(30, action_size=2))
    model = replay.sample_model(4, 'pooled', 0.5)
    assert model['image'].shape == (4, 6, 64, 64, 3)
    assert model['action'].shape == (4, 6, 2)
    expert = replay.sample_expert(3)
    assert expert['image'].shape == (3, 7, 64, 64, 3)
    for window in expert['action'][:, :, 0]:
        np.testing.assert_array_equal(np.diff(window), 1.0)
    # image t of a window carries the same index as action t
    np.testing.assert_array_equal(expert['image'][:, :, 0, 0, 0], expert['action'][:, :, 0])


def one_agent_one_expert_replay():
    """Agent actions are all -1; expert actions are >= 0."""
    replay = Replay(capacity=1000, batch_length=4, seed=0)
    agent = make_episode(20)
    agent['action'][:] = -1.0
    replay.add_agent('a', agent)
    replay.add_expert(make_episode(20))
    return replay


def expert_rows(batch):
    return (batch['action'][:, :, 0] >= 0).all(axis=1)


def test_fraction_mix_draws_the_configured_share_from_experts():
    batch = one_agent_one_expert_replay().sample_model(
        8, mix='fraction', expert_fraction=0.25)
    assert expert_rows(batch).sum() == 2


def test_pooled_mix_samples_experts_with_the_agent_episodes():
    batch = one_agent_one_expert_replay().sample_model(400, mix='pooled', expert_fraction=0.0)
    assert 0.4 < expert_rows(batch).mean() < 0.6


def test_expert_episodes_shorter_than_a_window_are_rejected():
    replay = Replay(capacity=1000, batch_length=10)
    with pytest.raises(ValueError, match='batch_length \\+ 1 = 11'):
        replay.add_expert(make_episode(10), source='demo.npz')


def test_dataset_yields_model_and_expert_batches():
    replay = Replay(capacity=1000, batch_length=5)
    replay.add_expert(make_episode(12, action_size=3))
    batch = next(iter(replay.dataset(2, 'pooled', 0.5, prefetch=1)))
    assert batch['model']['image'].shape == (2, 5, 64, 64, 3)
    assert batch['model']['image'].dtype.name == 'uint8'
    assert batch['expert']['action'].shape == (2, 6, 3)
