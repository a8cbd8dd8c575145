"""The metrics against hand-worked and closed-form cases (numpy only, no model)."""

import math

import numpy as np
import pytest
from scipy import stats

from train.evaluation import metrics

RING = np.stack([np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], axis=1)
STD = 0.01


def test_toy_constants_follow_pacgan():
    from train.datasets import toy_modes

    modes, std = toy_modes("ring8")
    np.testing.assert_allclose(modes, RING, atol=1e-12)
    assert std == 0.01
    modes, std = toy_modes("grid25")
    assert modes.shape == (25, 2) and std == 0.05
    assert sorted(set(modes[:, 0])) == [-4, -2, 0, 2, 4]
    assert metrics.PACGAN_NUM_SAMPLES == 2500 and metrics.PACGAN_STD_THRESHOLD == 3.0


def test_mode_coverage_collapsed_on_three_modes():
    samples = np.repeat(RING[[0, 2, 5]], [500, 250, 250], axis=0)
    result = metrics.mode_coverage(samples, RING, STD)
    assert result["modes_captured"] == 3
    assert result["high_quality"] == 100.0
    assert result["mode_counts"] == [500, 0, 250, 0, 0, 250, 0, 0]
    p = np.array([0.5, 0.25, 0.25])
    assert result["mode_kl"] == pytest.approx(float(np.sum(p * np.log(p * 8))))


def test_mode_coverage_threshold_is_three_std_of_the_nearest_mode():
    direction = np.array([1.0, 0.0])
    inside = RING[0] + 2.99 * STD * direction
    outside = RING[0] + 3.01 * STD * direction
    result = metrics.mode_coverage(np.stack([inside, outside]), RING, STD)
    assert result["high_quality"] == 50.0
    assert result["modes_captured"] == 1
    # Far off every mode: no high-quality sample, so nothing is captured and the KL is undefined (inf).
    result = metrics.mode_coverage(np.zeros((10, 2)), RING, STD)
    assert result["modes_captured"] == 0 and result["high_quality"] == 0.0 and math.isinf(result["mode_kl"])


def test_mode_coverage_of_real_data_is_perfect():
    rng = np.random.default_rng(0)
    samples = RING[np.arange(2500) % 8] + STD * rng.standard_normal((2500, 2))
    result = metrics.mode_coverage(samples, RING, STD)
    assert result["modes_captured"] == 8
    assert result["high_quality"] > 98.0  # P(chi_2 <= 3) = 1 - exp(-4.5) = 98.9%
    assert result["mode_kl"] < 1e-3


def test_gaussian_fit():
    rng = np.random.default_rng(0)
    good = metrics.gaussian_fit(rng.normal(1.0, 1.0, 20000))
    assert good["mean"] == pytest.approx(1.0, abs=0.03)
    assert good["std"] == pytest.approx(1.0, abs=0.03)
    assert good["ks"] < 0.015
    # N(0, 1) against N(1, 1): sup |Phi(x) - Phi(x - 1)| = 2 Phi(1/2) - 1.
    shifted = metrics.gaussian_fit(rng.normal(0.0, 1.0, 20000))
    assert shifted["ks"] == pytest.approx(2 * stats.norm.cdf(0.5) - 1, abs=0.015)


def test_classifier_score_limits():
    k = 10
    one_hot = np.eye(k)[np.arange(1000) % k]
    assert metrics.classifier_score(one_hot) == pytest.approx(k, rel=1e-6)  # confident and balanced
    assert metrics.classifier_score(np.eye(k)[np.zeros(1000, int)]) == pytest.approx(1.0)  # one class only
    assert metrics.classifier_score(np.full((1000, k), 1.0 / k)) == pytest.approx(1.0)  # uninformative


def test_classifier_score_hand_worked():
    # Two samples, p(y|x) = (0.9, 0.1) and (0.1, 0.9): p(y) = (0.5, 0.5), each KL = 0.9 ln 1.8 + 0.1 ln 0.2.
    p = np.array([[0.9, 0.1], [0.1, 0.9]])
    expected = math.exp(0.9 * math.log(1.8) + 0.1 * math.log(0.2))
    assert metrics.classifier_score(p) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_closed_form_commuting_covariances():
    # Covariances Q diag(a) Q^T and Q diag(b) Q^T commute: FD = |mu1 - mu2|^2 + sum (sqrt a - sqrt b)^2.
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    a, b = rng.uniform(0.1, 4.0, 16), rng.uniform(0.1, 4.0, 16)
    mu1, mu2 = rng.standard_normal(16), rng.standard_normal(16)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    fd = metrics.frechet_distance(mu1, q @ np.diag(a) @ q.T, mu2, q @ np.diag(b) @ q.T)
    assert isinstance(fd, float)
    assert fd == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_one_dimensional_and_identity():
    assert metrics.frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4.0 + 1.0)
    rng = np.random.default_rng(1)
    features = rng.standard_normal((2000, 128)) @ rng.standard_normal((128, 128))
    assert abs(metrics.frechet_distance_of(features, features)) < 1e-6


