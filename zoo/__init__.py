"""GAN Zoo models: Keras 3 GANs trained with `model.fit`.

    import zoo
    gan = zoo.create("dcgan", data_shape=(28, 28, 1))
    gan.compile()
    gan.fit(dataset, epochs=5)
    images = gan.generate(16, seed=0)
"""

from zoo.augment import diff_augment, parse_policy
from zoo.distribute import float32_copy, mixed_precision, set_mixed_precision, synchronize_batch_norm
from zoo.gan import GAN, PRIORS
from zoo import optimizers
from zoo.layers import CodeAndNoise, LatentCode, Maxout, MinibatchDiscrimination, Pack
from zoo.losses import (
    LOSSES,
    auxiliary_classifier_loss,
    continuous_code_loss,
    feature_matching_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    minimax_discriminator_loss,
    minimax_generator_loss,
    non_saturating_generator_loss,
    r1_penalty,
    value_function,
    wasserstein_discriminator_loss,
    wasserstein_generator_loss,
    wasserstein_gradient_penalty,
)
from zoo.optimizers import FlooredExponentialDecay, ScheduledMomentumSGD
from zoo.presets import available, build_gan, create, describe
from zoo.pretrained import load_pretrained, pretrained

__all__ = [
    "GAN",
    "LOSSES",
    "PRIORS",
    "CodeAndNoise",
    "FlooredExponentialDecay",
    "LatentCode",
    "Maxout",
    "MinibatchDiscrimination",
    "Pack",
    "ScheduledMomentumSGD",
    "auxiliary_classifier_loss",
    "available",
    "build_gan",
    "continuous_code_loss",
    "create",
    "describe",
    "diff_augment",
    "feature_matching_loss",
    "float32_copy",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "load_pretrained",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "mixed_precision",
    "non_saturating_generator_loss",
    "optimizers",
    "parse_policy",
    "pretrained",
    "r1_penalty",
    "set_mixed_precision",
    "synchronize_batch_norm",
    "value_function",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
    "wasserstein_gradient_penalty",
]
