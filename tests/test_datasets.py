"""Datasets: sources, splits, value ranges, toy-set parameters, folder reading and seeded epoch order."""

import gzip
import warnings

import numpy as np
import pytest
from PIL import Image

from train import datasets


def test_digits_splits_are_stratified_disjoint_and_in_range():
    train = datasets.load_arrays("digits", "train")
    test = datasets.load_arrays("digits", "test")
    everything = datasets.load_arrays("digits", "all")
    assert (len(train), len(test), len(everything)) == (1437, 360, 1797)
    assert train.x.shape[1:] == (8, 8, 1) and train.x.dtype == np.float32
    assert train.x.min() == -1.0 and train.x.max() == 1.0
    assert train.class_names == [str(i) for i in range(10)]
    assert set(np.unique(test.y)) == set(range(10))
    # The two splits partition the whole set: same per-class counts.
    np.testing.assert_array_equal(np.bincount(train.y) + np.bincount(test.y), np.bincount(everything.y))
    np.testing.assert_array_equal(datasets.load_arrays("digits", "train").x, train.x)  # fixed split


@pytest.mark.parametrize("name, modes, std", [("gaussian1d", 1, 1.0), ("ring8", 8, 0.01), ("grid25", 25, 0.05)])
def test_toy_sets_follow_their_stated_parameters(name, modes, std):
    centres, sigma = datasets.toy_modes(name)
    assert centres.shape[0] == modes and sigma == std
    arrays = datasets.load_arrays(name)
    assert len(arrays) == datasets.TOY_SAMPLES and arrays.y is None
    distance = np.linalg.norm(arrays.x[:, None, :] - centres[None].astype("float32"), axis=-1)
    nearest = distance.argmin(axis=1)
    assert np.bincount(nearest, minlength=modes).min() > 0.8 * len(arrays) / modes  # equal weights
    assert distance.min(axis=1).max() < 6 * std  # every point near a mode
    if name == "ring8":
        np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 1.0)
    if name == "gaussian1d":
        assert abs(arrays.x.mean() - 1.0) < 0.02 and abs(arrays.x.std() - 1.0) < 0.02
    assert not np.array_equal(datasets.load_arrays(name, "test").x[:10], arrays.x[:10])


def _write_idx(path, array, compress):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    (gzip.open if compress else open)(path, "wb").write(data)


