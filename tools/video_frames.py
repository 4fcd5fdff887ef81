"""Saves chosen frames of a run's TensorBoard GIF as one PNG, for reports.

    python tools/video_frames.py --logdir logdir/dmc_cartpole_swingup/seed0 \\
        --tag train/openloop --step 30000 --frames 0 4 8 16 24 --out openloop-30k.png

Reads the image summary `--tag` (train/openloop or eval/policy) logged at the
step nearest to `--step`, decodes the GIF and puts the chosen frames side by
side, a white column between them. Each frame is the whole logged image: for
train/openloop, the rows truth / model / error over 4 sequences.
"""
import argparse
import io
import pathlib
import sys

import imageio.v2 as imageio
import numpy as np


def read_gifs(logdir, tag):
    """{step: GIF bytes} of the image summaries `tag` in a run's event files."""
    import tensorflow as tf
    files = sorted(pathlib.Path(logdir).glob('events.out.tfevents.*'))
    if not files:
        raise FileNotFoundError(f'{logdir} holds no events.out.tfevents.* files')
    gifs, tags = {}, set()
    for path in files:
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.HasField('image'):
                    tags.add(value.tag)
                    if value.tag == tag:
                        gifs[event.step] = value.image.encoded_image_string
    if not gifs:
        raise KeyError(f'{logdir} has no image summary `{tag}` '
                       f'(it has: {", ".join(sorted(tags)) or "none"})')
    return gifs


def decode(gif):
    """GIF bytes -> uint8 (T, H, W, 3)."""
    frames = imageio.mimread(io.BytesIO(gif), format='GIF')
    return np.stack([np.asarray(frame)[..., :3] for frame in frames])


def side_by_side(frames, indices, gap=2):
    """The frames at `indices` in one row, `gap` white columns between them."""
    length = len(frames)
    bad = [i for i in indices if not -length <= i < length]
    if bad:
        raise IndexError(f'frames {bad} do not exist: the video has {length} frames')
    white = np.full((frames.shape[1], gap, 3), 255, np.uint8)
    pieces = []
    for i in indices:
        pieces += [frames[i], white]
    return np.concatenate(pieces[:-1], axis=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--logdir', required=True, type=pathlib.Path)
    parser.add_argument('--tag', default='train/openloop')
    parser.add_argument('--step', type=int, default=None,
                        help='env step; the nearest logged one is used (default: the last)')
    parser.add_argument('--frames', type=int, nargs='+', default=[0, 4, 8, 16, 24])
    parser.add_argument('--out', required=True, type=pathlib.Path)
    args = parser.parse_args(argv)
    try:
        gifs = read_gifs(args.logdir, args.tag)
        wanted = max(gifs) if args.step is None else args.step
        step = min(gifs, key=lambda s: (abs(s - wanted), s))
        image = side_by_side(decode(gifs[step]), args.frames)
    except (FileNotFoundError, KeyError, IndexError) as error:
        sys.exit(f'error: {error.args[0]}')
    imageio.imwrite(args.out, image)
    print(f'{args.out}: {args.tag} at step {step}, frames {args.frames}')


if __name__ == '__main__':
    main()
