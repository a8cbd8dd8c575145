"""GAN Zoo models: Keras 3 GANs trained with `model.fit`.

    import zoo
    gan = zoo.create("dcgan", data_shape=(28, 28, 1))
    gan.compile()
    gan.fit(dataset, epochs=5)
    images = gan.generate(16, seed=0)
"""

from zoo.distribute import float32_copy, mixed_precision, set_mixed_precision, synchronize_batch_norm
from zoo.gan import GAN, PRIORS
from zoo.layers import MinibatchDiscrimination, Pack
from zoo.losses import (
    feature_matching_loss,
    minimax_discriminator_loss,
    minimax_generator_loss,
    non_saturating_generator_loss,
    value_function,
)
from zoo.presets import available, build_gan, create

__all__ = [
    "GAN",
    "PRIORS",
    "MinibatchDiscrimination",
    "Pack",
    "available",
    "build_gan",
    "create",
    "feature_matching_loss",
    "float32_copy",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "mixed_precision",
    "non_saturating_generator_loss",
    "set_mixed_precision",
    "synchronize_batch_norm",
    "value_function",
]
