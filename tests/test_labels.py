"""One label check, two homes: `zoo.GAN` (Keras) and the TensorFlow-free runtime (`export.sampling`).

The runtime cannot import the model, so it keeps its own copy; these cases hold both to the same
behaviour: the same bad inputs raise ValueError with the same message, the same good ones pass.
"""

import numpy as np
import pytest

import zoo
from export import sampling

CLASSES, N = 4, 3


@pytest.fixture(scope="module")
def gans():
    small = dict(backbone="mlp", activation="relu", dropout=0.0, data_shape=(2,), latent_dim=2, g_units=(4,), d_units=(4,))
    return {
        "conditional": zoo.create("conditional_dcgan_mbd", num_classes=CLASSES, **small),
        "unconditional": zoo.create("vanilla", **small),
    }


def _runtime(kind, labels):
    return sampling.check_labels(labels, N, CLASSES if kind == "conditional" else None)


@pytest.mark.parametrize(
    "kind, labels, message",
    [
        ("unconditional", 0, "labels were given, but this generator is unconditional."),
        ("conditional", None, "this conditional generator needs labels in [0, 4)."),
        ("conditional", [0.5, 1.0, 2.0], "labels must be integers, got dtype float64."),
        ("conditional", [0, 1], "expected 3 labels (one per latent vector), got shape (2,)."),
        ("conditional", [[0, 1, 2]], "expected 3 labels (one per latent vector), got shape (1, 3)."),
        ("conditional", [0, 4, 1], "label 4 is outside [0, 4)."),
        ("conditional", -1, "label -1 is outside [0, 4)."),
    ],
)
def test_same_bad_labels_same_error(gans, kind, labels, message):
    with pytest.raises(ValueError) as from_model:
        gans[kind].generate(N, labels=labels, seed=0)
    with pytest.raises(ValueError) as from_runtime:
        _runtime(kind, labels)
    assert str(from_model.value) == str(from_runtime.value) == message


@pytest.mark.parametrize(
    "kind, labels, expected",
    [
        ("unconditional", None, None),
        ("conditional", 2, [2, 2, 2]),
        ("conditional", [0, 3, 1], [0, 3, 1]),
        ("conditional", np.array([1, 1, 2], dtype=np.uint8), [1, 1, 2]),
    ],
)
def test_same_good_labels_accepted(gans, kind, labels, expected):
    samples = gans[kind].generate(N, labels=labels, seed=0)
    assert samples.shape == (N, 2) and samples.dtype == np.float32
    checked = _runtime(kind, labels)
    assert (checked is None) if expected is None else checked.tolist() == expected
