"""TensorFlow where it is installed. Keras on JAX or PyTorch builds, trains, saves and loads the zoo's GANs
without it (a machine with JAX or PyTorch alone, such as a GPU box without TensorFlow's wheels); `tf.data`
input, `tf.distribute` strategies and the ONNX export (tf2onnx) are TensorFlow's and need it.
"""

try:
    import tensorflow as tf
except ImportError:  # only the branches below that test for it ever touch TensorFlow
    tf = None

# What a failed check in a tf.data input pipeline raises in `fit` (nothing to catch without TensorFlow).
PIPELINE_ERRORS = (tf.errors.InvalidArgumentError,) if tf is not None else ()


def is_dataset(x):
    """Whether `x` is a `tf.data.Dataset` (never, without TensorFlow)."""
    return tf is not None and isinstance(x, tf.data.Dataset)


def replica_context():
    """The tf.distribute replica context under a strategy on the TensorFlow backend, else None."""
    import keras

    if tf is None or keras.backend.backend() != "tensorflow":
        return None
    return tf.distribute.get_replica_context()
