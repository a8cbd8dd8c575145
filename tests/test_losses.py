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


def test_hinge_losses_by_hand():
    real, fake = np.array([2.0, 0.5], "float32"), np.array([-2.0, 0.5], "float32")
    # D: mean(relu(1 - [2, 0.5])) + mean(relu(1 + [-2, 0.5])) = mean(0, 0.5) + mean(0, 1.5) = 0.25 + 0.75.
    assert float(zoo.hinge_discriminator_loss(real, fake)) == pytest.approx(1.0)
    assert float(zoo.hinge_generator_loss(fake)) == pytest.approx(0.75)  # -mean(-2, 0.5)


def test_wasserstein_losses_by_hand():
    real, fake = np.array([3.0, 1.0], "float32"), np.array([-1.0, 0.0], "float32")
    assert float(zoo.wasserstein_discriminator_loss(real, fake)) == pytest.approx(-0.5 - 2.0)
    assert float(zoo.wasserstein_generator_loss(fake)) == pytest.approx(0.5)


def test_least_squares_losses_by_hand():
    real, fake = np.array([1.0, 0.0], "float32"), np.array([0.5, -1.0], "float32")
    # D: 0.5 * mean(0, 1) + 0.5 * mean(0.25, 1) = 0.25 + 0.3125; G: 0.5 * mean(0.25, 4) = 1.0625.
    assert float(zoo.least_squares_discriminator_loss(real, fake)) == pytest.approx(0.5625)
    assert float(zoo.least_squares_generator_loss(fake)) == pytest.approx(1.0625)


def test_wasserstein_gradient_penalty_by_hand():
    # Per-sample norms 5 (a 3-4-0 gradient) and 1: weight * mean((5 - 1)^2, 0) = 10 * 8.
    gradients = np.array([[[3.0], [4.0]], [[0.0], [1.0]]], "float32")
    assert float(zoo.wasserstein_gradient_penalty(gradients)) == pytest.approx(80.0, rel=1e-5)
    assert float(zoo.wasserstein_gradient_penalty(gradients, weight=1.0)) == pytest.approx(8.0, rel=1e-5)


def test_wasserstein_gradient_penalty_and_its_gradient_are_finite_where_the_critic_is_flat():
    import tensorflow as tf

    gradients = tf.zeros((3, 4, 4, 1))
    with tf.GradientTape() as tape:
        tape.watch(gradients)
        penalty = zoo.wasserstein_gradient_penalty(gradients)
    slope = tape.gradient(penalty, gradients)
    assert float(penalty) == pytest.approx(10.0, rel=1e-4)  # (0 - 1)^2 per sample
    assert np.isfinite(slope.numpy()).all()


def test_r1_penalty_by_hand():
    gradients = np.array([[3.0, 4.0], [0.0, 1.0]], "float32")  # squared norms 25 and 1
    assert float(zoo.r1_penalty(gradients, gamma=2.0)) == pytest.approx(13.0)  # 2 / 2 * mean(25, 1)


def test_auxiliary_classifier_loss_is_the_cross_entropy_of_the_class_head():
    class_logits = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]], "float32"))
    expected = -(math.log(0.5) + math.log(0.8)) / 2
    assert float(zoo.auxiliary_classifier_loss(np.array([0, 2]), class_logits)) == pytest.approx(expected, rel=1e-5)


def test_continuous_code_loss_is_half_the_squared_error_per_sample():
    codes = np.array([[1.0, -1.0], [0.5, 0.0]], "float32")
    means = np.array([[0.0, -1.0], [0.5, 2.0]], "float32")
    expected = (0.5 * (1.0 + 0.0) + 0.5 * (0.0 + 4.0)) / 2  # 0.5 * ||c - mu||^2, averaged over the 2 samples
    assert float(zoo.continuous_code_loss(codes, means)) == pytest.approx(expected)


def test_every_named_loss_pairs_a_discriminator_and_a_generator_loss():
    assert sorted(zoo.LOSSES) == ["hinge", "least_squares", "minimax", "non_saturating", "wasserstein", "wasserstein_gp"]
    real, fake = np.array([0.3], "float32"), np.array([-0.2], "float32")
    for discriminator_loss, generator_loss in zoo.LOSSES.values():
        assert np.isfinite(float(discriminator_loss(real, fake))) and np.isfinite(float(generator_loss(fake)))
