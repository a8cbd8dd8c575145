"""Data for image-to-image translation (`zoo.Pix2Pix`, `zoo.CycleGAN`): two domains of images in [-1, 1] (NHWC float32).

`load_translation_data(name)` returns a `TranslationData`. Sources, by `name`:

- ``edges2fashion`` (paired, offline): Fashion-MNIST IDX files. A is the item's binary edge map (Sobel gradient
  magnitude above `EDGE_THRESHOLD`, in {-1, 1}), B the item itself; both padded 28 -> 32 px with background (-1)
  so pix2pix's U-Net gets a power-of-two side. Train: 60,000 pairs, test: 10,000 with their class labels.
- ``thin2thick`` (unpaired, offline): MNIST IDX files. A holds digits as written, B digits thickened by a 3x3
  grey dilation, padded to 32 px. A comes from the first half of the train split and B from the second, so no
  B image is the answer to an A image (30,000 each). Test: the 10,000 test digits as A, their dilations as the
  known `answers`, the same dilations in another order as B.
- ``edges2digits``, ``thin2thick_digits``: the same two tasks on scikit-learn's bundled 8x8 digits (its
  train / test split, see `train.datasets`), upsampled to 16 px (bilinear): no data files, seconds to build.
- a folder in pix2pix's side-by-side format: ``train/`` and ``test/`` (else ``val/``) of images whose left
  half is A and right half B (facades, edges2shoes, maps as the reference code downloads them).
- a folder of ``A/`` and ``B/`` holding images of the same names (paired; with ``train/`` and ``test/`` (or
  ``val/``) inside each as the reference code's ``combine_A_and_B.py`` reads them, or flat, then split 80/20
  with a fixed seed), or CycleGAN's ``trainA/ trainB/ testA/ testB/`` (unpaired).
- ``cycle_gan/<name>`` (tensorflow-datasets, e.g. ``cycle_gan/horse2zebra``): downloaded once, online only.

``direction="BtoA"`` swaps the domains (pix2pix's facades are trained BtoA, labels -> photo).

Training batches: `translation_epoch_dataset` follows `train.datasets.epoch_dataset`'s contract (each epoch's
order and jitter are stateless functions of (seed, epoch), so a resumed run sees the batches an uninterrupted
one would) and adds the papers' jitter: resize to `jitter_sizes(side)[0]` (286 for 256), random crop back and a
random left-right mirror.
"""

import dataclasses
import hashlib
import os
import pathlib

import numpy as np

from train import datasets
from train.datasets import DatasetError

DIRECTIONS = ("AtoB", "BtoA")
PAPER_LOAD_SIZE, PAPER_CROP_SIZE = 286, 256  # pix2pix and CycleGAN: resize to 286, random-crop 256
PADDED_SIZE = 32  # MNIST's 28 px padded to the U-Net's next power of two
DIGITS_SIZE = 16  # scikit-learn's 8x8 digits, upsampled 2x
# A full 0 -> 1 step gives a Sobel magnitude of 4; a quarter of it keeps an item's outline and its strongest
# inner lines (collars, zips, laces) without the fabric's texture.
EDGE_THRESHOLD = 1.0
DILATION_FOOTPRINT = (3, 3)
FLAT_TEST_FRACTION, FLAT_SPLIT_SEED = 0.2, 0  # an A/ B/ folder without train/ test/ inside is split like digits
TEST_ORDER_SEED = 0  # the order of an offline unpaired task's test B

# Mean pixel (0-255) of the train images: MNIST 33.3, Fashion-MNIST 72.9. Between them lies the check that a
# folder holds the dataset its task needs (both use the same file names).
_MEAN_PIXEL_BETWEEN = 50.0
OFFLINE_TASKS = {
    # name: (source, paired)
    "edges2fashion": ("fashion_mnist", True),
    "thin2thick": ("mnist", False),
    "edges2digits": ("digits", True),
    "thin2thick_digits": ("digits", False),
}
_DESCRIPTIONS = {
    ("edges", "AtoB"): "draw the {item} from its binary edge map: fill and shading inside the outline, same class",
    ("edges", "BtoA"): "draw the binary edge map (Sobel magnitude > {threshold}) of the {item}",
    ("thicken", "AtoB"): "thicken the {item}'s strokes (a 3x3 grey dilation) and keep the digit",
    ("thicken", "BtoA"): "thin the {item}'s strokes (undo a 3x3 grey dilation) and keep the digit",
}
_ITEMS = {"digits": "digit", "mnist": "MNIST digit", "fashion_mnist": "Fashion-MNIST item"}  # by source


