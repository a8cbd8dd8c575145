"""GAN losses on discriminator logits, named after what they compute (TF-GAN's convention).

Every loss takes raw logits, never probabilities, so log D and log(1 - D) are computed as
softplus terms that stay finite when D saturates. Each returns the mean over the local batch;
`GAN.train_step` rescales for distribution strategies. `LOSSES` pairs each discriminator loss
with its generator loss under the name `zoo.create(..., loss=NAME)` takes.
"""

from keras import ops


def value_function(real_logits, fake_logits):
    """V(D, G) = E log D(x) + E log(1 - D(G(z))) (Goodfellow et al. 2014, eq. 1).

    Args:
        real_logits: D's raw logits on real samples, shape (batch,) or (batch, 1).
        fake_logits: D's raw logits on generated samples, same shape as `real_logits`.
    """
    return -ops.mean(ops.softplus(-real_logits)) - ops.mean(ops.softplus(fake_logits))


def minimax_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """-V(D, G), which D minimises; with one-sided label smoothing the real target is 1 - s.

    Only real labels are smoothed (Salimans et al. 2016, section 3.4): smoothing fake labels
    would reward the generator for staying where there is no data.

    Args:
        real_logits: D's raw logits on real samples, shape (batch,) or (batch, 1).
        fake_logits: D's raw logits on generated samples, same shape as `real_logits`.
        label_smoothing: s in [0, 1), one-sided: the real target becomes 1 - s; fakes keep target 0.
    """
    real_target = 1.0 - label_smoothing
    real_term = real_target * ops.softplus(-real_logits) + (1.0 - real_target) * ops.softplus(real_logits)
    return ops.mean(real_term) + ops.mean(ops.softplus(fake_logits))


def minimax_generator_loss(fake_logits):
    """E log(1 - D(G(z))): the generator's side of the paper's minimax game; saturates early on.

    Args:
        fake_logits: D's raw logits on generated samples, shape (batch,) or (batch, 1).
    """
    return -ops.mean(ops.softplus(fake_logits))


def non_saturating_generator_loss(fake_logits):
    """-E log D(G(z)): same fixed point as the minimax loss, strong gradients early (Goodfellow et al., section 3).

    Args:
        fake_logits: D's raw logits on generated samples, shape (batch,) or (batch, 1).
    """
    return ops.mean(ops.softplus(-fake_logits))


def hinge_discriminator_loss(real_logits, fake_logits):
    """E relu(1 - D(x)) + E relu(1 + D(G(z))) (Lim & Ye 2017): no reward for being surer than a margin of 1.

    Args:
        real_logits: D's raw logits on real samples, shape (batch,) or (batch, 1).
        fake_logits: D's raw logits on generated samples, same shape as `real_logits`.
    """
    return ops.mean(ops.relu(1.0 - real_logits)) + ops.mean(ops.relu(1.0 + fake_logits))


def wasserstein_discriminator_loss(real_logits, fake_logits):
    """E D(G(z)) - E D(x): the critic's estimate of minus the Wasserstein-1 distance (Arjovsky et al. 2017).

    Args:
        real_logits: D's raw logits on real samples, shape (batch,) or (batch, 1).
        fake_logits: D's raw logits on generated samples, same shape as `real_logits`.
    """
    return ops.mean(fake_logits) - ops.mean(real_logits)


def wasserstein_generator_loss(fake_logits):
    """-E D(G(z)): G moves its samples up the critic's slope (Arjovsky et al. 2017).

    Args:
        fake_logits: D's raw logits on generated samples, shape (batch,) or (batch, 1).
    """
    return -ops.mean(fake_logits)


def hinge_generator_loss(fake_logits):
    """-E D(G(z)) (Lim & Ye 2017): G's side of the hinge game is the Wasserstein generator loss.

    Args:
        fake_logits: D's raw logits on generated samples, shape (batch,) or (batch, 1).
    """
    return wasserstein_generator_loss(fake_logits)


def _squared_norms(gradients):
    """||g||^2 of each sample's gradient (first axis: the batch)."""
    return ops.sum(ops.square(ops.reshape(gradients, (ops.shape(gradients)[0], -1))), axis=-1)


def wasserstein_gradient_penalty(gradients, weight=10.0, epsilon=1e-10):
    """weight * E (||grad D(x_hat)|| - 1)^2 over interpolates x_hat (WGAN-GP, Gulrajani et al. 2017, eq. 3).

    `gradients` are D's input gradients, one row per sample. The norm is sqrt(sum g^2 + epsilon),
    whose own gradient stays finite where D is flat (a bare norm's is 0/0 there).

    Args:
        gradients: D's gradients at the interpolates, one row per sample, shape (batch, ...).
        weight: lambda, the penalty's weight (non-negative; the paper's 10).
        epsilon: small positive constant added under the square root of each squared norm.
    """
    return weight * ops.mean(ops.square(ops.sqrt(_squared_norms(gradients) + epsilon) - 1.0))


