"""Training around `model.fit`: datasets, callbacks, the run folder and the `ganzoo` command.

Attributes are imported on first use, so `import train.cli` (and `ganzoo sample`) does not pull
in TensorFlow.
"""

import importlib

_EXPORTS = {
    # name: module that defines it
    # data
    "load_dataset": "train.datasets",
    "load_arrays": "train.datasets",
    "DatasetArrays": "train.datasets",
    "dataset_names": "train.datasets",
    "toy_modes": "train.datasets",
    "epoch_dataset": "train.datasets",
    "epoch_batches": "train.datasets",
    "tf_epoch_dataset": "train.datasets",
    # callbacks
    "SampleGrid": "train.callbacks",
    "LatentWalk": "train.callbacks",
    "TrainingCurves": "train.callbacks",
    "ToyDistributionPlot": "train.callbacks",
    "StopOnDivergence": "train.callbacks",
    "RunCheckpoint": "train.callbacks",
    # the latent space
    "lerp": "train.latent",
    "slerp": "train.latent",
    "interpolate": "train.latent",
    "latent_walk": "train.latent",
    "vector_arithmetic": "train.latent",
    # runs and recipes
    "RunSpec": "train.runner",
    "RunResult": "train.runner",
    "train_run": "train.runner",
    "RECIPES": "train.recipes",
    "get_recipe": "train.recipes",
    # evaluation
    "evaluate": "train.evaluation",
    "load_source": "train.evaluation",
    # scale
    "get_strategy": "train.distribute",
    "set_mixed_precision": "train.distribute",
    "mixed_precision": "train.distribute",
    "mixed_precision_policy": "train.distribute",
    "float32_copy": "train.distribute",
    "synchronize_batch_norm": "train.distribute",
    "tf_config": "train.distribute",
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'train' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