def test_frechet_distance_from_samples_matches_the_gaussians():
    rng = np.random.default_rng(2)
    x = rng.normal(0.0, 1.0, (200_000, 2))
    y = rng.normal([1.0, 0.0], [2.0, 1.0], (200_000, 2))
    assert metrics.frechet_distance_of(x, y) == pytest.approx(1.0 + 1.0, abs=0.03)


def test_frechet_distance_rejects_mismatched_statistics():
    with pytest.raises(ValueError):
        metrics.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_frechet_distance_handles_singular_covariances():
    # Rank-deficient covariances (fewer samples than dimensions) still give a finite real number.
    rng = np.random.default_rng(3)
    fd = metrics.frechet_distance_of(rng.standard_normal((20, 64)), rng.standard_normal((20, 64)) + 1.0)
    assert np.isfinite(fd) and fd > 0


def test_class_histogram_kl_and_coverage():
    balanced = np.full(10, 0.1)
    assert metrics.class_histogram_kl(np.arange(1000) % 10, balanced) == pytest.approx(0.0, abs=1e-9)
    assert metrics.class_histogram_kl(np.full(1000, 3), balanced) == pytest.approx(math.log(10), rel=1e-6)
    # Two classes at 1.2% and 0.5% of the samples: only the first reaches 10% of its expected 10%.
    predicted = np.concatenate([np.arange(1000) % 8, [8] * 12, [9] * 5])
    assert metrics.classes_covered(predicted, balanced) == 9
    assert metrics.classes_covered(np.full(100, 2), balanced) == 1


def test_conditional_accuracy():
    assert metrics.conditional_accuracy([0, 1, 2, 2], [0, 1, 2, 3]) == 0.75
    with pytest.raises(ValueError):
        metrics.conditional_accuracy([0, 1], [0, 1, 2])


def test_kernel_inception_distance():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((1000, 8)), rng.standard_normal((1000, 8))
    same, _ = metrics.kernel_inception_distance(x, y, num_subsets=5, subset_size=500)
    shifted, _ = metrics.kernel_inception_distance(x, y + 1.0, num_subsets=5, subset_size=500)
    assert abs(same) < 0.05
    assert shifted > 10 * max(abs(same), 0.01)


def test_matched_code_error_matches_codes_to_classes_one_to_one():
    from train.evaluation.metrics import matched_code_error

    # Code 0 is mostly class 2, code 1 mostly class 0, code 2 mostly class 1: 3 of 10 images disagree.
    codes = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    labels = [2, 2, 2, 1, 0, 0, 2, 1, 1, 0]
    error, matching = matched_code_error(codes, labels)
    assert matching == {0: 2, 1: 0, 2: 1} and error == pytest.approx(0.3)
    # One-to-one: two codes that both mostly show class 0 cannot both be matched to it.
    error, matching = matched_code_error([0, 0, 1, 1], [0, 0, 0, 1])
    assert matching == {0: 0, 1: 1} and error == pytest.approx(0.25)


def test_majority_code_error_lets_two_codes_stand_for_one_class():
    from train.evaluation.metrics import majority_code_error, matched_code_error

    # Codes 0 and 1 both mostly show class 0 (a digit split over two codes); class 1 is never any code's majority.
    codes, labels = [0, 0, 0, 1, 1, 1, 2, 2], [0, 0, 1, 0, 0, 2, 2, 2]
    assert majority_code_error(codes, labels) == pytest.approx(2 / 8)  # the 1 under code 0 and the 2 under code 1
    assert matched_code_error(codes, labels)[0] == pytest.approx(3 / 8)  # one-to-one: one of codes 0, 1 gives up class 0
    with pytest.raises(ValueError, match="one shape"):
        majority_code_error([0, 1], [0])
