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
