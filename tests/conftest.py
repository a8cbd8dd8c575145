import os

# 3, as `ganzoo` sets for its users (train/cli/quiet.py): the commands the tests start inherit it, and a level of 2
# would let TensorFlow's ERROR-level "failed call to cuInit" (which some hosts log, some runs) into their stderr.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """The real MNIST / Fashion-MNIST IDX folders beside the project (skips where absent)."""
    if not (SHARED_DATA / "mnist").is_dir():
        pytest.skip(f"no reference data at {SHARED_DATA}")
    return SHARED_DATA


def pytest_collection_modifyitems(config, items):
    """Tests marked `tensorflow_only` (tf2onnx export, tf.distribute) skip when the suite runs on another backend
    (`KERAS_BACKEND=jax make test` runs the model and training tests there)."""
    import keras

    if keras.backend.backend() == "tensorflow":
        return
    skip = pytest.mark.skip(reason=f"needs the tensorflow backend (this run: {keras.backend.backend()})")
    for item in items:
        if "tensorflow_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seeded():
    import keras

    keras.utils.set_random_seed(1234)


@pytest.fixture(scope="session")
def reference_weights(tmp_path_factory):
    """tests/faulty_train.py's run, never interrupted: the generator weights every resumed run must end with."""
    from faulty_train import TRAIN, generator_weights
    from train import cli

    out = tmp_path_factory.mktemp("reference") / "run"
    assert cli.main([*TRAIN, "--out", str(out)]) == 0
    return generator_weights(out)


@pytest.fixture
def js_example_case(tmp_path):
    """For the JavaScript examples: an input file of noise and labels, and the Python runtime's grid for it.

    Returns make(model_name, n, seed) -> (input JSON path, expected grid as uint8 (H, W)), the grid
    laid out as `save_grid` lays it out (one column per class for conditional models).
    """
    import json

    import numpy as np
    from PIL import Image

    from export import GeneratorSession, save_grid

    def make(name, n, seed=0):
        session = GeneratorSession(ROOT / "saved_models" / f"{name}.onnx")
        z = session.sample_noise(n, seed=seed)
        labels = (np.arange(n) % session.num_classes).tolist() if session.conditional else None
        path = tmp_path / f"{name}-input.json"
        path.write_text(json.dumps({"z": z.ravel().tolist(), "labels": labels}))
        images = session.generate(n, labels=labels, z=z)
        grid = save_grid(images, tmp_path / f"{name}-expected.png", nrow=session.num_classes)
        return path, np.asarray(Image.open(grid))

    return make
