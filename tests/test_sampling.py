"""`export.sampling`: the prior, chunked generation, uint8 conversion and image grids, without TensorFlow."""

import numpy as np
import pytest

from export import sampling


def test_prior_noise_follows_the_metadata_ranges():
    uniform = sampling.prior_noise(20000, 3, "uniform", seed=0)
    assert uniform.dtype == np.float32 and uniform.shape == (20000, 3)
    assert uniform.min() >= -1 and uniform.max() <= 1 and abs(uniform.std() - 1 / np.sqrt(3)) < 0.01
    shifted = sampling.prior_noise(20000, 3, "normal", prior_range=[2.0, 0.5], seed=0)
    assert abs(shifted.mean() - 2.0) < 0.02 and abs(shifted.std() - 0.5) < 0.01
    np.testing.assert_array_equal(sampling.prior_noise(4, 2, seed=7), sampling.prior_noise(4, 2, seed=7))
    with pytest.raises(ValueError, match="unknown prior"):
        sampling.prior_noise(4, 2, "cauchy")
    with pytest.raises(ValueError, match="positive"):
        sampling.prior_noise(0, 2)


def test_generate_in_chunks_is_one_call_in_pieces():
    calls = []

    def run(z, labels):
        calls.append(len(z))
        return z * 2 + (0 if labels is None else labels[:, None])

    z = np.arange(10, dtype=np.float32).reshape(5, 2)
    labels = np.arange(5)
    np.testing.assert_array_equal(sampling.generate_in_chunks(run, z, labels, chunk=2), z * 2 + labels[:, None])
    assert calls == [2, 2, 1]


def test_to_uint8_maps_the_value_range():
    np.testing.assert_array_equal(sampling.to_uint8([-1.0, 0.0, 1.0, 3.0]), [0, 128, 255, 255])
    np.testing.assert_array_equal(sampling.to_uint8([0.0, 0.5, 1.0], value_range=(0.0, 1.0)), [0, 128, 255])


def test_image_grid_layout():
    images = np.stack([np.full((2, 3, 1), v, dtype="float32") for v in (-1.0, 0.0, 1.0)])
    grid = sampling.image_grid(images, nrow=2, padding=1, scale=1)
    assert grid.shape == (2 * 3 + 1, 2 * 4 + 1, 1) and grid.dtype == np.uint8
    assert grid[1, 1, 0] == 0 and grid[1, 5, 0] == 128 and grid[4, 1, 0] == 255 and grid[4, 5, 0] == 0  # last cell empty
    enlarged = sampling.image_grid(images, nrow=2, padding=1, min_cell=6)  # 3 pixels wide -> doubled
    np.testing.assert_array_equal(enlarged[::2, ::2], grid)
    with pytest.raises(ValueError, match="N, H, W, C"):
        sampling.image_grid(np.zeros((4, 8)))
