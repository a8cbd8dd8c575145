"""Training around `model.fit`: datasets, callbacks, the run folder and the `ganzoo` command.

Attributes are imported on first use, so `import train.cli` (and `ganzoo sample`) does not pull
in TensorFlow.
"""

import importlib

_EXPORTS = {
    # name: module that defines it (filled in as the modules land)
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'train' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
