"""What `GAN.fit` checks in the data it is given, before a step is wasted on it.

A GAN trains on anything without complaint: NaN pixels give NaN losses, images in [0, 255] give a
generator that can never match them (its tanh ends at 1), float labels are truncated to another
class. So arrays are checked whole, once, in numpy; a `tf.data.Dataset` is checked batch by batch
in its input pipeline (`checked_dataset`), off the training step's path: it costs a reduction per
batch (measured in benchmarks/training.py, the "input checks off" row).
"""

import logging
import weakref

import keras
import numpy as np

from zoo.tf_optional import tf

# Samples may overshoot the generator's range by this much (resizing and float rounding do).
RANGE_TOLERANCE = 1e-3
RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}
SCALE_ADVICE = {(-1.0, 1.0): "x / 127.5 - 1 for pixels in [0, 255]", (0.0, 1.0): "x / 255 for pixels in [0, 255]"}

log = logging.getLogger("zoo")


def output_range(generator):
    """(low, high) of the generator's output: its last activation's range ((-1, 1) for tanh, (0, 1) for
    sigmoid) through any `Rescaling` after it (the papers' sigmoid generators end in one to [-1, 1]);
    None if unbounded."""
    scale, offset = 1.0, 0.0
    for layer in reversed(generator.layers):
        if isinstance(layer, keras.layers.Rescaling):
            scale, offset = scale * float(layer.scale), offset + scale * float(layer.offset)
            continue
        activation = getattr(layer, "activation", None)
        if activation is None:
            continue
        bounds = RANGES.get(getattr(activation, "__name__", str(activation)))
        if bounds is None:
            return None
        low, high = sorted(scale * bound + offset for bound in bounds)
        return (low, high)
    return None


def _range_error(low, high, value_range):
    advice = SCALE_ADVICE.get(tuple(value_range), "rescale them")
    return ValueError(
        f"training samples lie in [{low:g}, {high:g}], but the generator outputs [{value_range[0]:g}, "
        f"{value_range[1]:g}]; scale them to that range (e.g. {advice})."
    )


def checked_arrays(x, y, value_range, num_classes):
    """(x, y) ready to train on, or a ValueError that says what is wrong and how to fix it.

    uint8 images are scaled to `value_range` (said in one log line); float samples must be finite
    and inside `value_range`; labels must be finite whole numbers in [0, num_classes), one per sample.

    Args:
        x: numpy samples.
        y: numpy labels or None.
        value_range: the generator's (low, high), or None when unbounded.
        num_classes: the class count of a conditional GAN, else None.
    """
    x = np.asarray(x)
    if x.dtype == np.uint8 and value_range is not None:
        low, high = value_range
        log.warning("GAN.fit: uint8 samples scaled from [0, 255] to the generator's range [%g, %g].", low, high)
        x = (x.astype("float32") / 255.0 * (high - low) + low).astype("float32")
    elif not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"training samples must be numbers, got dtype {x.dtype}.")
    bad = ~np.isfinite(x)
    if bad.any():
        index = tuple(int(i) for i in np.unravel_index(np.argmax(bad), x.shape))
        raise ValueError(f"training samples hold {int(bad.sum())} NaN or Inf value(s), the first at index {index}.")
    if value_range is not None and x.size:
        low, high = float(x.min()), float(x.max())
        if low < value_range[0] - RANGE_TOLERANCE or high > value_range[1] + RANGE_TOLERANCE:
            raise _range_error(low, high, value_range)
    if y is not None and num_classes is not None:
        y = checked_labels(y, len(x), num_classes)
    return x, y


def checked_labels(y, n, num_classes):
    """`y` as int32 (n,) class indices; ValueError for non-finite, fractional, out-of-range or miscounted labels."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (n,):
        raise ValueError(f"expected {n} labels (one per sample), got shape {y.shape}.")
    if np.issubdtype(y.dtype, np.floating):
        if not np.isfinite(y).all():
            raise ValueError("labels hold NaN or Inf values.")
        fractional = y[y != np.round(y)]
        if fractional.size:
            raise ValueError(f"labels must be whole class indices; got {fractional[0]:g} (it would be truncated).")
    elif not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {y.dtype}.")
    bad = y[(y < 0) | (y >= num_classes)]
    if bad.size:
        raise ValueError(f"label {bad[0]:g} is outside [0, {num_classes}).")
    return y.astype("int32")


def checked_dataset(dataset, value_range, num_classes):
    """`dataset` with each batch checked in the input pipeline (finite, in range, whole labels in range).

    A failed check stops `fit` with a `tf.errors.InvalidArgumentError` whose message starts with
    "ganzoo:" (`GAN.fit` turns it into a ValueError). The checked pipeline is built once per
    dataset and reused: tracing it again on every `fit` call would cost more than the checks.
    """
    key = (value_range, num_classes)
    try:
        known = _CHECKED.setdefault(dataset, {})
    except TypeError:  # not weakly referenceable: build it each time
        known = {}
    if key not in known:
        known[key] = _checked_dataset(dataset, value_range, num_classes)
    return known[key]


_CHECKED = weakref.WeakKeyDictionary()  # dataset -> {(value_range, num_classes): checked dataset}


def _checked_dataset(dataset, value_range, num_classes):
    spec = dataset.element_spec
    has_labels = isinstance(spec, (tuple, list)) and len(spec) > 1

    def check_samples(samples):
        if not samples.dtype.is_floating:
            return samples
        checks = [tf.debugging.assert_all_finite(samples, "ganzoo: training samples hold NaN or Inf values")]
        if value_range is not None:
            low, high = value_range
            advice = SCALE_ADVICE.get(tuple(value_range), "rescale them")
            message = f"ganzoo: training samples lie outside the generator's range [{low:g}, {high:g}]; scale them (e.g. {advice})"
            checks += [
                tf.debugging.assert_greater_equal(tf.reduce_min(samples), tf.cast(low - RANGE_TOLERANCE, samples.dtype), message),
                tf.debugging.assert_less_equal(tf.reduce_max(samples), tf.cast(high + RANGE_TOLERANCE, samples.dtype), message),
            ]
        with tf.control_dependencies(checks):
            return tf.identity(samples)

    def check_labels(labels):
        checks = []
        if labels.dtype.is_floating:
            checks.append(tf.debugging.assert_equal(
                labels, tf.round(labels), "ganzoo: labels must be whole class indices (a fractional label would be truncated)"
            ))
        with tf.control_dependencies(checks):
            labels = tf.cast(labels, "int32")
        if num_classes is None:
            return labels
        checks = [
            tf.debugging.assert_non_negative(labels, message="ganzoo: a label is negative"),
            tf.debugging.assert_less(labels, num_classes, message=f"ganzoo: a label is outside [0, {num_classes})"),
        ]
        with tf.control_dependencies(checks):
            return tf.identity(labels)

    if has_labels:
        checked = dataset.map(lambda samples, labels, *rest: (check_samples(samples), check_labels(labels), *rest))
    else:
        checked = dataset.map(check_samples)
    # Prefetched: the next batch is checked on the CPU while the current step runs.
    return checked.prefetch(tf.data.AUTOTUNE)
