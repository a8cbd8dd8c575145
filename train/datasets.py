"""Training data for the zoo: images in [-1, 1] (NHWC float32) or toy vectors, as numpy, tf.data or (on JAX and
PyTorch) a `keras.utils.PyDataset`.

Sources, by `name`:
- ``digits``: scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes), offline.
  Split: a stratified 80/20 split with a fixed seed (0): ``train`` 1,437 images, ``test`` 360,
  ``all`` 1,797. ``ganzoo train`` uses ``train``, so ``test`` stays held out for evaluation.
- a tensorflow-datasets image dataset (``mnist``, ``fashion_mnist``, ``cifar10``, ...), with ``data_dir``.
  Offline, a dataset that is not already prepared fails at once with a DatasetError naming the local
  alternatives (tfds itself would retry downloads for minutes).
- a directory: MNIST-format IDX files (``train-images-idx3-ubyte[.gz]`` + ``train-labels-idx1-ubyte[.gz]``,
  ``t10k-*`` for ``split="test"``), or else a folder of PNG/JPEG images; class subfolders become labels.
  Images are resized to ``image_size`` (default: the first image's size); grayscale folders give one
  channel, others RGB; unreadable files are skipped and counted in a warning.
- toy vectors (see `TOY_SETS`): ``gaussian1d`` (N(1, 1), the lecture example's Example 1), ``ring8`` and ``grid25``
  (the mode-collapse benchmarks of VEEGAN / PacGAN, PacGAN's parameters). Each split is a fixed draw of
  `TOY_SAMPLES` points (train: seed 0, test: seed 1).
"""

import dataclasses
import gzip
import hashlib
import os
import pathlib
import re
import socket
import warnings
import zlib

import numpy as np

DIGITS_SPLIT_SEED = 0
DIGITS_TEST_FRACTION = 0.2
TOY_SAMPLES = 100_000
SPLITS = ("train", "test", "all")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
TFDS_EXAMPLES = ("mnist", "fashion_mnist", "cifar10")
DIGITS_DESCRIPTION = "scikit-learn's 8x8 digits, 1,797 images, 10 classes (offline; train split 1,437)"
# The tensorflow-datasets names whose files also load from a folder of IDX files: (title, where to download them).
IDX_SOURCES = {
    "mnist": ("MNIST", "https://ossci-datasets.s3.amazonaws.com/mnist/"),
    "fashion_mnist": ("Fashion-MNIST", "https://github.com/zalandoresearch/fashion-mnist"),
}
DIGIT_NAMES = [str(i) for i in range(10)]
FASHION_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
]


@dataclasses.dataclass(frozen=True)
class ToySet:
    """A mixture of isotropic Gaussians with equal weights: `modes` (K x D centres) and `std`."""

    modes: np.ndarray
    std: float
    description: str


TOY_SETS = {
    # The lecture example's Example 1: one Gaussian, mean 1, standard deviation 1.
    "gaussian1d": ToySet(np.array([[1.0]]), 1.0, "N(1, 1) in 1-D (the lecture example's Example 1)"),
    # PacGAN (Lin et al. 2018), 2D-ring: 8 Gaussians, means (cos(2 pi i / 8), sin(2 pi i / 8)), std 0.01.
    "ring8": ToySet(
        np.stack([np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], axis=1),
        0.01,
        "8 Gaussians on the unit circle, std 0.01 (PacGAN's 2D-ring)",
    ),
    # PacGAN, 2D-grid: 25 Gaussians, means (-4 + 2i, -4 + 2j) for i, j in 0..4, std 0.05.
    "grid25": ToySet(
        np.array([(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)], dtype="float64"),
        0.05,
        "5 x 5 grid of Gaussians at {-4,-2,0,2,4}^2, std 0.05 (PacGAN's 2D-grid)",
    ),
}


@dataclasses.dataclass
class DatasetArrays:
    """A whole split in memory: `x` float32 (images NHWC in [-1, 1], or vectors [N, D]), `y` int32 or None."""

    x: np.ndarray
    y: np.ndarray | None
    class_names: list | None
    name: str

    def __len__(self):
        return len(self.x)

    @property
    def num_classes(self):
        return None if self.class_names is None else len(self.class_names)

    @property
    def data_shape(self):
        return tuple(int(d) for d in self.x.shape[1:])

    def take(self, rows):
        """These arrays' samples (and labels) at `rows`, a slice or index array."""
        return dataclasses.replace(self, x=self.x[rows], y=None if self.y is None else self.y[rows])


