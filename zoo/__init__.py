"""GAN Zoo models: Keras 3 GANs trained with `model.fit`.

    import zoo
    gan = zoo.create("dcgan", data_shape=(28, 28, 1))
    gan.compile()
    gan.fit(dataset, epochs=5)
    images = gan.generate(16, seed=0)
"""

from zoo.augment import diff_augment, parse_policy
from zoo.cyclegan import CycleGAN
from zoo.distribute import (
    computes_in_16_bits,
    float32_copy,
    mixed_precision,
    mixed_precision_policy,
    set_mixed_precision,
    synchronize_batch_norm,
)
from zoo.gan import GAN, PRIORS
from zoo import optimizers
from zoo.layers import CodeAndNoise, Conv2D, Conv2DTranspose, LatentCode, Maxout, MinibatchDiscrimination, Pack, WeightNormDense
from zoo.losses import (
    LOSSES,
    auxiliary_classifier_loss,
    continuous_code_loss,
    feature_matching_loss,
    hinge_discriminator_loss,
    l1_distance,
    least_squares_loss,
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
from zoo.networks import TflibHeUniform
from zoo.optimizers import ConstantThenLinearDecay, FlooredExponentialDecay, ScheduledMomentumSGD, TF1RMSprop
from zoo.pix2pix import Pix2Pix
from zoo.presets import TRANSLATORS, available, build_gan, create, create_translator, describe
from zoo.pretrained import load_pretrained, pretrained
from zoo.translation import (
    ImageHistory,
    ReflectionPadding2D,
    TranslationGAN,
    patch_discriminator,
    resnet_generator,
    size_multiple,
    unet_generator,
)

__all__ = [
    "GAN",
    "ConstantThenLinearDecay",
    "CycleGAN",
    "ImageHistory",
    "Pix2Pix",
    "ReflectionPadding2D",
    "TRANSLATORS",
    "TranslationGAN",
    "create_translator",
    "l1_distance",
    "least_squares_loss",
    "patch_discriminator",
    "resnet_generator",
    "size_multiple",
    "unet_generator",
    "LOSSES",
    "PRIORS",
    "CodeAndNoise",
    "Conv2D",
    "Conv2DTranspose",
    "FlooredExponentialDecay",
    "LatentCode",
    "Maxout",
    "MinibatchDiscrimination",
    "Pack",
    "ScheduledMomentumSGD",
    "TF1RMSprop",
    "TflibHeUniform",
    "WeightNormDense",
    "auxiliary_classifier_loss",
    "available",
    "build_gan",
    "computes_in_16_bits",
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
    "mixed_precision_policy",
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
