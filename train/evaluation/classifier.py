"""The evaluation classifier: a small CNN per dataset that scores generated images (not a GAN's discriminator).

It is trained once on the dataset's train split and cached.

Image metrics (classifier score, Frechet distance, class histograms, conditional accuracy) need a
network that knows the dataset. InceptionV3 is the standard but needs ImageNet weights from the
internet and 299x299 inputs; like TF-GAN's `mnist_score` / `mnist_frechet_distance`, we use a
dataset-specific classifier instead, so the metrics work offline and on CPU. Its test accuracy is
part of every report: a metric is only as good as the classifier behind it.

The trained model is cached under `$GANZOO_CACHE` (default `~/.cache/ganzoo`)/classifiers, keyed by
the dataset, the image shape, the training budget and a fingerprint of the training data, and
reused on later calls.
"""

import math
import os
import pathlib
import time

import numpy as np

from train import files, progress

ARCHITECTURE_VERSION = 1  # bump when build_classifier changes, so old cache entries are not reused
FEATURES_LAYER = "features"


def cache_dir():
    """Where trained classifiers live: `$GANZOO_CACHE/classifiers`, default ~/.cache/ganzoo/classifiers."""
    root = os.environ.get("GANZOO_CACHE") or pathlib.Path.home() / ".cache" / "ganzoo"
    return pathlib.Path(root) / "classifiers"


def build_classifier(input_shape, num_classes):
    """Two conv blocks and a 128-unit layer (the feature space for Frechet distance), softmax out."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=tuple(input_shape), name="images")
    h = inputs
    for filters in (32, 64):
        h = layers.Conv2D(filters, 3, padding="same", activation="relu")(h)
        h = layers.MaxPooling2D()(h)
    h = layers.Flatten()(h)
    features = layers.Dense(128, activation="relu", name=FEATURES_LAYER)(h)
    h = layers.Dropout(0.3)(features)
    probabilities = layers.Dense(num_classes, activation="softmax", name="probabilities")(h)
    return keras.Model(inputs, probabilities, name="evaluation_classifier")


class EvaluationClassifier:
    """A trained evaluation classifier: `predict_proba(x)`, `features(x)`, `predict(x)`.

    Inputs are images as the generators produce them: float32 NHWC in [-1, 1].
    """

    def __init__(self, model, info=None):
        import keras

        self.model = model
        self.info = dict(info or {})
        self._both = keras.Model(model.inputs, [model.get_layer(FEATURES_LAYER).output, model.outputs[0]])

    @property
    def num_classes(self):
        return int(self.model.outputs[0].shape[-1])

    @property
    def input_shape(self):
        return tuple(int(d) for d in self.model.inputs[0].shape[1:])

    @property
    def test_accuracy(self):
        return self.info.get("test_accuracy")

    def outputs(self, x, batch_size=500):
        """(features, class probabilities) as float64 numpy arrays, from one pass over x."""
        x = np.asarray(x, dtype="float32")
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"the classifier takes images of shape {self.input_shape}, got {tuple(x.shape[1:])}.")
        features, probabilities = [], []
        for start in range(0, len(x), batch_size):
            f, p = self._both([x[start : start + batch_size]], training=False)
            features.append(np.asarray(f))
            probabilities.append(np.asarray(p))
        return np.concatenate(features).astype("float64"), np.concatenate(probabilities).astype("float64")

    def features(self, x, batch_size=500):
        return self.outputs(x, batch_size)[0]

    def predict_proba(self, x, batch_size=500):
        return self.outputs(x, batch_size)[1]

    def predict(self, x, batch_size=500):
        return self.predict_proba(x, batch_size).argmax(axis=1)


def train_classifier(
    x_train, y_train, x_test, y_test, num_classes=None, epochs=3, batch_size=128, min_steps=500, seed=0, verbose=0
):
    """Train a fresh classifier on (x_train, y_train) and measure it on the test split.

    Trains for `epochs` passes or `min_steps` updates, whichever is more, so that a small train
    split (digits: 1,437 images) still gets enough updates; the passes run as one Keras epoch to
    skip the per-epoch overhead.
    """
    import keras
    import tensorflow as tf

    num_classes = int(num_classes or int(max(y_train.max(), y_test.max())) + 1)
    steps = max(int(epochs) * math.ceil(len(x_train) / batch_size), int(min_steps))
    keras.utils.set_random_seed(seed)
    model = build_classifier(x_train.shape[1:], num_classes)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    data = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train.astype("int32")))
        .shuffle(len(x_train), seed=seed)
        .repeat()
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    start = time.time()
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=verbose)
    _, accuracy = model.evaluate(x_test, y_test, batch_size=500, verbose=0)
    info = {
        "test_accuracy": float(accuracy),
        "num_train": int(len(x_train)),
        "num_test": int(len(x_test)),
        "steps": int(steps),
        "batch_size": int(batch_size),
        "epochs": round(steps * batch_size / len(x_train), 1),
        "train_seconds": round(time.time() - start, 1),
        "architecture_version": ARCHITECTURE_VERSION,
    }
    return EvaluationClassifier(model, info)


def load_or_train(
    dataset, image_size=None, data_dir=None, epochs=3, min_steps=500, verbose=True, train=None, test=None
):
    """The cached classifier for `dataset` (a name or an IDX folder), training and caching it if needed.

    `epochs` / `min_steps`: the training budget (see `train_classifier`) when it is not cached yet.
    `train` / `test` may be pre-loaded `train.datasets.load_arrays` results; otherwise they are loaded.
    Prints the classifier's test accuracy when `verbose`, and Keras's progress bar while it trains one.
    """
    import keras

    from train.datasets import fingerprint, load_arrays

    train = train or load_arrays(dataset, split="train", image_size=image_size, data_dir=data_dir)
    test = test or load_arrays(dataset, split="test", image_size=image_size, data_dir=data_dir)
    if train.y is None or test.y is None:
        raise ValueError(f"dataset {dataset!r} has no labels, so no evaluation classifier can be trained on it.")
    label = pathlib.Path(str(train.name or dataset)).name.replace(os.sep, "_") or "dataset"
    shape = "x".join(str(d) for d in train.x.shape[1:])
    budget = f"e{int(epochs)}m{int(min_steps)}"  # a different training budget is a different classifier
    key = f"{label}-{shape}-v{ARCHITECTURE_VERSION}-{budget}-{fingerprint(train.x, train.y)}"
    path = cache_dir() / f"{key}.keras"
    info_path = path.with_suffix(".json")
    if path.exists() and info_path.exists():
        classifier = EvaluationClassifier(keras.models.load_model(path, compile=False), files.read_json(info_path))
        source = f"cached at {path}"
    else:
        num_classes = len(train.class_names) if getattr(train, "class_names", None) else None
        progress.phase(f"Training the evaluation classifier for {dataset} on {len(train.x):,} images (once: it is "
                       "cached)", verbose)
        classifier = train_classifier(
            train.x, train.y, test.x, test.y, num_classes=num_classes, epochs=epochs, min_steps=min_steps,
            verbose=progress.bar_verbosity(verbose),
        )
        classifier.info.update(dataset=str(dataset), class_names=list(getattr(train, "class_names", None) or []))
        files.save_model(classifier.model, path)
        files.save_json(classifier.info, info_path)
        source = f"trained in {classifier.info['train_seconds']} s, cached at {path}"
    classifier.info["cache_path"] = str(path)
    if verbose:
        print(
            f"evaluation classifier for {dataset}: test accuracy {100 * classifier.test_accuracy:.2f}% "
            f"on {classifier.info['num_test']} test images ({source})",
            flush=True,
        )
    return classifier