@dataclasses.dataclass
class TranslationData:
    """Two image domains for translation, train and test, as float32 NHWC arrays in [-1, 1].

    Paired data (pix2pix): row i of `train_b` / `test_b` is the target of row i of `train_a` / `test_a`.
    Unpaired data (CycleGAN): `train_b` / `test_b` are the other domain's images, in any number and order.

    Args:
        name: the task or folder it was loaded from.
        paired: whether row i of b is row i of a's target.
        train_a, train_b, test_a, test_b: the images.
        answers: the known right translation of `test_a`, for unpaired tasks built offline (None otherwise).
        test_labels: int class labels of `test_a`, for the check that a translation keeps the class.
        classifier_dataset: the dataset ("mnist", "fashion_mnist" or "digits") whose evaluation classifier
            (`train.evaluation.classifier`) judges that check.
        classifier_data_dir: the folder of that dataset's IDX files (None for "digits", which needs none).
        description: what a correct model must do, in one line.
    """

    name: str
    paired: bool
    train_a: np.ndarray
    train_b: np.ndarray
    test_a: np.ndarray
    test_b: np.ndarray
    answers: np.ndarray | None = None
    test_labels: np.ndarray | None = None
    classifier_dataset: str | None = None
    classifier_data_dir: str | None = None
    description: str = ""

    @property
    def image_shape(self):
        """(H, W, C) of the A images (B images share H and W; their channels may differ)."""
        return tuple(int(d) for d in self.train_a.shape[1:])

    @property
    def target_shape(self):
        """(H, W, C) of the B images."""
        return tuple(int(d) for d in self.train_b.shape[1:])


def translation_task_names():
    """The built-in tasks (folders and ``cycle_gan/<name>`` are accepted too)."""
    return list(OFFLINE_TASKS)


def task_description(name, direction="AtoB"):
    """What a correct model does on the built-in task `name`, in one line, without loading its data.

    Args:
        name: one of `OFFLINE_TASKS`.
        direction: "AtoB" or "BtoA" (the domains swapped).
    """
    source, paired = OFFLINE_TASKS[name]
    kind = "edges" if paired else "thicken"
    return _DESCRIPTIONS[(kind, direction)].format(item=_ITEMS[source], threshold=EDGE_THRESHOLD)


def load_translation_data(name, data_dir=None, image_size=None, direction="AtoB", max_train=None):
    """Load a translation task or folder as `TranslationData` (see the module docstring for the names).

    Args:
        name: an offline task (`translation_task_names()`), a folder (A|B images, A/ + B/, or
            trainA/ trainB/ testA/ testB/), or ``cycle_gan/<name>`` from tensorflow-datasets.
        data_dir: for ``edges2fashion`` / ``thin2thick``: a folder of the Fashion-MNIST / MNIST IDX files (or one
            holding them in a ``fashion_mnist`` / ``mnist`` subfolder); for ``cycle_gan/...``: the
            tensorflow-datasets data directory.
        image_size: resize every image to this many pixels square (the papers: 256); default: their own size
            (32 px for the MNIST tasks, 16 px for the digits ones).
        direction: "AtoB", or "BtoA" to swap the domains.
        max_train: keep at most this many training images per domain (pairs for paired data): quick runs.
    """
    if direction not in DIRECTIONS:
        raise DatasetError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}.")
    if max_train is not None and int(max_train) < 1:
        raise DatasetError(f"max_train must be positive, got {max_train}.")
    if image_size is not None and int(image_size) < 1:
        raise DatasetError(f"image size must be positive, got {image_size}.")
    name = str(name)
    if name in OFFLINE_TASKS:
        return _offline_task(name, data_dir, image_size, direction, max_train)
    if os.path.isdir(name):
        data = _folder_task(pathlib.Path(name), image_size)
    elif name.split("/")[0] == "cycle_gan":
        data = _cycle_gan_tfds(name, data_dir, image_size)
    elif datasets._looks_like_path(name):
        raise DatasetError(f"translation folder {name!r} does not exist.")
    else:
        raise DatasetError(
            f"unknown translation data {name!r}; choose one of {', '.join(OFFLINE_TASKS)}, a folder of A|B images "
            "(train/ test/), of A/ and B/ or of trainA/ trainB/ testA/ testB/, or cycle_gan/<name> "
            "(tensorflow-datasets)."
        )
    if direction == "BtoA":
        data = _swapped(data)
    if max_train is not None:
        data = dataclasses.replace(data, train_a=data.train_a[: int(max_train)], train_b=data.train_b[: int(max_train)])
    return data