@pytest.mark.parametrize("compress", [True, False])
def test_idx_folder_is_detected_and_read(tmp_path, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=20, dtype=np.uint8)
    suffix = ".gz" if compress else ""
    _write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images, compress)
    _write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", labels, compress)
    _write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", images[:5], compress)
    _write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", labels[:5], compress)
    arrays = datasets.load_arrays(str(tmp_path))
    assert arrays.x.shape == (20, 28, 28, 1)
    np.testing.assert_allclose(arrays.x[..., 0], images / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(arrays.y, labels)
    assert len(datasets.load_arrays(str(tmp_path), "test")) == 5
    assert len(datasets.load_arrays(str(tmp_path), "all")) == 25
    assert datasets.load_arrays(str(tmp_path), image_size=14).x.shape == (20, 14, 14, 1)


def test_real_mnist_idx_files(shared_data):
    arrays = datasets.load_arrays(str(shared_data / "mnist"), "test")
    assert arrays.x.shape == (10000, 28, 28, 1) and arrays.y.shape == (10000,)
    assert arrays.x.min() == -1.0 and arrays.x.max() == 1.0
    fashion = datasets.load_arrays(str(shared_data / "fashion_mnist"), "test")
    assert fashion.class_names[0] == "T-shirt/top"


def test_image_folder_with_class_subfolders_skips_unreadable_files(tmp_path):
    for label, value in (("cats", 0), ("dogs", 255)):
        (tmp_path / label).mkdir()
        for i in range(3):
            Image.fromarray(np.full((10, 12), value, dtype=np.uint8)).save(tmp_path / label / f"{i}.png")
    (tmp_path / "dogs" / "broken.jpg").write_bytes(b"not an image")
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        arrays = datasets.load_arrays(str(tmp_path), image_size=16)
    assert arrays.x.shape == (6, 16, 16, 1)  # grayscale kept as one channel, resized
    assert arrays.class_names == ["cats", "dogs"]
    np.testing.assert_array_equal(arrays.y, [0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(arrays.x[arrays.y == 0], -1.0)
    np.testing.assert_allclose(arrays.x[arrays.y == 1], 1.0)


def test_flat_folder_of_color_images_is_unlabelled(tmp_path):
    for i in range(4):
        Image.fromarray(np.random.default_rng(i).integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / f"{i}.jpg")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        arrays = datasets.load_arrays(str(tmp_path))
    assert arrays.x.shape == (4, 8, 8, 3) and arrays.y is None and arrays.class_names is None


def test_bad_sources_raise_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="holds no images"):
        datasets.load_arrays(str(tmp_path))
    with pytest.raises(ValueError, match="does not exist"):
        datasets.load_arrays("./no/such/folder")
    with pytest.raises(ValueError, match="unknown dataset 'nosuchdata'.*digits"):
        datasets.load_arrays("nosuchdata")
    monkeypatch.setattr(datasets, "_online", lambda *a, **k: False)
    with pytest.raises(ValueError, match="'mnist' could not be downloaded.*MNIST IDX files.*--dataset /path/to/mnist"
                       ".*train-images-idx3-ubyte.*--dataset digits.*ring8") as error:
        datasets.load_arrays("mnist", data_dir=str(tmp_path / "tfds"))
    assert "\n" not in str(error.value) and "shared" not in str(error.value)  # speaks to the user's machine
    with pytest.raises(ValueError, match="PNG/JPEG images.*--dataset digits"):
        datasets.load_arrays("cifar10", data_dir=str(tmp_path / "tfds"))


def test_load_dataset_batches_labels_and_rejects_oversized_batches():
    dataset = datasets.load_dataset("digits", 100, labels=True, seed=0)
    images, labels = next(iter(dataset))
    assert images.shape == (100, 8, 8, 1) and images.dtype.name == "float32" and labels.dtype.name == "int32"
    assert sum(int(b[0].shape[0]) for b in dataset) == 1437
    vectors = next(iter(datasets.load_dataset("ring8", 64, shuffle=False)))
    assert vectors.shape == (64, 2)
    with pytest.raises(ValueError, match="larger than dataset"):
        datasets.load_dataset("digits", 5000)
    with pytest.raises(ValueError, match="no labels"):
        datasets.load_dataset("ring8", 64, labels=True)


def _batches_of_tf_data(arrays, batch_size, seed, first, last, labels=False):
    return [tuple(map(np.asarray, b)) if labels else np.asarray(b)
            for b in datasets.epoch_dataset(arrays, batch_size, seed, first, last, labels=labels)]


def _batches_of_numpy(arrays, batch_size, seed, first, last, labels=False):  # epoch_dataset's on JAX and PyTorch
    batches = datasets.epoch_batches(arrays, batch_size, seed, first, last, labels=labels)
    return [batches[i] for i in range(len(batches))]


@pytest.mark.parametrize("batches", [_batches_of_tf_data, _batches_of_numpy], ids=["tf.data", "numpy"])
def test_epoch_order_depends_only_on_seed_and_epoch(batches):
    arrays = datasets.load_arrays("digits", "test")

    def epochs(seed, first, last):
        labels = [y for _, y in batches(arrays, 40, seed, first, last, labels=True)]
        per_epoch = len(arrays) // 40
        return [np.concatenate(labels[i : i + per_epoch]) for i in range(0, len(labels), per_epoch)]

    full = epochs(seed=7, first=0, last=3)
    assert len(full) == 3 and all(len(epoch) == 360 for epoch in full)
    resumed = epochs(seed=7, first=2, last=3)
    np.testing.assert_array_equal(resumed[0], full[2])  # a resumed run sees the same epoch
    assert not np.array_equal(full[0], full[1])  # reshuffled every epoch
    assert not np.array_equal(epochs(seed=8, first=0, last=1)[0], full[0])
    (images,) = batches(arrays, 360, 7, 0, 1)
    assert len(np.unique(images.reshape(360, -1), axis=0)) == len(np.unique(arrays.x.reshape(360, -1), axis=0))
    assert len(batches(arrays, 100, 7, 0, 2)) == 2 * 3  # incomplete final batches dropped


def test_images_resize_the_same_without_tensorflow():
    """Off TensorFlow, Pillow's filters give tf.image.resize's images when growing and when shrinking by a whole
    factor (at other factors its exact area average differs from TensorFlow's "area")."""
    import tensorflow as tf

    x = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 2)).astype("float32")
    for size, method in ((14, "area"), (7, "area"), (32, "bilinear"), (56, "bilinear")):
        expected = tf.image.resize(x, (size, size), method=method).numpy()
        np.testing.assert_allclose(datasets._resize_with_pillow(x, size), expected, atol=1e-6, err_msg=str(size))
