"""Latent interpolation (linear and spherical) and latent vector arithmetic."""

import numpy as np
import pytest

from train import latent


def test_lerp_and_slerp_hit_their_endpoints():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=16), rng.normal(size=16)
    for method in ("linear", "spherical"):
        path = latent.interpolate(a, b, steps=7, method=method)
        assert path.shape == (7, 16) and path.dtype == np.float32
        np.testing.assert_allclose(path[0], a, atol=1e-6)
        np.testing.assert_allclose(path[-1], b, atol=1e-6)


def test_slerp_follows_the_great_circle():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    np.testing.assert_allclose(latent.slerp(a, b, 0.5), [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)
    np.testing.assert_allclose(latent.lerp(a, b, 0.5), [0.5, 0.5])
    path = latent.interpolate(a * 3, b * 3, steps=9, method="spherical")
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 3.0, rtol=1e-6)  # norm kept, unlike lerp
    assert np.linalg.norm(latent.interpolate(a * 3, b * 3, 9, "linear")[4]) < 2.2
    angles = np.arctan2(path[:, 1], path[:, 0])
    np.testing.assert_allclose(np.diff(angles), np.pi / 16, atol=1e-6)  # constant angular speed


def test_slerp_falls_back_to_lerp_for_parallel_vectors():
    a = np.array([1.0, 2.0])
    np.testing.assert_allclose(latent.slerp(a, 2 * a, 0.5), latent.lerp(a, 2 * a, 0.5), atol=1e-6)
    assert np.all(np.isfinite(latent.slerp(a, -a, [0.0, 0.5, 1.0])))


def test_latent_walk_and_errors():
    ends = np.eye(3, dtype="float32")
    assert latent.latent_walk(ends, steps=4).shape == (8, 3)
    with pytest.raises(ValueError, match="unknown interpolation"):
        latent.interpolate(ends[0], ends[1], method="cubic")
    with pytest.raises(ValueError, match="at least 2"):
        latent.interpolate(ends[0], ends[1], steps=1)


def test_vector_arithmetic_averages_each_concept_first():
    smiling_woman = np.array([[2.0, 0.0, 1.0], [4.0, 0.0, 1.0]])
    woman = np.array([0.0, 0.0, 1.0])
    man = np.array([[0.0, 5.0, 0.0]])
    np.testing.assert_allclose(latent.vector_arithmetic(smiling_woman, woman, man), [3.0, 5.0, 0.0])
    with pytest.raises(ValueError, match="differ in size"):
        latent.vector_arithmetic(woman, man[0][:2], woman)