def r1_penalty(gradients, gamma):
    """gamma / 2 * E ||grad D(x)||^2 on real data (R1, Mescheder et al. 2018, eq. 9): D stays flat on the data.

    Args:
        gradients: D's gradients with respect to its real inputs, one row per sample, shape (batch, ...).
        gamma: the penalty's weight (non-negative); the loss is gamma / 2 times the mean squared norm.
    """
    return 0.5 * gamma * ops.mean(_squared_norms(gradients))


def least_squares_discriminator_loss(real_logits, fake_logits):
    """1/2 E (D(x) - 1)^2 + 1/2 E D(G(z))^2 (LSGAN, Mao et al. 2017, targets a = 0, b = 1).

    Args:
        real_logits: D's raw logits on real samples, shape (batch,) or (batch, 1).
        fake_logits: D's raw logits on generated samples, same shape as `real_logits`.
    """
    return 0.5 * ops.mean(ops.square(real_logits - 1.0)) + 0.5 * ops.mean(ops.square(fake_logits))


def least_squares_generator_loss(fake_logits):
    """1/2 E (D(G(z)) - 1)^2 (LSGAN, Mao et al. 2017, target c = 1).

    Args:
        fake_logits: D's raw logits on generated samples, shape (batch,) or (batch, 1).
    """
    return 0.5 * ops.mean(ops.square(fake_logits - 1.0))


def auxiliary_classifier_loss(labels, class_logits):
    """Cross-entropy of the discriminator's class head against the labels (AC-GAN, Odena et al. 2017, eq. 2).

    Args:
        labels: integer class indices in [0, num_classes), shape (batch,).
        class_logits: the class head's raw logits (not probabilities), shape (batch, num_classes).
    """
    return ops.mean(ops.sparse_categorical_crossentropy(labels, class_logits, from_logits=True))


def continuous_code_loss(codes, predicted_means):
    """InfoGAN's continuous-code term (Chen et al. 2016): the negative log-likelihood of the codes under Q's
    unit-variance Gaussian, 0.5 * ||c - mu||^2 per sample (its constant dropped), averaged over the batch.

    Args:
        codes: the continuous codes G was given, shape (batch, C).
        predicted_means: Q's means for them, shape (batch, C).
    """
    return 0.5 * ops.mean(ops.sum(ops.square(codes - predicted_means), axis=-1))


def feature_matching_loss(real_features, fake_features):
    """||E f(x) - E f(G(z))||^2 over an intermediate discriminator layer f (Salimans et al. 2016, section 3.1).

    Args:
        real_features: f on real samples, shape (batch, features); averaged over axis 0.
        fake_features: f on generated samples, shape (batch', features); averaged over axis 0.
    """
    difference = ops.mean(real_features, axis=0) - ops.mean(fake_features, axis=0)
    return ops.sum(ops.square(difference))


def least_squares_loss(logits, target):
    """E (D(.) - target)^2: the mean squared error CycleGAN's code uses for every LSGAN term ("lsgan" GANLoss),
    D's real and fake terms each halved, G's term not.

    Args:
        logits: D's raw outputs, any shape (a PatchGAN's map of patch logits is averaged over all of it).
        target: the label, 1.0 for "real" and 0.0 for "fake".
    """
    return ops.mean(ops.square(logits - target))


def l1_distance(target, output):
    """E |target - output| over every pixel: pix2pix's L1 term (lambda 100) and CycleGAN's cycle and identity
    terms (lambda 10 and 5).

    Args:
        target: the images the output should equal, shape (batch, H, W, C).
        output: the network's images, same shape.
    """
    return ops.mean(ops.abs(target - output))


LOSSES = {
    # name: (discriminator loss, generator loss)
    "non_saturating": (minimax_discriminator_loss, non_saturating_generator_loss),
    "minimax": (minimax_discriminator_loss, minimax_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
    "wasserstein": (wasserstein_discriminator_loss, wasserstein_generator_loss),  # with weight clipping (WGAN)
    "wasserstein_gp": (wasserstein_discriminator_loss, wasserstein_generator_loss),
    "least_squares": (least_squares_discriminator_loss, least_squares_generator_loss),
}
CROSS_ENTROPY_LOSSES = ("non_saturating", "minimax")
"""The losses on D's probability, the only ones label smoothing applies to."""
WASSERSTEIN_LOSSES = ("wasserstein", "wasserstein_gp")
"""The critic losses, which train D 5 times per G step by default (Arjovsky et al.; Gulrajani et al.)."""