def fingerprint(data):
    """A short hash of the training images and their pairing, so a run refuses to resume on different data."""
    digest = hashlib.sha1(f"paired={bool(data.paired)}".encode())
    for images in (data.train_a, data.train_b):
        digest.update(datasets.fingerprint(images).encode())
    return digest.hexdigest()[:12]


# ---------------------------------------------------------------------------------------------- the offline tasks


def edge_map(images):
    """Binary edge maps (1 on an edge, else 0) of grey images (N, H, W) in [0, 1]: the Sobel gradient magnitude
    above `EDGE_THRESHOLD`, zero outside the image (the background)."""
    from scipy import ndimage

    sobel = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], dtype="float32")
    images = np.asarray(images, dtype="float32")
    # A (1, 3, 3) kernel filters each image alone; ndimage.sobel would also smooth across the batch axis.
    across = ndimage.correlate(images, sobel[None], mode="constant")
    down = ndimage.correlate(images, sobel.T[None], mode="constant")
    return (np.hypot(across, down) > EDGE_THRESHOLD).astype("float32")


def thicken(images):
    """Thicker strokes: a grey dilation (each pixel the maximum of its 3x3 neighbourhood) of (N, H, W) images."""
    from scipy import ndimage

    return ndimage.grey_dilation(np.asarray(images, dtype="float32"), footprint=np.ones((1, *DILATION_FOOTPRINT)))


def _offline_task(name, data_dir, image_size, direction, max_train):
    source, paired = OFFLINE_TASKS[name]
    if source == "digits":
        (train, _), (test, test_labels) = _digits("train"), _digits("test")
        classifier_data_dir = None
    else:
        folder = _idx_folder(name, source, data_dir)
        train = _read_idx_images(folder, "train", source)
        test, test_labels = _read_idx_images(folder, "t10k", source), _read_idx_labels(folder, "t10k")
        train, test = _padded(train), _padded(test)
        classifier_data_dir = str(folder)
    if paired:
        train = train[:max_train]
        a, b = (edge_map(train), train), (edge_map(test), test)
        answers, binary = None, (True, False)
    else:
        # Disjoint halves of the train split: the thin digits and the thick ones are different digits.
        half = len(train) // 2
        thin, thick = train[:half][:max_train], thicken(train[half:][:max_train])
        test_thick = thicken(test)
        a, b = (thin, thick), (test, test_thick)
        binary = (False, False)
    if image_size is not None:
        a, b = ([_resized_grey(x, int(image_size), on) for x, on in zip(pair, binary)] for pair in (a, b))
    if direction == "BtoA":
        a, b = (a[1], a[0]), (b[1], b[0])
    train_a, train_b = a
    test_a, test_b = b
    if not paired:
        # The test B holds test A's answers in another order: nothing in the test split is a pair.
        answers = test_b
        test_b = test_b[np.random.default_rng(TEST_ORDER_SEED).permutation(len(test_b))]
    return TranslationData(
        name=name if direction == "AtoB" else f"{name} (BtoA)",
        paired=paired,
        train_a=_from_unit_range(train_a),
        train_b=_from_unit_range(train_b),
        test_a=_from_unit_range(test_a),
        test_b=_from_unit_range(test_b),
        answers=None if answers is None else _from_unit_range(answers),
        test_labels=np.asarray(test_labels, dtype="int32"),
        classifier_dataset=source,
        classifier_data_dir=classifier_data_dir,
        description=task_description(name, direction),
    )


