"""Translation data (`train.translation_data`) and its task figures (`train.evaluation.translation`): the offline
tasks' shapes, ranges and determinism, the folder layouts and their errors, the papers' jitter as stateless
draws, and the identity / real-data baselines."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from train import datasets
from train.datasets import DatasetError
from train.evaluation import translation as measures
from train.evaluation.evaluator import EvaluationError
from train.translation_data import (
    TranslationData,
    edge_map,
    fingerprint,
    jitter_sizes,
    load_translation_data,
    steps_per_epoch,
    thicken,
    translation_epoch_batches,
    translation_epoch_dataset,
)


@pytest.fixture(scope="module")
def edges2digits():
    return load_translation_data("edges2digits")


@pytest.fixture(scope="module")
def thin2thick_digits():
    return load_translation_data("thin2thick_digits")


def rows(images):
    return {image.tobytes() for image in images}


def shared_rows(images, others):
    return len(rows(images) & rows(others))


class NearestCentroid:
    """A stand-in for the evaluation classifier: the nearest class mean of the 8x8 digits (instant, ~90%)."""

    input_shape = (8, 8, 1)

    def __init__(self):
        train = datasets.load_arrays("digits", split="train")
        self.centroids = np.stack([train.x[train.y == k].mean(axis=0) for k in range(10)]).reshape(10, -1)

    def predict(self, images):
        flat = images.reshape(len(images), -1)
        return np.argmin(((flat[:, None, :] - self.centroids[None]) ** 2).sum(axis=-1), axis=1)


# ------------------------------------------------------------------------------------------- offline tasks


def test_edges2digits_is_paired_binary_edges_of_the_digits(edges2digits):
    data = edges2digits
    assert data.paired and data.image_shape == (16, 16, 1) and data.classifier_dataset == "digits"
    assert data.train_a.shape == data.train_b.shape == (1437, 16, 16, 1)
    assert data.test_a.shape == data.test_b.shape == (360, 16, 16, 1) and data.test_labels.shape == (360,)
    for images in (data.train_a, data.train_b, data.test_a, data.test_b):
        assert images.dtype == np.float32 and images.min() >= -1.0 and images.max() <= 1.0
    assert set(np.unique(data.train_a)) == {-1.0, 1.0}  # A is a binary edge map
    np.testing.assert_array_equal(data.test_a, edge_map((data.test_b[..., 0] + 1) / 2)[..., None] * 2 - 1)
    np.testing.assert_array_equal(data.test_labels, datasets.load_arrays("digits", split="test").y)
    again = load_translation_data("edges2digits")
    np.testing.assert_array_equal(again.train_a, data.train_a)
    assert fingerprint(again) == fingerprint(data) != fingerprint(load_translation_data("edges2digits", max_train=100))
    swapped = load_translation_data("edges2digits", direction="BtoA")
    np.testing.assert_array_equal(swapped.test_a, data.test_b)
    np.testing.assert_array_equal(swapped.test_b, data.test_a)


def test_thin2thick_digits_draws_its_domains_from_disjoint_halves(thin2thick_digits):
    data = thin2thick_digits
    assert not data.paired and data.image_shape == (16, 16, 1)
    assert (len(data.train_a), len(data.train_b)) == (718, 719)
    # Dilation commutes with the affine map to [-1, 1], so thickening A reproduces B's rows exactly where they share
    # a source digit: the known answers do, the training halves must not.
    np.testing.assert_array_equal(thicken(data.test_a[..., 0])[..., None], data.answers)
    assert shared_rows(thicken(data.train_a[..., 0])[..., None], data.train_b) == 0
    # Test B holds the answers in another order.
    assert rows(data.test_b) == rows(data.answers) and not np.array_equal(data.test_b, data.answers)
    small = load_translation_data("thin2thick_digits", max_train=50)
    assert len(small.train_a) == len(small.train_b) == 50
    np.testing.assert_array_equal(small.train_b, data.train_b[:50])
    big = load_translation_data("thin2thick_digits", image_size=32)
    assert big.train_a.shape[1:] == big.answers.shape[1:] == (32, 32, 1)


def test_mnist_tasks_from_the_idx_files(shared_data):
    fashion = load_translation_data("edges2fashion", data_dir=shared_data, max_train=64)
    assert fashion.paired and fashion.train_a.shape == fashion.train_b.shape == (64, 32, 32, 1)
    assert fashion.test_a.shape == (10000, 32, 32, 1) and fashion.test_labels.shape == (10000,)
    assert set(np.unique(fashion.train_a)) == {-1.0, 1.0}
    frame = np.ones((32, 32), bool)
    frame[2:30, 2:30] = False
    assert np.all(fashion.train_b[:, frame] == -1.0)  # padded with background, 28 -> 32
    assert fashion.classifier_dataset == "fashion_mnist" and fashion.classifier_data_dir.endswith("fashion_mnist")

    digits = load_translation_data("thin2thick", data_dir=shared_data / "mnist")
    assert not digits.paired and len(digits.train_a) == len(digits.train_b) == 30000
    assert digits.answers.shape == digits.test_a.shape == (10000, 32, 32, 1)
    assert shared_rows(thicken(digits.train_a[..., 0])[..., None], digits.train_b) == 0
    np.testing.assert_array_equal(
        digits.test_labels, datasets.read_idx(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz")
    )

    with pytest.raises(DatasetError, match="looks like MNIST"):
        load_translation_data("edges2fashion", data_dir=shared_data / "mnist")


def test_mnist_tasks_without_their_files_say_what_to_pass(tmp_path):
    with pytest.raises(DatasetError, match="no data folder given.*Fashion-MNIST IDX files.*--data-dir") as error:
        load_translation_data("edges2fashion")
    assert "shared" not in str(error.value)
    with pytest.raises(DatasetError, match="holds no MNIST IDX files"):
        load_translation_data("thin2thick", data_dir=tmp_path)


# ------------------------------------------------------------------------------------------- folders


def save(path, pixels):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(path)


def test_side_by_side_folder_splits_each_image_into_a_and_b(tmp_path):
    rng = np.random.default_rng(0)
    for split, count in (("train", 3), ("val", 2)):  # no test/: val/ is the test split, as for maps
        for i in range(count):
            a = rng.integers(0, 256, (8, 8, 3))
            save(tmp_path / split / f"{i}.png", np.concatenate([a, np.full((8, 8, 3), 10 * i)], axis=1))
    data = load_translation_data(str(tmp_path))
    assert data.paired and data.train_a.shape == (3, 8, 8, 3) and data.test_a.shape == (2, 8, 8, 3)
    assert data.train_b.shape == (3, 8, 8, 1)  # a grey half stays grey, a colour half colour
    np.testing.assert_allclose(data.train_b[1], 10 / 127.5 - 1, atol=1e-6)
    swapped = load_translation_data(str(tmp_path), direction="BtoA")
    np.testing.assert_array_equal(swapped.train_a, data.train_b)
    np.testing.assert_array_equal(swapped.test_b, data.test_a)
    assert load_translation_data(str(tmp_path), image_size=4, max_train=2).train_a.shape == (2, 4, 4, 3)

    save(tmp_path / "train" / "wide.png", np.zeros((8, 32, 3)))
    with pytest.raises(DatasetError, match="differ in size.*image_size"):
        load_translation_data(str(tmp_path))
    assert load_translation_data(str(tmp_path), image_size=8).train_a.shape == (4, 8, 8, 3)


def test_paired_a_and_b_folders(tmp_path):
    for i in range(5):
        save(tmp_path / "flat" / "A" / f"{i}.png", np.full((4, 4), 50 * i))
        save(tmp_path / "flat" / "B" / f"{i}.png", np.full((4, 4, 3), [50 * i, 0, 0]))
    data = load_translation_data(str(tmp_path / "flat"))
    assert data.paired and (len(data.train_a), len(data.test_a)) == (4, 1)  # split 80/20 with a fixed seed
    assert data.train_a.shape[-1] == 1 and data.train_b.shape[-1] == 3
    np.testing.assert_array_equal(data.train_a[..., 0], data.train_b[..., 0])  # the pairs stayed together

    for split in ("train", "test"):
        for side in "AB":
            save(tmp_path / "split" / side / split / "x.png", np.zeros((4, 4)))
    assert len(load_translation_data(str(tmp_path / "split")).test_a) == 1

    save(tmp_path / "flat" / "B" / "extra.png", np.zeros((4, 4)))
    with pytest.raises(DatasetError, match="same names: 0 only in A/, 1 only in B/.*extra.png"):
        load_translation_data(str(tmp_path / "flat"))


def test_cyclegan_folders_are_unpaired(tmp_path):
    for name, count in (("trainA", 3), ("trainB", 2), ("testA", 1)):
        for i in range(count):
            save(tmp_path / name / f"{name}{i}.jpg", np.full((8, 8, 3), [0, 100, 200]))
    with pytest.raises(DatasetError, match="lacks testB/"):
        load_translation_data(str(tmp_path))
    save(tmp_path / "testB" / "b.png", np.zeros((8, 8, 3)))
    data = load_translation_data(str(tmp_path))
    assert not data.paired and data.answers is None
    assert (len(data.train_a), len(data.train_b), len(data.test_a), len(data.test_b)) == (3, 2, 1, 1)
    assert data.image_shape == (8, 8, 3)


def test_bad_names_and_folders_fail_in_one_line(tmp_path, monkeypatch):
    (tmp_path / "nothing").mkdir()
    with pytest.raises(DatasetError, match="has no translation layout"):
        load_translation_data(str(tmp_path / "nothing"))
    with pytest.raises(DatasetError, match="does not exist"):
        load_translation_data(str(tmp_path / "missing"))
    with pytest.raises(DatasetError, match="unknown translation data 'horses'"):
        load_translation_data("horses")
    with pytest.raises(DatasetError, match="direction"):
        load_translation_data("edges2digits", direction="sideways")
    monkeypatch.setattr(datasets, "_online", lambda *args, **kwargs: False)
    with pytest.raises(DatasetError, match="no network connection.*trainA/ trainB/ testA/ testB/"):
        load_translation_data("cycle_gan/horse2zebra", data_dir=str(tmp_path))


def test_the_module_imports_without_tensorflow():
    code = "import sys, train.translation_data; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------------------- training batches


def as_lists(dataset):
    return [tuple(np.asarray(x) for x in batch) for batch in dataset.as_numpy_iterator()]


def numpy_lists(batches):  # translation_epoch_dataset's batches on JAX and PyTorch
    return [batches[i] for i in range(len(batches))]


BATCHES = [
    pytest.param(lambda *args, **kwargs: as_lists(translation_epoch_dataset(*args, **kwargs)), id="tf.data"),
    pytest.param(lambda *args, **kwargs: numpy_lists(translation_epoch_batches(*args, **kwargs)), id="numpy"),
]


def test_jitter_keeps_the_papers_ratio():
    assert jitter_sizes(256) == (286, 256)
    assert jitter_sizes(32) == (36, 32)
    assert jitter_sizes(16) == (18, 16)


@pytest.mark.parametrize("batches", BATCHES)
def test_paired_batches_share_one_crop_and_flip_and_are_stateless(edges2digits, batches):
    images = edges2digits.train_b[:32]
    twins = TranslationData("twins", True, images, images.copy(), images, images)
    run = batches(twins, 8, seed=5, first_epoch=0, epochs=2)
    assert len(run) == 2 * steps_per_epoch(twins, 8) == 8
    for a, b in run:
        assert a.shape == b.shape == (8, 16, 16, 1)
        np.testing.assert_array_equal(a, b)  # the same crop and flip for A and its B
    assert shared_rows(run[0][0], images) == 0  # jittered, not the stored images

    again = batches(twins, 8, seed=5, first_epoch=0, epochs=2)
    resumed = batches(twins, 8, seed=5, first_epoch=1, epochs=2)
    for first, second in zip(run[4:], resumed, strict=True):  # a run resumed at epoch 1 sees epoch 1's batches
        np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(run[0][0], again[0][0])  # same (seed, epoch): same batches
    assert not np.array_equal(run[0][0], run[4][0])  # another epoch: another order and jitter

    plain = batches(twins, 8, seed=5, first_epoch=0, epochs=1, jitter=False)
    assert rows(np.concatenate([a for a, _ in plain])) == rows(images)  # every image once, untouched


@pytest.mark.parametrize("batches", BATCHES)
def test_unpaired_batches_jitter_each_domain_on_its_own(thin2thick_digits, batches):
    a = thin2thick_digits.train_a[:40]
    data = TranslationData("unpaired", False, a, a[:24].copy(), a, a)
    assert steps_per_epoch(data, 8) == 5  # CycleGAN's epoch runs over the larger domain
    run = batches(data, 8, seed=1, first_epoch=0, epochs=1)
    assert len(run) == 5
    assert any(not np.array_equal(x, y) for x, y in run)
    plain = batches(data, 8, seed=1, first_epoch=0, epochs=1, jitter=False)
    assert rows(np.concatenate([x for x, _ in plain])) == rows(a)
    assert rows(np.concatenate([y for _, y in plain])) <= rows(a[:24])
    with pytest.raises(DatasetError, match="batch size 41"):
        batches(data, 41, seed=1, first_epoch=0, epochs=1)


# ------------------------------------------------------------------------------------------- task figures


def test_baselines_of_the_digit_tasks(edges2digits, thin2thick_digits):
    judge = NearestCentroid()
    paired = measures.baselines(edges2digits, classifier=judge)
    assert paired["protocol"]["split"] == "test" and paired["protocol"]["count"] == 360
    assert paired["identity"]["l1"] > 0.5 and paired["real"]["l1"] == 0.0
    assert paired["real"]["class_accuracy"] > 0.85 > paired["identity"]["class_accuracy"]

    unpaired = measures.baselines(thin2thick_digits, classifier=judge)
    identity, real = unpaired["identity"], unpaired["real"]
    assert identity["l1"] > 0.2 and real["l1"] == 0.0
    assert identity["ink_fraction"] < real["ink_fraction"] == real["ink_fraction_real_b"]
    assert identity["class_accuracy"] > 0.85

    # A translator's figures come with the baselines; it must keep the images' count and size.
    report = measures.evaluate_translation(lambda x: np.ones_like(x), thin2thick_digits, classifier=False)
    assert report["model"]["ink_fraction"] == 1.0 and "class_accuracy" not in report["model"]
    assert report["identity"]["l1"] == identity["l1"]
    with pytest.raises(EvaluationError, match="keep the number of images"):
        measures.evaluate_translation(lambda x: x[:, :8], thin2thick_digits, classifier=False)


def test_classifier_view_undoes_padding_and_upsampling():
    images = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(measures.classifier_view(images.repeat(2, 1).repeat(2, 2), (8, 8, 1)), images)
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)), constant_values=-1)
    np.testing.assert_array_equal(measures.classifier_view(padded, (8, 8, 1)), images)


def test_mnist_classifier_judges_thin2thick(shared_data):
    """The one test with the real evaluation classifier (cached under $GANZOO_CACHE; trained on first use)."""
    data = load_translation_data("thin2thick", data_dir=shared_data, max_train=8)
    data = dataclasses.replace(
        data, test_a=data.test_a[:500], test_b=data.test_b[:500], answers=data.answers[:500],
        test_labels=data.test_labels[:500],
    )
    result = measures.baselines(data)
    assert result["protocol"]["classifier"] == "mnist" and result["protocol"]["count"] == 500
    assert result["identity"]["class_accuracy"] > 0.95
    assert result["real"]["class_accuracy"] > 0.8 and result["real"]["l1"] == 0.0
