"""Process set-up for a command: which Keras backend it runs (`select_backend`), and TensorFlow's start-up
chatter kept off the terminal, so a failing command shows our one error line.

TensorFlow 2.21 logs through absl before absl is initialised ("All log messages before
absl::InitializeLog() ...", the CUDA stub's "Could not find cuda drivers"), which no environment
variable silences, and later at ERROR level (a failed cuInit on a host without a GPU), which
TF_CPP_MIN_LOG_LEVEL=3 does. So: that variable (unless the user set one), and fd 2 captured while
`import tensorflow` runs, replayed only if the import fails.
"""

import contextlib
import importlib
import importlib.util
import os
import sys
import tempfile

from train.cli.errors import UsageError

BACKENDS = ("tensorflow", "jax", "torch")


def import_tensorflow():
    """Import TensorFlow (once) with its start-up logging hidden; returns the module."""
    return _import_quietly("tensorflow")


def import_keras():
    """Import Keras (and so its backend) with TensorFlow's start-up logging hidden, as `import_tensorflow`; where
    TensorFlow is installed it is imported too, whatever the backend (TensorBoard's writer uses it), and where it
    is not, a JAX or PyTorch command runs without it."""
    if importlib.util.find_spec("tensorflow") is not None:
        _import_quietly("tensorflow")
    _import_quietly("keras")


def _import_quietly(name):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if name in sys.modules:
        return sys.modules[name]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            module = importlib.import_module(name)
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            with contextlib.suppress(OSError):
                sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return module


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
