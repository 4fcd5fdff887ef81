import io
import os
import sys

import imageio.v2 as imageio
import numpy as np
import PIL.Image
import pytest

from vmail_tf.logger import Logger, encode_gif

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools'))
import video_frames  # noqa: E402

COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]], np.uint8)


def video(first_colour):
    """4 frames of 6 x 5 pixels, each one solid colour."""
    colours = np.roll(COLOURS, -first_colour, axis=0)
    return np.broadcast_to(colours[:, None, None], (4, 6, 5, 3)).copy()


def test_frames_of_the_nearest_logged_step_side_by_side(tmp_path):
    logger = Logger(tmp_path)
    logger.gif(1000, 'train/openloop', video(0), 20)
    logger.gif(2000, 'train/openloop', video(1), 20)
    out = tmp_path / 'frames.png'
    video_frames.main(['--logdir', str(tmp_path), '--step', '1900',
                       '--frames', '0', '3', '--out', str(out)])
    image = imageio.imread(out)
    assert image.shape == (6, 5 + 2 + 5, 3)
    np.testing.assert_array_equal(image[:, :5], video(1)[0])
    np.testing.assert_array_equal(image[:, 5:7], 255)
    np.testing.assert_array_equal(image[:, 7:], video(1)[3])


@pytest.mark.parametrize('fps, milliseconds', [(25, 40), (10, 100)])
def test_gif_plays_at_the_given_rate(fps, milliseconds):
    gif = PIL.Image.open(io.BytesIO(encode_gif(video(0), fps)))
    assert gif.n_frames == 4
    for frame in range(4):
        gif.seek(frame)
        assert gif.info['duration'] == milliseconds


def test_missing_tag_and_frame_are_clear_errors(tmp_path):
    Logger(tmp_path).gif(1000, 'eval/policy', video(0), 20)
    out = str(tmp_path / 'frames.png')
    with pytest.raises(SystemExit, match=r'no image summary `train/openloop` \(it has: eval/policy\)'):
        video_frames.main(['--logdir', str(tmp_path), '--out', out])
    with pytest.raises(SystemExit, match='frames \\[9\\] do not exist: the video has 4 frames'):
        video_frames.main(['--logdir', str(tmp_path), '--tag', 'eval/policy',
                           '--frames', '9', '--out', out])
    with pytest.raises(SystemExit, match='no events.out.tfevents'):
        video_frames.main(['--logdir', str(tmp_path / 'none'), '--out', out])
    assert not os.path.exists(out)
