"""The models shipped in saved_models/: the digits generators load, match their Keras originals and draw digits;
the translators run in raw onnxruntime as their metadata says."""

import pathlib

import numpy as np
import pytest

from export import GeneratorSession

SAVED = pathlib.Path(__file__).resolve().parents[1] / "saved_models"
SHIPPED = {
    # name: (preset, num_classes)
    "dcgan_digits": ("dcgan_mbd_code_ema", None),
    "conditional_dcgan_digits": ("conditional_dcgan_mbd", 10),
}


@pytest.fixture(scope="module")
def digit_classifier():
    """5-nearest-neighbours on scikit-learn's digits in the models' [-1, 1] scale (~98% on held-out digits).

    Instant to fit; its probabilities are the share of the 5 neighbours that agree.
    """
    from sklearn.datasets import load_digits
    from sklearn.neighbors import KNeighborsClassifier

    digits = load_digits()
    x = digits.images.reshape(len(digits.images), -1) / 8.0 - 1.0
    return KNeighborsClassifier(n_neighbors=5).fit(x, digits.target)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_files_and_metadata(name):
    preset, num_classes = SHIPPED[name]
    for suffix in (".onnx", ".keras"):
        path = SAVED / f"{name}{suffix}"
        assert path.is_file(), f"missing {path}"
        assert path.stat().st_size < 3e6  # small enough for the repository
    session = GeneratorSession(SAVED / f"{name}.onnx")
    meta = session.metadata
    assert meta["preset"] == preset and meta["dataset"] == "digits" and session.num_classes == num_classes
    assert session.image_shape == (8, 8, 1) and session.value_range == (-1.0, 1.0)
    assert meta["training"]["seed"] == 0 and meta["training"]["epochs"] > 0
    if num_classes:
        assert session.class_names == [str(i) for i in range(10)]


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_metadata_sidecar_and_label_range(name):
    import json

    import onnx
    import onnxruntime as ort

    model = onnx.load(str(SAVED / f"{name}.onnx"))
    props = {prop.key: json.loads(prop.value) for prop in model.metadata_props}
    assert props == json.loads((SAVED / f"{name}.metadata.json").read_text())
    assert props["ganzoo.format"] == "gan-zoo-generator/2" and props["license"] == "Apache-2.0"
    assert (SAVED.parent / props["model_card"]).is_file()
    if SHIPPED[name][1]:  # raw onnxruntime, as Node, the browser and Triton run it
        session = ort.InferenceSession(str(SAVED / f"{name}.onnx"), providers=["CPUExecutionProvider"])
        labels = np.array([9, -1, 10, 10**6, 0])
        images = session.run(None, {"z": np.zeros((5, 100), np.float32), "label": labels})[0]
        assert np.isfinite(images[[0, 4]]).all() and np.isnan(images[1:4]).all()


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_onnx_matches_shipped_keras(name):
    import keras

    from export.exporter import FP32_TOLERANCE, parity_check

    generator = keras.models.load_model(SAVED / f"{name}.keras", compile=False)
    _, rows = parity_check(generator, SAVED / f"{name}.onnx", FP32_TOLERANCE)  # raises beyond 1e-4
    classes = SHIPPED[name][1]
    assert len(rows) == (2 if classes is None else 2 * (classes + 1))
    assert max(row["max_abs_diff"] for row in rows) <= FP32_TOLERANCE


def test_unconditional_model_draws_many_digits(digit_classifier):
    session = GeneratorSession(SAVED / "dcgan_digits.onnx")
    samples = session(session.sample_noise(1000, seed=0)).reshape(1000, -1)
    probabilities = digit_classifier.predict_proba(samples)
    counts = np.bincount(probabilities.argmax(1), minlength=10)
    assert counts.min() >= 30, counts  # every digit drawn (1000 samples): no collapse onto a few
    # Most samples look clearly like one digit: 4 of 5 neighbours agree (83% when shipped; tanh(noise): 40%).
    assert (probabilities.max(1) >= 0.8).mean() > 0.65


def test_conditional_model_draws_the_asked_digit(digit_classifier):
    session = GeneratorSession(SAVED / "conditional_dcgan_digits.onnx")
    labels = np.repeat(np.arange(10), 100)
    samples = session(session.sample_noise(1000, seed=0), labels).reshape(1000, -1)
    predicted = digit_classifier.predict(samples)
    per_class = [(predicted[labels == c] == c).mean() for c in range(10)]
    assert np.mean(per_class) > 0.9 and min(per_class) > 0.7, np.round(per_class, 2)


TRANSLATORS = {
    # name: (model, task, what the .keras file holds)
    "pix2pix_edges2fashion": ("pix2pix", "edges2fashion", "gan"),
    "cyclegan_thin2thick": ("cyclegan", "thin2thick", "generator"),
}


@pytest.mark.parametrize("name", sorted(TRANSLATORS))
def test_shipped_translator_runs_in_raw_onnxruntime(name):
    """As Node, the browser or Triton run it: the metadata in the file equals its sidecar, the graph takes any
    batch and any size of its multiple, deterministically, and the .keras file holds what the index says."""
    import json
    import zipfile

    import onnx
    import onnxruntime as ort

    model_name, task, holds = TRANSLATORS[name]
    for suffix in (".onnx", ".keras", "_samples.png"):
        path = SAVED / f"{name}{suffix}"
        assert path.is_file(), f"missing {path}"
        assert path.stat().st_size < 5e6  # small enough for the repository
    props = {prop.key: json.loads(prop.value) for prop in onnx.load(str(SAVED / f"{name}.onnx")).metadata_props}
    assert props == json.loads((SAVED / f"{name}.metadata.json").read_text())
    assert props["ganzoo.format"] == "gan-zoo-translator/1" and props["license"] == "Apache-2.0"
    assert props["model"] == model_name and props["dataset"] == task and props["training_image_shape"] == [32, 32, 1]
    assert (SAVED.parent / props["model_card"]).is_file()
    session = ort.InferenceSession(str(SAVED / f"{name}.onnx"), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for shape in ((3, 32, 32, 1), (1, 64, 96, 1)):  # training size, and another multiple of 32 (and of 4)
        images = rng.uniform(-1, 1, shape).astype(np.float32)
        first, again = (session.run(["translated"], {"images": images})[0] for _ in range(2))
        assert first.shape == shape and np.array_equal(first, again)  # dropout off: deterministic
        assert np.isfinite(first).all() and np.abs(first).max() <= 1.0 + 1e-6  # tanh, float32 rounding
    with zipfile.ZipFile(SAVED / f"{name}.keras") as archive:  # the class saved, without loading TensorFlow
        config = json.loads(archive.read("config.json"))
    assert config["class_name"] == ("Pix2Pix" if holds == "gan" else "Functional")
    assert not config.get("compile_config")  # saved uncompiled: no optimizer state in the weights
