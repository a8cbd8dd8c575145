"""What a model needs to train under several replicas or a mixed-precision policy, and to leave it.

    import zoo
    zoo.set_mixed_precision("auto")          # before building the model
    gan = zoo.create("dcgan")
    zoo.synchronize_batch_norm(gan)          # global-batch BatchNorm statistics under a strategy
    generator = zoo.float32_copy(gan.generator)   # float32 again, e.g. for export

These act on models and Keras' dtype policy only; choosing a `tf.distribute` strategy for a run is
`train.distribute`'s.
"""

import contextlib
import itertools

import keras

from zoo.tf_optional import tf

MIXED_PRECISION_POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


def default_mixed_precision_policy():
    """mixed_float16 where there is a GPU (tensor cores), mixed_bfloat16 on CPU (no loss scaling needed)."""
    return "mixed_float16" if has_gpu() else "mixed_bfloat16"


def has_gpu():
    """Whether the Keras backend in use computes on a GPU (each backend has its own view of the devices: a CPU
    TensorFlow beside a CUDA JAX sees none)."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return any(device.platform == "gpu" for device in jax.devices())
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return bool(tf is not None and tf.config.list_physical_devices("GPU"))


def mixed_precision_policy(policy="auto"):
    """The dtype policy name `policy` stands for on this machine ("auto" resolved); ValueError for an unknown one.

    Args:
        policy: as for `set_mixed_precision`.
    """
    if policy is True or policy == "auto":
        return default_mixed_precision_policy()
    if policy in (None, False, "off", "none"):
        return "float32"
    if policy not in MIXED_PRECISION_POLICIES:
        raise ValueError(f"Unknown mixed-precision policy {policy!r}; choose 'auto' or one of {MIXED_PRECISION_POLICIES}.")
    return policy


def set_mixed_precision(policy="auto"):
    """Set Keras' global dtype policy for models built from now on; returns the policy name.

    Layers then compute in 16 bits and keep float32 variables; `GAN`, `Pix2Pix` and `CycleGAN` keep
    discriminator logits and losses in float32 and wrap their optimizers in `LossScaleOptimizer` under
    mixed_float16.

    Args:
        policy: "auto" or True (see `default_mixed_precision_policy`), "mixed_float16",
            "mixed_bfloat16", or "float32" / None / False to switch mixed precision off.
    """

    policy = mixed_precision_policy(policy)
    keras.mixed_precision.set_global_policy(policy)
    return policy


@contextlib.contextmanager
def mixed_precision(policy="auto"):
    """`set_mixed_precision(policy)` for the duration of a `with` block; the previous policy is restored.

    Args:
        policy: as for `set_mixed_precision`.
    """

    previous = keras.mixed_precision.global_policy()
    try:
        yield set_mixed_precision(policy)
    finally:
        keras.mixed_precision.set_global_policy(previous)


def computes_in_16_bits(model):
    """Whether any layer of `model` computes in float16 or bfloat16: a network built under a mixed policy. (Loaded
    from a file, such a network's own policy may read float32 while its layers keep theirs.)

    Args:
        model: a `keras.Model` (its nested models' layers count too).
    """

    return any(layer.compute_dtype in ("float16", "bfloat16") for layer in _all_layers(model))


def loss_scaled(optimizer, *networks):
    """`optimizer` in a `LossScaleOptimizer` where any layer of `networks` computes in float16 (whose small
    gradients underflow unscaled: the mixed_float16 policy), else as given.

    Args:
        optimizer: a Keras optimizer (one already loss-scaled is returned as it is).
        *networks: the models it trains.
    """
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    if any(layer.compute_dtype == "float16" for network in networks for layer in _all_layers(network)):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def float32_copy(model):
    """A float32 copy of a functional `model` built under a mixed-precision policy (same weights).

    A generator trained under mixed precision computes, and outputs, 16-bit values; export this copy
    to get a float32 ONNX graph. Its variables were float32 all along, so nothing is lost.

    Args:
        model: a functional `keras.Model`, e.g. `gan.generator`.
    """

    def float32_layer(layer):
        if not isinstance(layer, keras.layers.Layer):  # an op in the graph (x[:, 0]), which has no dtype policy
            return layer
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

    Args:
        model: a `GAN`, or one of its networks.
        synchronized: True for global-batch statistics, False for per-replica ones.
    """

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


_collective_key_bases = itertools.count(1)


def own_collective_keys(strategy):
    """Give a `MirroredStrategy` collective-op keys no earlier strategy in this process used; returns whether it
    changed anything. `GAN.compile` calls it on the strategy whose scope it runs in.

    Every MirroredStrategy numbers its collective ops (all_gather, replica-context all_reduce) from the same
    keys, and TensorFlow remembers each key's tensor shape for the life of the process: a second model trained
    in a new strategy at another batch size (a notebook) failed in minibatch discrimination's all_gather with
    "Shape mismatch in the collective instance". TensorFlow's own tests set `_collective_key_base` on the class
    for the same reason; this sets it on the strategy and rebuilds its collective ops with it.
    """
    extended = strategy.extended
    if not isinstance(strategy, tf.distribute.MirroredStrategy) or getattr(extended, "_ganzoo_own_keys", False):
        return False
    try:
        uses_collectives = extended._cross_device_ops is extended._collective_ops
        extended._collective_key_base = 1000 * next(_collective_key_bases)  # group keys: a few per strategy
        extended._collective_ops = extended._make_collective_ops_with_fallbacks()
    except AttributeError:  # another TensorFlow's internals: leave the strategy as it is
        return False
    if uses_collectives:
        extended._cross_device_ops = extended._collective_ops
    extended._ganzoo_own_keys = True
    return True
