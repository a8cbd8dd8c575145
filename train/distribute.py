"""Scaling knobs for `fit`: tf.distribute strategies and mixed precision.

    from train.distribute import get_strategy, set_mixed_precision
    set_mixed_precision("auto")               # before building the model
    strategy = get_strategy("mirrored")       # all local GPUs
    with strategy.scope():
        gan = zoo.create("dcgan")
        gan.compile(jit_compile=True)         # builds both optimizers inside the scope
    gan.fit(dataset.batch(global_batch_size))

`fit` splits each global batch across the replicas; `GAN.train_step` averages the losses over
the global batch, so the numbers match one device on the same batch.
"""

import contextlib
import json
import os

STRATEGIES = ("default", "mirrored", "multiworker")
MIXED_PRECISION_POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


def get_strategy(name="default", devices=None):
    """The `tf.distribute.Strategy` called `name`.

    - "default": no distribution (one device; TensorFlow places ops itself).
    - "mirrored": `MirroredStrategy` over `devices` (e.g. ["/gpu:0", "/gpu:1"]), by default every
      local GPU, or the CPU where there is none. Variables are mirrored and gradients all-reduced
      every step.
    - "multiworker": `MultiWorkerMirroredStrategy` across the hosts listed in the `TF_CONFIG`
      environment variable (see `tf_config`); every worker runs the same program. Create it at
      program start, before any other TensorFlow op.
    """
    import tensorflow as tf

    if name == "default":
        if devices:
            raise ValueError("devices can only be given with the 'mirrored' strategy.")
        return tf.distribute.get_strategy()
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
            raise ValueError("the 'multiworker' strategy needs the TF_CONFIG environment variable (see README).")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"Unknown strategy {name!r}; choose one of {STRATEGIES}.")


def tf_config(workers, index, task_type="worker"):
    """The TF_CONFIG JSON string for worker `index` of the `workers` ("host:port") cluster."""
    return json.dumps({"cluster": {task_type: list(workers)}, "task": {"type": task_type, "index": int(index)}})


def default_mixed_precision_policy():
    """mixed_float16 where there is a GPU (tensor cores), mixed_bfloat16 on CPU (no loss scaling needed)."""
    import tensorflow as tf

    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def set_mixed_precision(policy="auto"):
    """Set Keras' global dtype policy for models built from now on; returns the policy name.

    `policy`: "auto" or True (see `default_mixed_precision_policy`), "mixed_float16",
    "mixed_bfloat16", or "float32" / None / False to switch mixed precision off.
    Layers then compute in 16 bits and keep float32 variables; `GAN` keeps discriminator logits
    and losses in float32 and wraps its optimizers in `LossScaleOptimizer` under mixed_float16.
    """
    import keras

    if policy is True or policy == "auto":
        policy = default_mixed_precision_policy()
    elif policy in (None, False, "off", "none"):
        policy = "float32"
    if policy not in MIXED_PRECISION_POLICIES:
        raise ValueError(f"Unknown mixed-precision policy {policy!r}; choose 'auto' or one of {MIXED_PRECISION_POLICIES}.")
    keras.mixed_precision.set_global_policy(policy)
    return policy


@contextlib.contextmanager
def mixed_precision(policy="auto"):
    """`set_mixed_precision(policy)` for the duration of a `with` block; the previous policy is restored."""
    import keras

    previous = keras.mixed_precision.global_policy()
    try:
        yield set_mixed_precision(policy)
    finally:
        keras.mixed_precision.set_global_policy(previous)


def float32_copy(model):
    """A float32 copy of a functional `model` built under a mixed-precision policy (same weights).

    A generator trained under mixed precision computes, and outputs, 16-bit values; export this copy
    to get a float32 ONNX graph. Its variables were float32 all along, so nothing is lost.
    """
    import keras

    def float32_layer(layer):
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})

    copy = keras.models.clone_model(model, clone_function=float32_layer)
    copy.set_weights(model.get_weights())
    return copy


def synchronize_batch_norm(model, synchronized=True):
    """Switch every BatchNormalization layer in `model` (a GAN, or one of its networks) to
    global-batch statistics under a strategy; returns how many layers it changed.

    By default Keras' BatchNormalization normalises each replica's batch with that replica's own
    mean and variance, and each replica keeps its own moving averages (the saved ones are replica
    0's). Synchronised, they are all-reduced every call: the step then equals the one-device step
    on the global batch, at the cost of one all-reduce per BatchNorm layer.
    """
    import keras

    batch_norms = [layer for layer in _all_layers(model) if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in batch_norms:
        layer.synchronized = bool(synchronized)
    return len(batch_norms)


def _all_layers(model):
    """Every layer in `model` and its nested models, once each."""
    seen, stack, found = set(), [model], []
    while stack:
        layer = stack.pop()
        if id(layer) not in seen:
            seen.add(id(layer))
            found.append(layer)
            stack.extend(getattr(layer, "layers", []))
    return found
