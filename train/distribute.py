"""Scaling knobs for `fit`: which tf.distribute strategy a run uses (the model side is `zoo.distribute`).

    from train.distribute import get_strategy, set_mixed_precision
    set_mixed_precision("auto")               # before building the model
    strategy = get_strategy("mirrored")       # all local GPUs
    with strategy.scope():
        gan = zoo.create("dcgan")
        gan.compile(jit_compile=True)         # builds both optimizers inside the scope
    gan.fit(dataset.batch(global_batch_size))

`fit` splits each global batch across the replicas; `GAN.train_step` averages the losses over
the global batch, so the numbers match one device on the same batch.

On the JAX backend the one strategy is "data_parallel", Keras's `keras.distribution.DataParallel` over the
local devices: the step sees the global batch as one array that XLA shards, so it is the one-device step.
Build, compile and fit inside its `scope()`.
"""

import contextlib
import json
import os

# The model side (dtype policies, float32 copies, synchronised BatchNorm) lives in zoo; re-exported here.
from zoo.distribute import (  # noqa: F401
    MIXED_PRECISION_POLICIES,
    default_mixed_precision_policy,
    float32_copy,
    mixed_precision,
    mixed_precision_policy,
    set_mixed_precision,
    synchronize_batch_norm,
)

STRATEGIES = ("default", "mirrored", "multiworker", "data_parallel")
TF_STRATEGIES = ("mirrored", "multiworker")  # tf.distribute's: the tensorflow backend only


def get_strategy(name="default", devices=None):
    """The `tf.distribute.Strategy` called `name`.

    - "default": no distribution (one device; TensorFlow places ops itself). On JAX and PyTorch a `OneDevice`,
      whose `scope()` does nothing.
    - "mirrored": `MirroredStrategy` over `devices` (e.g. ["/gpu:0", "/gpu:1"]), by default every
      local GPU, or the CPU where there is none. Variables are mirrored and gradients all-reduced
      every step.
    - "multiworker": `MultiWorkerMirroredStrategy` across the hosts listed in the `TF_CONFIG`
      environment variable (see `tf_config`); every worker runs the same program. Create it at
      program start, before any other TensorFlow op.

    - "data_parallel" (JAX backend): `keras.distribution.DataParallel` over `devices` (JAX devices), by
      default every local one.

    Args:
        name: one of `STRATEGIES`.
        devices: device names for "mirrored" (e.g. ["/gpu:0", "/gpu:1"]); None for all local GPUs.
    """
    import keras

    backend = keras.backend.backend()
    if name == "data_parallel":
        if backend != "jax":
            raise ValueError("the 'data_parallel' strategy is keras.distribution.DataParallel, which runs on the jax "
                             "backend; on tensorflow use 'mirrored'.")
        return keras.distribution.DataParallel(devices=list(devices) if devices else None)
    if name in TF_STRATEGIES and backend != "tensorflow":
        raise ValueError(f"the {name!r} strategy is tf.distribute's and needs the tensorflow backend (this is "
                         f"{backend}); on jax use 'data_parallel'.")
    if name == "default":
        if devices:
            raise ValueError("devices can only be given with the 'mirrored' strategy.")
        if backend != "tensorflow":
            return OneDevice()
        import tensorflow as tf

        return tf.distribute.get_strategy()
    import tensorflow as tf

    if name == "mirrored":
        devices = list(devices) if devices else None
        cross_device_ops = None
        if devices is None and not tf.config.list_logical_devices("GPU"):
            devices = [device.name for device in tf.config.list_logical_devices("CPU")]
        if devices and not any("GPU" in device.upper() for device in devices):
            # NCCL (the GPU default) does not exist for CPUs; reduce through one device instead.
            cross_device_ops = tf.distribute.ReductionToOneDevice()
        return tf.distribute.MirroredStrategy(devices=devices, cross_device_ops=cross_device_ops)
    if name == "multiworker":
        if devices:
            raise ValueError("devices cannot be given with 'multiworker'; every worker uses its local devices.")
        if "TF_CONFIG" not in os.environ:
            raise ValueError("the 'multiworker' strategy needs the TF_CONFIG environment variable (docs/backends.md, "
                             "section 'Several hosts', says how; train.distribute.tf_config writes it).")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"Unknown strategy {name!r}; choose one of {STRATEGIES}.")


class OneDevice:
    """The "default" strategy on JAX and PyTorch: one device, nothing to distribute, no TensorFlow needed."""

    def scope(self):
        return contextlib.nullcontext()


def tf_config(workers, index, task_type="worker"):
    """The TF_CONFIG JSON string for worker `index` of the `workers` cluster.

    Args:
        workers: the cluster's "host:port" addresses, the same list on every worker.
        index: this worker's position in `workers`.
        task_type: the cluster's task name.
    """
    return json.dumps({"cluster": {task_type: list(workers)}, "task": {"type": task_type, "index": int(index)}})
