"""GAN losses on discriminator logits, named after what they compute (TF-GAN's convention).

Every loss takes raw logits, never probabilities, so log D and log(1 - D) are computed as
softplus terms that stay finite when D saturates. Each returns the mean over the local batch;
`GAN.train_step` rescales for distribution strategies.
"""

from keras import ops


def value_function(real_logits, fake_logits):
    """V(D, G) = E log D(x) + E log(1 - D(G(z))) (Goodfellow et al. 2014, eq. 1)."""
    return -ops.mean(ops.softplus(-real_logits)) - ops.mean(ops.softplus(fake_logits))


def minimax_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """-V(D, G), which D minimises; with one-sided label smoothing the real target is 1 - s.

    Only real labels are smoothed (Salimans et al. 2016, section 3.4): smoothing fake labels
    would reward the generator for staying where there is no data.
    """
    real_target = 1.0 - label_smoothing
    real_term = real_target * ops.softplus(-real_logits) + (1.0 - real_target) * ops.softplus(real_logits)
    return ops.mean(real_term) + ops.mean(ops.softplus(fake_logits))


def minimax_generator_loss(fake_logits):
    """E log(1 - D(G(z))): the generator's side of the paper's minimax game; saturates early on."""
    return -ops.mean(ops.softplus(fake_logits))


def non_saturating_generator_loss(fake_logits):
    """-E log D(G(z)): same fixed point as the minimax loss, strong gradients early (Goodfellow et al., section 3)."""
    return ops.mean(ops.softplus(-fake_logits))


def feature_matching_loss(real_features, fake_features):
    """||E f(x) - E f(G(z))||^2 over an intermediate discriminator layer f (Salimans et al. 2016, section 3.1)."""
    difference = ops.mean(real_features, axis=0) - ops.mean(fake_features, axis=0)
    return ops.sum(ops.square(difference))


GENERATOR_LOSSES = {
    "non_saturating": non_saturating_generator_loss,
    "minimax": minimax_generator_loss,
}
