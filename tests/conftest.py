import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
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