class DatasetError(ValueError):
    """The dataset asked for cannot be loaded as asked (a bad name, folder, split or size): the user's to fix."""


def dataset_names():
    """The built-in names that work offline (tfds names and directory paths are accepted too)."""
    return ["digits", *TOY_SETS]


def toy_modes(name):
    """(centres K x D, std) of a toy set, so evaluation counts modes with the data's own parameters."""
    if name not in TOY_SETS:
        raise DatasetError(f"{name!r} is not a toy set; toy sets are {', '.join(TOY_SETS)}.")
    toy = TOY_SETS[name]
    return toy.modes.copy(), toy.std


def is_toy(name):
    return str(name) in TOY_SETS


# ---------------------------------------------------------------------------------------------- loading


def load_arrays(name, split="train", image_size=None, data_dir=None):
    """Load a whole split as `DatasetArrays` (see the module docstring for names and splits).

    Args:
        name: "digits", a toy set, a tensorflow-datasets name, or a folder of images / MNIST IDX files.
        split: "train", "test" or "all".
        image_size: resize images to this many pixels square.
        data_dir: tensorflow-datasets data directory.
    """
    split, rows = parse_split(split)
    name = str(name)
    if name == "digits":
        arrays = _digits(split)
    elif name in TOY_SETS:
        arrays = _toy(name, split)
    elif os.path.isdir(name):
        arrays = _directory(pathlib.Path(name), split, image_size)
    elif _looks_like_path(name):
        raise DatasetError(f"dataset folder {name!r} does not exist.")
    else:
        arrays = _tfds(name, split, data_dir)
    if rows != slice(None):
        arrays = arrays.take(rows)
        if not len(arrays):
            start, stop = ("" if v is None else v for v in (rows.start, rows.stop))
            raise DatasetError(f"split {split}[{start}:{stop}] of {name!r} holds no samples.")
    if image_size is not None and arrays.x.ndim == 4:
        arrays = dataclasses.replace(arrays, x=resize_images(arrays.x, image_size))
    return arrays


def parse_split(split):
    """'train' -> ('train', slice(None)); 'train[0:50000]' -> ('train', slice(0, 50000)) (tfds' slicing syntax:
    rows start to stop of the split, in the split's own order; either end may be left out)."""
    match = re.fullmatch(r"(\w+)(?:\[(\d*):(\d*)\])?", str(split).replace(" ", ""))
    if match is None or match.group(1) not in SPLITS:
        raise DatasetError(
            f"unknown split {split!r}; choose one of {', '.join(SPLITS)}, optionally sliced as in 'train[0:50000]'."
        )
    start, stop = (int(v) if v else None for v in match.group(2, 3))
    return match.group(1), slice(start, stop)


def load_dataset(
    name,
    batch_size,
    labels=False,
    split="train",
    image_size=None,
    data_dir=None,
    shuffle=True,
    seed=None,
    drop_remainder=False,
):
    """A batched, shuffled, prefetched `tf.data.Dataset` of samples, or of (samples, labels int32).

    The split is held in memory, so it is effectively cached; with `seed` the shuffle order of every
    pass is repeatable (tf.data reshuffles each iteration from that seed).

    Args:
        name, split, image_size, data_dir: as for `load_arrays`.
        batch_size: samples per batch.
        labels: yield (samples, labels) for a conditional model.
        shuffle: shuffle every pass.
        seed: makes the shuffle order repeatable.
        drop_remainder: drop the last incomplete batch.
    """
    arrays = load_arrays(name, split=split, image_size=image_size, data_dir=data_dir)
    return to_dataset(arrays, batch_size, labels=labels, shuffle=shuffle, seed=seed, drop_remainder=drop_remainder)


