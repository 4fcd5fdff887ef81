"""TensorFlow without its start-up noise.

Importing TensorFlow prints C++ notices to stderr before any log level
applies: the oneDNN notice, and on a machine without a GPU driver the CUDA
probe's 'could not find cuda drivers' and 'failed call to cuInit' lines. An
entry point calls `import_tensorflow()` first, so that its own lines come
first; any other line TensorFlow prints is passed through. With
`verbose=True` nothing is hidden. It also sets TensorFlow's thread pools,
which must happen before the first op runs.
"""
import os
import re
import sys
import tempfile

NOISE = re.compile(
    r'absl::InitializeLog|oneDNN custom operations are on|cudart_stub|'
    r'Could not find cuda drivers|cuInit|cuda_platform|Unable to register cu(DNN|FFT|BLAS)|'
    r'computation_placer|TF-TRT Warning|This TensorFlow binary is optimized')


def import_tensorflow(verbose=False, threads=0):
    """Imports TensorFlow and probes its devices, hiding the known notices.
    `threads` > 0 caps the threads of one op and of ops run side by side
    (the `threads` config key); 0 leaves TensorFlow's default, every core."""
    if verbose:
        import tensorflow as tf
        set_threads(tf, threads)
        tf.config.list_physical_devices()
        return
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf
            set_threads(tf, threads)
            tf.config.list_physical_devices()  # the CUDA probe prints here
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        text = captured.read().decode(errors='replace')
    for line in text.splitlines():
        if line.strip() and not NOISE.search(line):
            print(line, file=sys.stderr)


def set_threads(tf, threads):
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