def _from_unit_range(images):
    """(N, H, W) in [0, 1] -> (N, H, W, 1) float32 in [-1, 1]."""
    return np.ascontiguousarray(np.asarray(images, dtype="float32")[..., None] * 2.0 - 1.0)


def _digits(split):
    """scikit-learn's digits (`train.datasets`' split) as (N, 16, 16) in [0, 1], upsampled bilinearly, and labels."""
    from scipy import ndimage

    arrays = datasets.load_arrays("digits", split=split)
    grey = (arrays.x[..., 0] + 1.0) / 2.0
    factor = DIGITS_SIZE / grey.shape[1]
    # Zoom 1 along the batch axis samples each image on its own; linear interpolation cannot leave [0, 1].
    upsampled = ndimage.zoom(grey, (1, factor, factor), order=1, mode="nearest", grid_mode=True)
    return np.clip(upsampled, 0.0, 1.0).astype("float32"), arrays.y


def _padded(images):
    """28 -> 32 px, background (0) around, so the U-Net's five stride-2 steps divide the side."""
    margin = (PADDED_SIZE - images.shape[1]) // 2
    return np.pad(images, ((0, 0), (margin, margin), (margin, margin)))


def _idx_folder(task, dataset, data_dir):
    """The folder of `dataset`'s IDX files: `data_dir` itself or its `dataset` subfolder."""
    title, url = datasets.IDX_SOURCES[dataset]
    needs = (
        f"{task!r} is built from the {title} IDX files (train-images-idx3-ubyte[.gz], t10k-images-idx3-ubyte[.gz], "
        f"t10k-labels-idx1-ubyte[.gz]): pass a folder holding them as data_dir (--data-dir), e.g. the .gz files "
        f"downloaded from {url}; 'edges2digits' and 'thin2thick_digits' need no files."
    )
    if data_dir is None:
        raise DatasetError(f"no data folder given. {needs}")
    root = pathlib.Path(data_dir).expanduser()
    for folder in (root, root / dataset):
        if any((folder / f"train-images-idx3-ubyte{suffix}").is_file() for suffix in ("", ".gz")):
            return folder
    raise DatasetError(f"{root} holds no {title} IDX files. {needs}")


def _idx_file(folder, stem):
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise DatasetError(f"{folder} has no {stem}[.gz] file.")


def _read_idx_images(folder, prefix, dataset):
    """(N, 28, 28) in [0, 1]; refuses MNIST where Fashion-MNIST is needed and the other way round."""
    pixels = datasets.read_idx(_idx_file(folder, f"{prefix}-images-idx3-ubyte"))
    mean = float(pixels[:1000].mean())
    looks_like = "fashion_mnist" if mean > _MEAN_PIXEL_BETWEEN else "mnist"
    if looks_like != dataset:
        titles = {name: title for name, (title, _) in datasets.IDX_SOURCES.items()}
        raise DatasetError(
            f"{folder} looks like {titles[looks_like]} (mean pixel {mean:.0f}), not {titles[dataset]}: "
            f"the two use the same file names; give the {titles[dataset]} folder."
        )
    return pixels.astype("float32") / 255.0


def _read_idx_labels(folder, prefix):
    return datasets.read_idx(_idx_file(folder, f"{prefix}-labels-idx1-ubyte")).astype("int32")


def _resized_grey(images, size, binary):
    """(N, H, W) in [0, 1] at `size` px, bilinear; binary maps stay binary (on where the result passes 1/2)."""
    from PIL import Image

    if images.shape[1:] == (size, size):
        return images
    resized = np.stack(
        [np.asarray(Image.fromarray(image, mode="F").resize((size, size), Image.BILINEAR)) for image in images]
    )
    return (resized > 0.5).astype("float32") if binary else np.clip(resized, 0.0, 1.0).astype("float32")


# ---------------------------------------------------------------------------------------------- folders