def to_dataset(arrays, batch_size, labels=False, shuffle=True, seed=None, drop_remainder=False):
    """`DatasetArrays` -> batched tf.data.Dataset (see `load_dataset`)."""
    import tensorflow as tf

    _check_batch_size(arrays, batch_size, labels)
    elements = (arrays.x, arrays.y.astype("int32")) if labels else arrays.x
    dataset = tf.data.Dataset.from_tensor_slices(elements)
    if shuffle:
        dataset = dataset.shuffle(len(arrays), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def epoch_dataset(arrays, batch_size, seed, first_epoch, epochs, labels=False):
    """Batches for epochs `first_epoch` .. `epochs - 1`, back to back, for `fit(steps_per_epoch=...)`.

    Each epoch's order is a stateless shuffle seeded by (seed, epoch), so it depends only on the run's
    seed and the epoch number: a resumed run sees exactly the batches the uninterrupted run would have.
    Incomplete final batches are dropped, so every epoch has `len(arrays) // batch_size` steps.
    On TensorFlow a `tf.data.Dataset`; on JAX and PyTorch a `train.batches.EpochBatches` of numpy batches,
    which needs no TensorFlow.

    Args:
        arrays: a `DatasetArrays` (see `load_arrays`).
        batch_size: samples per batch.
        seed: the run's seed.
        first_epoch: the epoch to start from (a resumed run's).
        epochs: the epoch to stop before.
        labels: yield (samples, labels) for a conditional model.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return epoch_batches(arrays, batch_size, seed, first_epoch, epochs, labels=labels)
    return tf_epoch_dataset(arrays, batch_size, seed, first_epoch, epochs, labels=labels)


def tf_epoch_dataset(arrays, batch_size, seed, first_epoch, epochs, labels=False):
    """`epoch_dataset`'s batches as a `tf.data.Dataset`, what it gives on TensorFlow (any backend can read it where
    TensorFlow is installed); the arguments are the same."""
    import tensorflow as tf

    _check_batch_size(arrays, batch_size, labels)
    n = len(arrays)
    x = tf.constant(arrays.x)
    y = tf.constant(arrays.y.astype("int32")) if labels else None

    def one_epoch(epoch):
        keys = tf.random.stateless_uniform([n], seed=tf.stack([tf.cast(seed, tf.int64), epoch]))
        order = tf.argsort(keys)
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder=True)

    def gather(indices):
        return (tf.gather(x, indices), tf.gather(y, indices)) if labels else tf.gather(x, indices)

    epochs_range = tf.data.Dataset.range(int(first_epoch), int(epochs))
    return epochs_range.flat_map(one_epoch).map(gather).prefetch(tf.data.AUTOTUNE)


def epoch_batches(arrays, batch_size, seed, first_epoch, epochs, labels=False):
    """`epoch_dataset`'s batches as a `train.batches.EpochBatches` (numpy, no TensorFlow), what it gives on JAX and
    PyTorch; the arguments are the same."""
    from train.batches import EpochBatches

    _check_batch_size(arrays, batch_size, labels)
    return EpochBatches(arrays.x, arrays.y.astype("int32") if labels else None, batch_size, seed, first_epoch, epochs)


def fingerprint(x, y=None):
    """A short hash of a dataset (shape, 1,000 evenly spaced samples, every label): tells a changed dataset from the same one.

    A run records it, so resuming on different data is refused; the evaluation classifier's cache is keyed by it.
    """
    digest = hashlib.sha1()
    digest.update(str((x.shape, str(x.dtype))).encode())
    digest.update(np.ascontiguousarray(x[:: max(1, len(x) // 1000)]).tobytes())
    if y is not None:
        digest.update(np.ascontiguousarray(y).tobytes())
    return digest.hexdigest()[:12]


def _check_batch_size(arrays, batch_size, labels):
    if int(batch_size) < 1:
        raise DatasetError(f"batch size must be positive, got {batch_size}.")
    if int(batch_size) > len(arrays):
        raise DatasetError(f"batch size {batch_size} is larger than dataset {arrays.name!r} ({len(arrays)} samples).")
    if labels and arrays.y is None:
        raise DatasetError(f"dataset {arrays.name!r} has no labels.")


def resize_images(x, image_size):
    """Resize NHWC images in [-1, 1] to image_size x image_size (area when shrinking, bilinear when growing).

    On TensorFlow `tf.image.resize`; on JAX and PyTorch Pillow's box and bilinear filters, which give the same
    images when growing and when shrinking by a whole factor (28 -> 14), and the exact area average at other
    factors, where TensorFlow's "area" differs."""
    import keras

    size = int(image_size)
    if size < 1:
        raise DatasetError(f"image size must be positive, got {image_size}.")
    if x.shape[1:3] == (size, size):
        return x
    if keras.backend.backend() != "tensorflow":
        return np.clip(_resize_with_pillow(x, size), -1.0, 1.0)
    import tensorflow as tf

    method = "area" if size < x.shape[1] else "bilinear"
    resized = [tf.image.resize(x[i : i + 4096], (size, size), method=method).numpy() for i in range(0, len(x), 4096)]
    return np.clip(np.concatenate(resized), -1.0, 1.0).astype("float32")


