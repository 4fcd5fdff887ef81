"""TensorBoard scalars and GIFs, plus one JSON line per log in metrics.jsonl."""
import io
import json
import pathlib

import imageio.v2 as imageio
import numpy as np
import tensorflow as tf
from tensorboard.compat.proto import summary_pb2

from vmail_tf.runs import WriteFailed, writing


def encode_gif(frames, fps):
    """uint8 (T, H, W, 3) -> GIF bytes that play at `fps` frames per second."""
    with io.BytesIO() as buffer:
        imageio.mimwrite(buffer, list(frames), format='GIF',
                         duration=1000 / fps, loop=0)
        return buffer.getvalue()


def tile_videos(videos):
    """uint8 (B, T, H, W, 3) -> (T, H, B*W, 3): the batch side by side."""
    videos = np.asarray(videos)
    return np.concatenate(list(videos), axis=2)


def drop_partial_last_line(path):
    """A run killed while appending can leave half a line at the end of a
    JSON-lines file; cut it so that every line parses."""
    if not path.exists():
        return
    with open(path, 'rb+') as f:
        data = f.read()
        if data and not data.endswith(b'\n'):
            f.truncate(data.rfind(b'\n') + 1)


class Logger:

    def __init__(self, logdir):
        self.logdir = pathlib.Path(logdir)
        self.writer = tf.summary.create_file_writer(str(self.logdir))
        self._jsonl = self.logdir / 'metrics.jsonl'
        drop_partial_last_line(self._jsonl)

    def scalars(self, step, metrics):
        """Writes {name: float} at `step` to TensorBoard and metrics.jsonl."""
        metrics = {k: float(v) for k, v in metrics.items()}
        with self.writer.as_default():
            for name, value in metrics.items():
                tf.summary.scalar(name, value, step=step)
        with writing(self._jsonl):
            with open(self._jsonl, 'a') as f:
                f.write(json.dumps({'step': int(step), **metrics}) + '\n')
        self._flush()

    def _flush(self):
        try:
            self.writer.flush()
        except tf.errors.OpError as e:
            raise WriteFailed(f'cannot write the TensorBoard events in {self.logdir}: '
                              f'{e.message}') from e

    def gif(self, step, name, frames, fps):
        """An animated image summary from uint8 (T, H, W, 3) frames."""
        frames = np.asarray(frames)
        _, height, width, channels = frames.shape
        image = summary_pb2.Summary.Image(
            height=height, width=width, colorspace=channels,
            encoded_image_string=encode_gif(frames, fps))
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag=name, image=image)])
        with self.writer.as_default():
            tf.summary.experimental.write_raw_pb(
                summary.SerializeToString(), step=step)
        self._flush()
