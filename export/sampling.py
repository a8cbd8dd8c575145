"""Sampling with numpy alone: the prior, label checks, chunked generation, uint8 images and grids.

What every generator here shares, written once and importable without TensorFlow, so that the
ONNX runtime serves with it and `train` (evaluation, sample grids) and the benchmarks reuse it.

The sampler protocol, satisfied by `zoo.GAN`, `export.GeneratorSession` and
`train.run_folder.KerasGenerator`:

    sampler.generate(n, labels=None, seed=None)  # float32 (n, *data_shape), in the data's range
    sampler.latent_dim, sampler.num_classes, sampler.conditional, sampler.data_shape

`generate` returns what the network outputs ([-1, 1] for tanh images); `to_uint8` turns images
into pixels.
"""

import math
import typing

import numpy as np

from export import metadata as metadata_lib


@typing.runtime_checkable
class Sampler(typing.Protocol):
    """Anything that draws samples: `generate(n, labels=None, seed=None)` -> float32 numpy array."""

    latent_dim: int
    num_classes: typing.Optional[int]
    data_shape: tuple

    @property
    def conditional(self) -> bool: ...

    def generate(self, n, labels=None, seed=None): ...


def prior_noise(n, latent_dim, prior="uniform", prior_range=None, seed=None):
    """z from the prior as float32 (n, latent_dim).

    Args:
        n: how many latent vectors.
        latent_dim: the size of each.
        prior: "uniform" or "normal".
        prior_range: [low, high] for "uniform", [mean, stddev] for "normal"; default the
            metadata's `PRIOR_PARAMS` (U(-1, 1), N(0, 1)).
        seed: an int makes the draw repeatable.
    """
    return LazyNoise(n, latent_dim, prior, prior_range, seed)[:]


class LazyNoise:
    """z from the prior, drawn one slice at a time, in order: `prior_noise`'s values without holding them all.

    `generate_in_chunks` slices it front to back; each slice continues the same random stream,
    so the result equals `prior_noise(n, ...)` while the noise in memory is one chunk.
    """

    def __init__(self, n, latent_dim, prior="uniform", prior_range=None, seed=None):
        if prior not in metadata_lib.PRIOR_PARAMS:
            raise ValueError(f"unknown prior {prior!r}; choose one of {tuple(metadata_lib.PRIOR_PARAMS)}.")
        self.n, self.latent_dim, self.prior = positive(n), int(latent_dim), prior
        self.range = prior_range if prior_range is not None else tuple(metadata_lib.PRIOR_PARAMS[prior].values())
        self.rng = np.random.default_rng(seed)
        self.drawn = 0

    def __len__(self):
        return self.n

    def __getitem__(self, rows):
        start, stop, _ = rows.indices(self.n)
        if start != self.drawn:
            raise IndexError(f"LazyNoise is read front to back: rows from {self.drawn}, not {start}.")
        self.drawn = stop
        a, b = self.range
        size = (stop - start, self.latent_dim)
        z = self.rng.uniform(a, b, size=size) if self.prior == "uniform" else self.rng.normal(a, b, size=size)
        return z.astype(np.float32)


def positive(n):
    """`n` as an int, or ValueError unless it is a positive integer."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"n must be a positive integer, got {n!r}.")
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}.")
    return int(n)


def check_labels(labels, n, num_classes, class_names=None):
    """`labels` as an int64 array of n class indices, or None for an unconditional model.

    The messages match `zoo.GAN`'s own check (tests/test_labels.py holds both to the same cases).

    Args:
        labels: None, one class index for all n, or n of them.
        n: how many samples they label.
        num_classes: the model's class count; None for an unconditional model.
        class_names: named in the error when labels are missing.
    """
    if num_classes is None:
        if labels is not None:
            raise ValueError("labels were given, but this generator is unconditional.")
        return None
    if labels is None:
        names = f" ({', '.join(map(str, class_names))})" if class_names else ""
        raise ValueError(f"this conditional generator needs labels in [0, {num_classes}){names}.")
    labels = np.asarray(labels)
    if labels.ndim == 0:
        labels = np.full((n,), labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}.")
    if labels.shape != (n,):
        raise ValueError(f"expected {n} labels (one per latent vector), got shape {labels.shape}.")
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        raise ValueError(f"label {bad[0]} is outside [0, {num_classes}).")
    return labels.astype(np.int64)


def generate_in_chunks(run, z, labels=None, chunk=1024):
    """`run(z, labels)` over slices of at most `chunk` rows, concatenated: bounded memory, same result.

    Args:
        run: a function of (z rows, their labels or None) returning a numpy array.
        z: float32 (n, latent_dim).
        labels: None or n labels.
        chunk: rows per call.
    """
    outputs = []
    for start in range(0, len(z), int(chunk)):
        stop = start + int(chunk)
        outputs.append(np.asarray(run(z[start:stop], None if labels is None else labels[start:stop])))
    return np.concatenate(outputs)


def to_uint8(samples, value_range=(-1.0, 1.0)):
    """Float samples in `value_range` -> uint8 in [0, 255].

    Args:
        samples: float images, e.g. a generator's tanh output.
        value_range: the (low, high) the float values span; None means [-1, 1].
    """
    low, high = value_range if value_range else (-1.0, 1.0)
    scaled = (np.asarray(samples, np.float32) - low) * (255.0 / (high - low))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def image_grid(images, nrow=None, padding=2, min_cell=64, scale=None):
    """Images (N, H, W, C) tiled into one uint8 (rows, cols, C) array, enlarged so small images stay visible.

    Args:
        images: uint8 images as they are, or floats in [-1, 1].
        nrow: images per row; default a square-ish grid.
        padding: pixels between images (black).
        min_cell: enlarge by an integer factor (nearest neighbour) until each image is at least
            this many pixels on its longer side.
        scale: the enlargement factor itself, instead of `min_cell`.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4) or len(images) == 0:
        raise ValueError(f"a grid needs images of shape (N, H, W, C) with C in 1/3/4, got {images.shape}.")
    if images.dtype != np.uint8:
        images = to_uint8(images)
    n, height, width, channels = images.shape
    nrow = int(nrow) if nrow else math.ceil(math.sqrt(n))
    if nrow <= 0:
        raise ValueError(f"nrow must be positive, got {nrow}.")
    scale = int(scale) if scale else max(1, math.ceil(min_cell / max(height, width)))
    rows = math.ceil(n / nrow)
    grid = np.zeros((rows * (height + padding) + padding, nrow * (width + padding) + padding, channels), np.uint8)
    for index, image in enumerate(images):
        top = padding + (index // nrow) * (height + padding)
        left = padding + (index % nrow) * (width + padding)
        grid[top : top + height, left : left + width] = image
    if scale > 1:
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    return grid


def to_pil(grid):
    """A uint8 (H, W, C) array as a PIL image (greyscale for one channel)."""
    from PIL import Image

    grid = np.asarray(grid)
    return Image.fromarray(grid[..., 0] if grid.ndim == 3 and grid.shape[-1] == 1 else grid)
