"""Differentiable augmentation (DiffAugment, Zhao et al. 2020) for training GANs on little data.

The same random transformations are applied to real and generated images before every pass of
the discriminator (its own updates and the generator's), so D cannot memorise the few real
images and G still receives gradients through the transformation. Images are NHWC; every draw
comes from the `seed` given (the GAN's SeedGenerator), so training stays reproducible. Magnitudes
follow the paper's reference code: brightness +U(-0.5, 0.5), saturation x U(0, 2), contrast
x U(0.5, 1.5), translation up to 1/8 of the side (zero fill), one cutout square of half the side.
"""

import keras
from keras import ops


def random_brightness(images, seed):
    """Adds one U(-0.5, 0.5) offset per image."""
    return images + _per_image_uniform(images, seed, -0.5, 0.5)


def random_saturation(images, seed):
    """Scales each pixel's distance from its channel mean by U(0, 2) per image (a no-op on grey images)."""
    mean = ops.mean(images, axis=-1, keepdims=True)
    return (images - mean) * _per_image_uniform(images, seed, 0.0, 2.0) + mean


def random_contrast(images, seed):
    """Scales each image's distance from its own mean by U(0.5, 1.5)."""
    mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
    return (images - mean) * _per_image_uniform(images, seed, 0.5, 1.5) + mean


def random_translation(images, seed, ratio=0.125):
    """Shifts each image by whole pixels, up to `ratio` of its side each way, filling with zeros."""
    for axis in (1, 2):
        size = images.shape[axis]
        limit = int(size * ratio + 0.5)
        shift = keras.random.randint((ops.shape(images)[0], 1), -limit, limit + 1, seed=seed)
        source = ops.arange(size)[None, :] + shift  # output pixel i shows input pixel i + shift
        inside = ops.cast((source >= 0) & (source < size), images.dtype)
        index = _along(ops.clip(source, 0, size - 1), axis)
        images = ops.take_along_axis(images, ops.broadcast_to(index, ops.shape(images)), axis=axis)
        images = images * _along(inside, axis)
    return images


def random_cutout(images, seed, ratio=0.5):
    """Zeroes one square of `ratio` times the side per image at a random centre (it may overhang the edge)."""
    keep = None
    for axis in (1, 2):
        size = images.shape[axis]
        cut = int(size * ratio + 0.5)
        centre = keras.random.randint((ops.shape(images)[0], 1), 0, size + 1 - cut % 2, seed=seed)
        start = centre - cut // 2
        position = ops.arange(size)[None, :]
        outside = _along(ops.cast((position < start) | (position >= start + cut), images.dtype), axis)
        keep = outside if keep is None else ops.maximum(keep, outside)  # kept unless inside on both axes
    return images * keep


AUGMENTATIONS = {
    "color": (random_brightness, random_saturation, random_contrast),
    "translation": (random_translation,),
    "cutout": (random_cutout,),
}


def parse_policy(policy):
    """'color,translation,cutout' (the paper's policy string) -> a tuple of names; '' or None -> ().

    Args:
        policy: comma-separated names from "color", "translation", "cutout", each at most once;
            '' or None for no augmentation. Raises ValueError otherwise.
    """
    if not policy:
        return ()
    if not isinstance(policy, str):
        raise ValueError(f"a DiffAugment policy is a comma-separated string, got {policy!r}.")
    names = tuple(name.strip() for name in policy.split(","))
    for name in names:
        if name not in AUGMENTATIONS:
            raise ValueError(
                f"Unknown DiffAugment transformation {name!r} in policy {policy!r}; "
                f"choose from {', '.join(AUGMENTATIONS)} (comma-separated)."
            )
    if len(set(names)) != len(names):
        raise ValueError(f"DiffAugment policy {policy!r} names a transformation twice.")
    return names


def diff_augment(images, policy, seed):
    """Applies the policy's transformations in order; differentiable with respect to `images`.

    Args:
        images: float NHWC batch, shape (batch, height, width, channels), typically in [-1, 1].
        policy: a policy string as `parse_policy` accepts, e.g. "color,translation,cutout".
        seed: what `keras.random` draws take as `seed`, e.g. a `keras.random.SeedGenerator`.
    """
    for name in parse_policy(policy):
        for augmentation in AUGMENTATIONS[name]:
            images = augmentation(images, seed)
    return images


def _per_image_uniform(images, seed, low, high):
    return keras.random.uniform((ops.shape(images)[0], 1, 1, 1), low, high, dtype=images.dtype, seed=seed)


def _along(rows, axis):
    """(N, size) values laid along image axis 1 (height) or 2 (width) of an NHWC batch."""
    return ops.expand_dims(rows, (2, 3)) if axis == 1 else ops.expand_dims(rows, (1, 3))