def _folder_task(folder, image_size):
    if (folder / "trainA").is_dir() or (folder / "trainB").is_dir():
        return _unaligned_folder(folder, image_size)
    if (folder / "A").is_dir() or (folder / "B").is_dir():
        return _paired_folders(folder, image_size)
    if (folder / "train").is_dir():
        return _side_by_side_folder(folder, image_size)
    raise DatasetError(
        f"{folder} has no translation layout: expected train/ and test/ (or val/) of side-by-side A|B images, "
        "A/ and B/ of images with the same names, or trainA/ trainB/ testA/ testB/."
    )


def _images_in(folder):
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in datasets.IMAGE_SUFFIXES)
    if not files:
        raise DatasetError(f"{folder} holds no PNG/JPEG images.")
    return files


def _test_folder(parent, prefix=""):
    for split in ("test", "val"):
        if (parent / f"{prefix}{split}").is_dir():
            return parent / f"{prefix}{split}"
    raise DatasetError(f"{parent} has {prefix}train/ but neither {prefix}test/ nor {prefix}val/ for the test split.")


def _read_all(paths):
    return [(path, _read_rgb(path)) for path in paths]


def _read_rgb(path):
    from PIL import Image

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except Exception as error:  # noqa: BLE001 - any unreadable file is the user's to fix, named
        raise DatasetError(f"cannot read image {path}: {error}") from None


def _domain(groups, image_size, what):
    """Each group (a list of (path, RGB uint8 array)) as float32 NHWC in [-1, 1]: one size for all (resized to
    `image_size` if given, bicubic as the reference code), one channel if every image of the domain is grey."""
    from PIL import Image

    if image_size is not None:
        size = int(image_size)
        groups = [
            [(path, np.asarray(Image.fromarray(pixels).resize((size, size), Image.BICUBIC))) for path, pixels in group]
            for group in groups
        ]
    _check_one_size([item for group in groups for item in group], f"{what} images")
    grey = all(np.all(pixels == pixels[..., :1]) for group in groups for _, pixels in group)
    stacked = [np.stack([pixels for _, pixels in group]) for group in groups]
    return [datasets._to_unit_range(x[..., :1] if grey else x) for x in stacked]


def _check_one_size(items, what):
    """Raise, naming two files, unless every (path, pixels) of `items` has the first one's size."""
    first_path, first = items[0]
    for path, pixels in items:
        if pixels.shape[:2] != first.shape[:2]:
            raise DatasetError(
                f"{what} differ in size: {path} is {pixels.shape[1]}x{pixels.shape[0]}, {first_path} "
                f"{first.shape[1]}x{first.shape[0]}; pass image_size to resize them all."
            )


def _check_same_size(a, b, where):
    if a.shape[1:3] != b.shape[1:3]:
        raise DatasetError(
            f"{where}: A images are {a.shape[2]}x{a.shape[1]}, B images {b.shape[2]}x{b.shape[1]}; "
            "pass image_size to resize both."
        )


