"""DiffAugment: shapes, ranges, gradients, and what translation and cutout do to a hand-made image."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo import augment


def batch(n=6, shape=(8, 8, 3)):
    return tf.constant(np.random.default_rng(0).uniform(-1, 1, (n, *shape)).astype("float32"))


def shifted(image, dy, dx):
    """image[y + dy, x + dx], zero outside."""
    out = np.zeros_like(image)
    h, w = image.shape[:2]
    for y in range(h):
        for x in range(w):
            if 0 <= y + dy < h and 0 <= x + dx < w:
                out[y, x] = image[y + dy, x + dx]
    return out


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout"])
def test_shape_and_dtype_are_kept(policy):
    images = batch()
    out = zoo.diff_augment(images, policy, keras.random.SeedGenerator(0))
    assert out.shape == images.shape and out.dtype == images.dtype


def test_brightness_adds_one_offset_per_image_and_contrast_keeps_the_mean():
    images = batch()
    seed = keras.random.SeedGenerator(1)
    offset = np.asarray(augment.random_brightness(images, seed) - images)
    per_image = offset.reshape(len(offset), -1)
    assert np.allclose(per_image, per_image[:, :1], atol=1e-6) and np.abs(per_image).max() <= 0.5
    contrasted = np.asarray(augment.random_contrast(images, seed))
    np.testing.assert_allclose(contrasted.mean(axis=(1, 2, 3)), np.asarray(images).mean(axis=(1, 2, 3)), atol=1e-5)
    # Saturation moves colours around their per-pixel grey level, which it keeps.
    saturated = np.asarray(augment.random_saturation(images, seed))
    np.testing.assert_allclose(saturated.mean(axis=-1), np.asarray(images).mean(axis=-1), atol=1e-5)


def test_translation_shifts_by_at_most_an_eighth_with_zero_fill():
    image = np.arange(1, 65, dtype="float32").reshape(8, 8, 1)  # every pixel distinct and non-zero
    out = np.asarray(augment.random_translation(tf.constant(np.stack([image] * 16)), keras.random.SeedGenerator(2)))
    seen = set()
    for moved in out:
        matches = [(dy, dx) for dy in range(-1, 2) for dx in range(-1, 2) if np.array_equal(moved, shifted(image, dy, dx))]
        assert len(matches) == 1, moved[..., 0]
        seen.add(matches[0])
    assert len(seen) > 3  # the 16 images were shifted in several ways


def test_cutout_zeroes_one_half_side_square_and_nothing_else():
    ones = tf.ones((16, 8, 8, 1))
    out = np.asarray(augment.random_cutout(ones, keras.random.SeedGenerator(3)))[..., 0]
    assert set(np.unique(out)) <= {0.0, 1.0}
    for image in out:
        rows, cols = np.nonzero(image == 0)
        assert rows.size > 0
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert rows.size == height * width and height <= 4 and width <= 4  # one rectangle, cut at the border
    assert (out == 0).sum(axis=(1, 2)).max() == 16  # a whole 4 x 4 square when it is inside


def test_gradient_reaches_the_input():
    images = batch()
    with tf.GradientTape() as tape:
        tape.watch(images)
        out = zoo.diff_augment(images, "color,translation,cutout", keras.random.SeedGenerator(4))
        total = tf.reduce_sum(out * out)
    gradient = tape.gradient(total, images)
    assert gradient is not None and np.isfinite(gradient.numpy()).all() and np.abs(gradient.numpy()).sum() > 0


def test_the_seed_generator_makes_draws_repeatable():
    images = batch()
    a = zoo.diff_augment(images, "color,translation,cutout", keras.random.SeedGenerator(5))
    b = zoo.diff_augment(images, "color,translation,cutout", keras.random.SeedGenerator(5))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_policy_parsing():
    assert zoo.parse_policy("color, translation,cutout") == ("color", "translation", "cutout")
    assert zoo.parse_policy("") == () and zoo.parse_policy(None) == ()
    with pytest.raises(ValueError, match="'flip'.*color, translation, cutout"):
        zoo.parse_policy("color,flip")
    with pytest.raises(ValueError, match="twice"):
        zoo.parse_policy("cutout,cutout")
    with pytest.raises(ValueError, match="comma-separated"):
        zoo.parse_policy(["color"])
    with pytest.raises(ValueError, match="images"):
        zoo.create("vanilla", data_shape=(2,), diffaugment="color")