def _resize_with_pillow(x, size):
    from PIL import Image

    method = Image.Resampling.BOX if size < x.shape[1] else Image.Resampling.BILINEAR
    resized = np.empty((len(x), size, size, x.shape[-1]), "float32")
    for i, image in enumerate(np.asarray(x, "float32")):
        for channel in range(x.shape[-1]):  # Pillow's float images ("F") have one channel
            plane = Image.fromarray(np.ascontiguousarray(image[..., channel]))  # float32: mode "F"
            resized[i, ..., channel] = np.asarray(plane.resize((size, size), method))
    return resized


def _to_unit_range(pixels, max_value=255.0):
    return (np.asarray(pixels, dtype="float32") / (max_value / 2.0) - 1.0).astype("float32")


def _looks_like_path(name):
    return os.sep in name or name.startswith(".") or name.startswith("~")


# ---------------------------------------------------------------------------------------------- digits


def _digits(split):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = _to_unit_range(digits.images[..., None], max_value=16.0)
    y = digits.target.astype("int32")
    if split != "all":
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=DIGITS_TEST_FRACTION, stratify=y, random_state=DIGITS_SPLIT_SEED
        )
        x, y = (x_train, y_train) if split == "train" else (x_test, y_test)
    return DatasetArrays(np.ascontiguousarray(x), y, list(DIGIT_NAMES), "digits")


# ---------------------------------------------------------------------------------------------- toy sets


def _toy(name, split):
    toy = TOY_SETS[name]
    rng = np.random.default_rng(1 if split == "test" else 0)
    centres = toy.modes[rng.integers(len(toy.modes), size=TOY_SAMPLES)]
    x = centres + toy.std * rng.standard_normal(centres.shape)
    return DatasetArrays(x.astype("float32"), None, None, name)


# ---------------------------------------------------------------------------------------------- folders