def _side_by_side_folder(folder, image_size):
    """pix2pix's aligned format: the left half of each image is A, the right half B (the reference code's
    `AlignedDataset`; an odd last column is dropped as there)."""
    splits = {"train": _read_all(_images_in(folder / "train")), "test": _read_all(_images_in(_test_folder(folder)))}
    if image_size is None:
        _check_one_size(splits["train"] + splits["test"], f"the A|B images in {folder}")

    def left(images):
        return [(path, pixels[:, : pixels.shape[1] // 2]) for path, pixels in images]

    def right(images):
        return [(path, pixels[:, pixels.shape[1] // 2 : 2 * (pixels.shape[1] // 2)]) for path, pixels in images]

    train, test = splits["train"], splits["test"]
    train_a, test_a = _domain([left(train), left(test)], image_size, f"{folder}'s A (left half)")
    train_b, test_b = _domain([right(train), right(test)], image_size, f"{folder}'s B (right half)")
    _check_same_size(train_a, train_b, str(folder))
    return TranslationData(
        str(folder), True, train_a, train_b, test_a, test_b,
        description="translate each A (left half) into its B (right half)",
    )


def _paired_files(folder_a, folder_b):
    names_a = {path.name: path for path in _images_in(folder_a)}
    names_b = {path.name: path for path in _images_in(folder_b)}
    if names_a.keys() != names_b.keys():
        only_a, only_b = sorted(names_a.keys() - names_b.keys()), sorted(names_b.keys() - names_a.keys())
        example = (
            f"{folder_a / only_a[0]} has no {folder_b.name}/ twin" if only_a
            else f"{folder_b / only_b[0]} has no {folder_a.name}/ twin"
        )
        raise DatasetError(
            f"{folder_a} and {folder_b} must hold images of the same names: {len(only_a)} only in "
            f"{folder_a.name}/, {len(only_b)} only in {folder_b.name}/ (e.g. {example})."
        )
    names = sorted(names_a)
    return [names_a[n] for n in names], [names_b[n] for n in names]


def _paired_folders(folder, image_size):
    """A/ and B/ of same-named images: with train/ and test/ (or val/) inside (`combine_A_and_B.py`'s layout), or
    flat and split 80/20 with a fixed seed."""
    folder_a, folder_b = folder / "A", folder / "B"
    for sub in (folder_a, folder_b):
        if not sub.is_dir():
            other = "B" if sub is folder_a else "A"
            raise DatasetError(f"{folder} has {other}/ but no {sub.name}/: paired data needs both.")
    if (folder_a / "train").is_dir():
        test_name = _test_folder(folder_a).name
        splits = [_paired_files(folder_a / split, folder_b / split) for split in ("train", test_name)]
    else:
        files_a, files_b = _paired_files(folder_a, folder_b)
        if len(files_a) < 2:
            raise DatasetError(f"{folder} holds {len(files_a)} pair(s); a train and a test split need at least 2.")
        order = np.random.default_rng(FLAT_SPLIT_SEED).permutation(len(files_a))
        n_test = max(1, round(FLAT_TEST_FRACTION * len(files_a)))
        test_rows, train_rows = np.sort(order[:n_test]), np.sort(order[n_test:])
        splits = [([files_a[i] for i in rows], [files_b[i] for i in rows]) for rows in (train_rows, test_rows)]
    (train_files_a, train_files_b), (test_files_a, test_files_b) = splits
    train_a, test_a = _domain([_read_all(train_files_a), _read_all(test_files_a)], image_size, f"{folder_a}")
    train_b, test_b = _domain([_read_all(train_files_b), _read_all(test_files_b)], image_size, f"{folder_b}")
    _check_same_size(train_a, train_b, str(folder))
    return TranslationData(
        str(folder), True, train_a, train_b, test_a, test_b, description="translate each A/ image into its B/ twin"
    )


def _unaligned_folder(folder, image_size):
    """CycleGAN's layout (`UnalignedDataset`): trainA/ trainB/ testA/ testB/, unpaired."""
    missing = [name for name in ("trainA", "trainB", "testA", "testB") if not (folder / name).is_dir()]
    if missing:
        lacking = ", ".join(f"{name}/" for name in missing)
        raise DatasetError(f"{folder} lacks {lacking} of CycleGAN's trainA/ trainB/ testA/ testB/.")
    images = {name: _read_all(_images_in(folder / name)) for name in ("trainA", "trainB", "testA", "testB")}
    train_a, test_a = _domain([images["trainA"], images["testA"]], image_size, f"{folder}'s A")
    train_b, test_b = _domain([images["trainB"], images["testB"]], image_size, f"{folder}'s B")
    _check_same_size(train_a, train_b, str(folder))
    return TranslationData(
        str(folder), False, train_a, train_b, test_a, test_b,
        description="translate A images into the style of domain B (unpaired)",
    )


def _swapped(data):
    return dataclasses.replace(
        data,
        name=f"{data.name} (BtoA)",
        train_a=data.train_b, train_b=data.train_a, test_a=data.test_b, test_b=data.test_a,
        description=f"{data.description} (BtoA: the domains swapped)",
    )


# ---------------------------------------------------------------------------------------------- tensorflow-datasets


def _offline_message(name, reason):
    return (
        f"cannot load tensorflow-datasets dataset {name!r}: {reason}. It is not prepared in the data directory "
        "and this machine cannot download it. Offline, use 'edges2digits' or 'thin2thick_digits' (no files), "
        "'edges2fashion' / 'thin2thick' with a folder of Fashion-MNIST / MNIST IDX files, or a folder in "
        "CycleGAN's trainA/ trainB/ testA/ testB/ layout (e.g. unpacked from the reference code's "
        "datasets/download_cyclegan_dataset.sh); or pass --data-dir to a tensorflow-datasets folder where it is "
        "already prepared."
    )


def _cycle_gan_tfds(name, data_dir, image_size):
    """tensorflow-datasets' `cycle_gan/<config>`: splits trainA, trainB, testA, testB (unpaired)."""
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise DatasetError(_offline_message(name, f"tensorflow-datasets is not importable ({error})")) from None
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except (ValueError, tfds.core.registered.DatasetNotFoundError):
        raise DatasetError(
            f"unknown tensorflow-datasets dataset {name!r}; cycle_gan/<name> takes e.g. cycle_gan/horse2zebra, "
            "cycle_gan/apple2orange, cycle_gan/monet2photo, cycle_gan/facades, cycle_gan/maps."
        ) from None
    if not datasets._is_prepared(builder):
        if not datasets._online():
            raise DatasetError(_offline_message(name, "no network connection"))
        try:
            builder.download_and_prepare()
        except Exception as error:  # noqa: BLE001 - any download failure gets the same advice
            raise DatasetError(_offline_message(name, f"download failed ({type(error).__name__})")) from None
    arrays = {}
    for split in ("trainA", "trainB", "testA", "testB"):
        images = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))["image"]
        arrays[split] = [(f"{name}:{split}[{i}]", pixels) for i, pixels in enumerate(images)]
    train_a, test_a = _domain([arrays["trainA"], arrays["testA"]], image_size, f"{name}'s A")
    train_b, test_b = _domain([arrays["trainB"], arrays["testB"]], image_size, f"{name}'s B")
    return TranslationData(
        name, False, train_a, train_b, test_a, test_b,
        description="translate A images into the style of domain B (unpaired)",
    )


# ---------------------------------------------------------------------------------------------- training batches


def jitter_sizes(image_size):
    """(load size, crop size) of the papers' jitter scaled to `image_size`: 286 / 256 at 256 px, 36 / 32 at 32."""
    crop = int(image_size)
    if crop < 1:
        raise DatasetError(f"image size must be positive, got {image_size}.")
    return round(crop * PAPER_LOAD_SIZE / PAPER_CROP_SIZE), crop


def steps_per_epoch(data, batch_size):
    """Batches per epoch: len(a) // batch_size for paired data, max(len(a), len(b)) // batch_size for unpaired
    data (CycleGAN's reference code iterates over the larger domain)."""
    _check_batch_size(data, batch_size)
    return _epoch_length(data) // int(batch_size)


def _epoch_length(data):
    return len(data.train_a) if data.paired else max(len(data.train_a), len(data.train_b))


def _check_batch_size(data, batch_size):
    if int(batch_size) < 1:
        raise DatasetError(f"batch size must be positive, got {batch_size}.")
    if int(batch_size) > _epoch_length(data):
        raise DatasetError(
            f"batch size {batch_size} is larger than {data.name!r}'s epoch ({_epoch_length(data)} images)."
        )


def translation_epoch_batches(data, batch_size, seed, first_epoch, epochs, jitter=True):
    """`translation_epoch_dataset`'s batches as a `train.batches.TranslationEpochBatches` (numpy, no TensorFlow),
    what it gives on JAX and PyTorch; the arguments are the same."""
    from train.batches import TranslationEpochBatches

    _check_batch_size(data, batch_size)
    height, width = data.train_a.shape[1:3]
    load_size = (jitter_sizes(height)[0], jitter_sizes(width)[0]) if jitter else None
    return TranslationEpochBatches(
        data.train_a, data.train_b, data.paired, batch_size, seed, first_epoch, epochs, load_size=load_size
    )


def translation_epoch_dataset(data, batch_size, seed, first_epoch, epochs, jitter=True):
    """(a_batch, b_batch) for epochs `first_epoch` .. `epochs - 1`, back to back, for
    `model.fit(dataset, steps_per_epoch=steps_per_epoch(data, batch_size))`.

    As `train.datasets.epoch_dataset`: each epoch's order, crops and flips are stateless draws seeded by (seed,
    epoch), so a resumed run sees exactly the batches the uninterrupted run would have; incomplete final
    batches are dropped.

    Paired data (pix2pix's `AlignedDataset`): a and b are gathered with the same indices and jittered with the
    same crop and flip. Unpaired data (CycleGAN's `UnalignedDataset`): an epoch runs over max(len(a), len(b))
    images, a in a shuffled order (wrapping round the smaller domain) and b drawn at random with replacement,
    as the reference code's `index_B = random.randint(0, B_size - 1)`; each domain gets its own crops and flips.

    Jitter (both papers): resize to `jitter_sizes(side)[0]` (bicubic, as the reference code), crop a random
    side x side window, mirror left-right with probability 1/2.

    On TensorFlow a `tf.data.Dataset`; on JAX and PyTorch a `train.batches.TranslationEpochBatches`, the same
    draws in numpy (from another random stream), which needs no TensorFlow.

    Args:
        data: a `TranslationData`; its train split is used.
        batch_size: images per batch and domain.
        seed: the run's seed.
        first_epoch: the epoch to start from (a resumed run's).
        epochs: the epoch to stop before.
        jitter: apply the papers' resize-crop-mirror jitter.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return translation_epoch_batches(data, batch_size, seed, first_epoch, epochs, jitter=jitter)
    import tensorflow as tf

    _check_batch_size(data, batch_size)
    batch_size = int(batch_size)

    a, b = tf.constant(data.train_a), tf.constant(data.train_b)
    size_a, size_b, length = len(data.train_a), len(data.train_b), _epoch_length(data)
    height, width = data.train_a.shape[1:3]
    (load_height, _), (load_width, _) = jitter_sizes(height), jitter_sizes(width)
    spare = tf.constant([load_height - height + 1, load_width - width + 1], tf.float32)
    channels_a = data.train_a.shape[-1]

    def one_epoch(epoch):
        keys = tf.random.experimental.stateless_split(tf.stack([tf.cast(seed, tf.int64), epoch]), num=6)
        order = tf.argsort(tf.random.stateless_uniform([length], seed=keys[0]))

        def crops(key):
            return tf.cast(tf.floor(tf.random.stateless_uniform([length, 2], seed=key) * spare), tf.int32)

        def flips(key):
            return tf.random.stateless_uniform([length], seed=key) < 0.5

        if data.paired:
            draws = (order, order, crops(keys[2]), flips(keys[3]), crops(keys[2]), flips(keys[3]))
        else:
            b_rows = tf.random.stateless_uniform([length], seed=keys[1], minval=0, maxval=size_b, dtype=tf.int32)
            draws = (order % size_a, b_rows, crops(keys[2]), flips(keys[3]), crops(keys[4]), flips(keys[5]))
        return tf.data.Dataset.from_tensor_slices(draws).batch(batch_size, drop_remainder=True)

    def jittered(images, offsets, mirror):
        images = tf.clip_by_value(tf.image.resize(images, (load_height, load_width), method="bicubic"), -1.0, 1.0)
        rows = offsets[:, :1] + tf.range(height)[None]
        columns = offsets[:, 1:] + tf.range(width)[None]
        images = tf.gather(tf.gather(images, rows, axis=1, batch_dims=1), columns, axis=2, batch_dims=1)
        return tf.where(mirror[:, None, None, None], tf.reverse(images, axis=[2]), images)

    def batch(a_rows, b_rows, crops_a, flips_a, crops_b, flips_b):
        a_batch, b_batch = tf.gather(a, a_rows), tf.gather(b, b_rows)
        if not jitter:
            return a_batch, b_batch
        if data.paired:  # one resize, crop and flip for the pair: A and its B stay aligned
            both = jittered(tf.concat([a_batch, b_batch], axis=-1), crops_a, flips_a)
            return both[..., :channels_a], both[..., channels_a:]
        return jittered(a_batch, crops_a, flips_a), jittered(b_batch, crops_b, flips_b)

    epochs_range = tf.data.Dataset.range(int(first_epoch), int(epochs))
    return epochs_range.flat_map(one_epoch).map(batch).prefetch(tf.data.AUTOTUNE)
