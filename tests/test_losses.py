"""Loss functions against values worked by hand."""

import math

import numpy as np
import pytest

import zoo


def logit(p):
    return np.float32(math.log(p / (1 - p)))


def test_value_function_matches_the_lecture_worked_example():
    # D(x) = 0.8 and D(G(z)) = 0.2: V = ln 0.8 + ln(1 - 0.2) = 2 ln 0.8.
    v = zoo.value_function(np.array([logit(0.8)]), np.array([logit(0.2)]))
    assert float(v) == pytest.approx(2 * math.log(0.8), abs=1e-6)


def test_discriminator_loss_is_minus_the_value_function():
    real, fake = np.array([logit(0.8), logit(0.6)]), np.array([logit(0.2), logit(0.3)])
    expected = -(np.mean(np.log([0.8, 0.6])) + np.mean(np.log([0.8, 0.7])))
    assert float(zoo.minimax_discriminator_loss(real, fake)) == pytest.approx(expected, abs=1e-6)
    assert float(zoo.minimax_discriminator_loss(real, fake)) == pytest.approx(-float(zoo.value_function(real, fake)))


def test_one_sided_label_smoothing_changes_only_the_real_target():
    real, fake = np.array([logit(0.8)]), np.array([logit(0.2)])
    # Real target 0.9: -(0.9 ln 0.8 + 0.1 ln 0.2); the fake term stays -ln 0.8.
    expected = -(0.9 * math.log(0.8) + 0.1 * math.log(0.2)) - math.log(0.8)
    assert float(zoo.minimax_discriminator_loss(real, fake, label_smoothing=0.1)) == pytest.approx(expected, abs=1e-6)


def test_generator_losses_by_hand():
    fake = np.array([logit(0.2)])
    assert float(zoo.minimax_generator_loss(fake)) == pytest.approx(math.log(0.8), abs=1e-6)
    assert float(zoo.non_saturating_generator_loss(fake)) == pytest.approx(-math.log(0.2), abs=1e-6)


def test_losses_stay_finite_when_the_discriminator_saturates():
    fake = np.array([-200.0, 200.0], dtype="float32")
    real = np.array([200.0, -200.0], dtype="float32")
    for value in (
        zoo.minimax_discriminator_loss(real, fake, 0.1),
        zoo.minimax_generator_loss(fake),
        zoo.non_saturating_generator_loss(fake),
    ):
        assert np.isfinite(float(value))
    # -log D(G(z)) for D(G(z)) = sigmoid(-200) is 200, exactly, not inf.
    assert float(zoo.non_saturating_generator_loss(np.array([-200.0], dtype="float32"))) == pytest.approx(200.0)


def test_feature_matching_loss_is_the_squared_distance_of_feature_means():
    real = np.array([[1.0, 2.0], [3.0, 4.0]], dtype="float32")  # mean (2, 3)
    fake = np.array([[0.0, 0.0], [2.0, 2.0]], dtype="float32")  # mean (1, 1)
    assert float(zoo.feature_matching_loss(real, fake)) == pytest.approx(1.0 + 4.0)