def _idx_file(folder, stem):
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path):
    """Read an IDX file (the MNIST format; gzip or not) into a numpy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise DatasetError(f"{path} is corrupt: {error or type(error).__name__} (truncated or not gzip).") from None
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise DatasetError(f"{path} is not an unsigned-byte IDX file.")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(data) != header + int(np.prod(shape)):
        raise DatasetError(
            f"{path} is corrupt: its header promises {shape} ({header + int(np.prod(shape)):,} bytes), "
            f"the file holds {len(data):,} bytes."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _directory(folder, split, image_size):
    prefix = "t10k" if split == "test" else "train"
    images_file = _idx_file(folder, f"{prefix}-images-idx3-ubyte")
    if images_file is not None or _idx_file(folder, "train-images-idx3-ubyte") is not None:
        return _idx_dataset(folder, split)
    return _image_folder(folder, image_size)


def _idx_dataset(folder, split):
    prefixes = {"train": ["train"], "test": ["t10k"], "all": ["train", "t10k"]}[split]
    xs, ys = [], []
    for prefix in prefixes:
        images_file = _idx_file(folder, f"{prefix}-images-idx3-ubyte")
        if images_file is None:
            raise DatasetError(f"{folder} has no {prefix}-images-idx3-ubyte[.gz] file for split {split!r}.")
        xs.append(read_idx(images_file))
        labels_file = _idx_file(folder, f"{prefix}-labels-idx1-ubyte")
        ys.append(None if labels_file is None else read_idx(labels_file).astype("int32"))
        if ys[-1] is not None and len(ys[-1]) != len(xs[-1]):
            raise DatasetError(
                f"{labels_file} holds {len(ys[-1]):,} labels but {images_file} holds {len(xs[-1]):,} images; "
                "one of them is corrupt or from another dataset."
            )
    x = _to_unit_range(np.concatenate(xs)[..., None])
    y = None if any(v is None for v in ys) else np.concatenate(ys)
    class_names = None
    if y is not None:
        class_names = list(FASHION_NAMES) if "fashion" in folder.resolve().name.lower() else list(DIGIT_NAMES)
        if int(y.max()) >= len(class_names):
            class_names = [str(i) for i in range(int(y.max()) + 1)]
    return DatasetArrays(x, y, class_names, str(folder))


def _image_folder(folder, image_size):
    from PIL import Image

    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and _images_in(p))
    if subfolders:
        files = [(path, label) for label, sub in enumerate(subfolders) for path in _images_in(sub)]
        class_names = [sub.name for sub in subfolders]
    else:
        files = [(path, None) for path in _images_in(folder)]
        class_names = None
    if not files:
        raise DatasetError(f"{folder} holds no images (PNG/JPEG files or MNIST IDX files).")
    images, labels, skipped = [], [], 0
    for path, label in files:
        try:
            with Image.open(path) as image:
                images.append(image.convert("RGB"))
                images[-1].load()
            labels.append(label)
        except Exception:  # noqa: BLE001 - any unreadable file is skipped and counted
            skipped += 1
    if skipped:
        warnings.warn(f"skipped {skipped} unreadable image file(s) of {len(files)} in {folder}.", stacklevel=2)
    if not images:
        raise DatasetError(f"{folder} holds no readable images ({skipped} unreadable file(s)).")
    grayscale = all(_is_gray(np.asarray(image)) for image in images[:256])
    width, height = (image_size, image_size) if image_size else images[0].size
    pixels = np.stack([np.asarray(image.resize((int(width), int(height)), Image.BILINEAR)) for image in images])
    if grayscale:
        pixels = pixels[..., :1]
    y = None if class_names is None else np.asarray(labels, dtype="int32")
    return DatasetArrays(_to_unit_range(pixels), y, class_names, str(folder))


def _images_in(folder):
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _is_gray(rgb):
    return bool(np.all(rgb[..., 0] == rgb[..., 1]) and np.all(rgb[..., 1] == rgb[..., 2]))


# ---------------------------------------------------------------------------------------------- tfds


def idx_folder_advice(name):
    """How to train on the IDX files of `name` (a key of `IDX_SOURCES`) without tensorflow-datasets, in one sentence."""
    title, url = IDX_SOURCES[name]
    return (
        f"a folder of {title} IDX files works offline: --dataset /path/to/{name}, a folder holding "
        "train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (t10k-* for the test split), for example "
        f"downloaded from {url}"
    )


def _offline_message(name, reason):
    """The one-line error for a tensorflow-datasets dataset that is neither prepared nor downloadable here."""
    folder = (
        f"{idx_folder_advice(name)}; "
        if name in IDX_SOURCES
        else "a folder of PNG/JPEG images (class subfolders become labels) works offline: --dataset /path/to/images; "
    )
    return (
        f"dataset {name!r} could not be downloaded ({reason}) and is not prepared in the tensorflow-datasets data "
        f"directory. {folder[0].upper()}{folder[1:]}'digits' (scikit-learn's 8x8 digits, bundled) trains offline: "
        "--dataset digits; so do the toy sets 'gaussian1d', 'ring8' and 'grid25'; or pass --data-dir to a "
        "tensorflow-datasets folder where it is already prepared."
    )


def _online(host="storage.googleapis.com", timeout=3.0):
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _tfds(name, split, data_dir):
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise DatasetError(_offline_message(name, f"tensorflow-datasets is not importable ({error})")) from None
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        raise DatasetError(
            f"unknown dataset {name!r}; choose one of {', '.join(dataset_names())}, a tensorflow-datasets "
            f"image dataset ({', '.join(TFDS_EXAMPLES)}, ...) or a folder of images / MNIST IDX files."
        ) from None
    features = builder.info.features
    if "image" not in features:
        raise DatasetError(f"tensorflow-datasets dataset {name!r} has no 'image' feature.")
    if not _is_prepared(builder):
        if not _online():
            raise DatasetError(_offline_message(name, "no network connection"))
        try:
            builder.download_and_prepare()
        except Exception as error:  # noqa: BLE001 - any download failure gets the same advice
            raise DatasetError(_offline_message(name, f"download failed ({type(error).__name__})")) from None
    splits = {"all": "train+test"}.get(split, split)
    data = tfds.as_numpy(builder.as_dataset(split=splits, batch_size=-1))
    label = features["label"] if "label" in features else None
    y = data["label"].astype("int32") if label is not None else None
    class_names = list(label.names) if label is not None and hasattr(label, "names") else None
    return DatasetArrays(_to_unit_range(data["image"]), y, class_names, name)


def _is_prepared(builder):
    try:
        return bool(builder.is_prepared())
    except Exception:  # noqa: BLE001
        return False
