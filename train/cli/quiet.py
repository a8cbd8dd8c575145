"""Process set-up for a command: which Keras backend it runs (`select_backend`), and TensorFlow's start-up
chatter kept off the terminal, so a failing command shows our one error line.

TensorFlow 2.21 logs through absl before absl is initialised ("All log messages before
absl::InitializeLog() ...", the CUDA stub's "Could not find cuda drivers"), which no environment
variable silences, and later at ERROR level (a failed cuInit on a host without a GPU), which
TF_CPP_MIN_LOG_LEVEL=3 does. So: that variable (unless the user set one), and fd 2 captured while
`import tensorflow` runs, replayed only if the import fails.
"""

import contextlib
import importlib.util
import os
import sys
import tempfile

from train.cli.errors import UsageError

BACKENDS = ("tensorflow", "jax", "torch")


def import_tensorflow():
    """Import TensorFlow (once) with its start-up logging hidden; returns the module."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            with contextlib.suppress(OSError):
                sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return tensorflow


def import_tensorflow_if_backend():
    """Import TensorFlow quietly (as `import_tensorflow`) when it is Keras's backend in this process; on JAX or
    PyTorch nothing, so a command runs where TensorFlow is not installed."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import_tensorflow()


def select_backend(name):
    """Make `name` the Keras backend of this process: Keras reads KERAS_BACKEND once, when it is imported."""
    if name is None:
        return
    if name not in BACKENDS:
        raise UsageError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}.")
    if "keras" in sys.modules:
        running = sys.modules["keras"].backend.backend()
        if running != name:
            raise UsageError(f"Keras already runs on {running} in this process; start it with KERAS_BACKEND={name}.")
        return
    if importlib.util.find_spec(name) is None:  # `main` names the extra that installs it
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    os.environ["KERAS_BACKEND"] = name
