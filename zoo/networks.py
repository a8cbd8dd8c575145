"""Generator and discriminator builders: functional Keras models, one pair per backbone.

Conventions every builder follows, so the GAN and the exporters can rely on them:
- generator inputs are named `z` and, for conditional models, `label` (int32, shape [batch]);
- discriminator inputs are the sample and, for conditional models, `label`; its output is one logit;
- the discriminator's penultimate representation is the layer named `features`
  (used by feature matching), and minibatch discrimination, when on, sits right after it.
"""

import math

import keras
from keras import layers

from zoo.layers import MinibatchDiscrimination, Pack

LABEL_EMBEDDING_DIM = 50


def _label_input():
    return keras.Input(shape=(), dtype="int32", name="label")


def _generator_inputs(latent_dim, num_classes):
    """The generator's inputs, and z joined with the label's embedding when it is conditional."""
    z = keras.Input(shape=(latent_dim,), name="z")
    if num_classes is None:
        return z, z
    label = _label_input()
    return [z, label], layers.Concatenate()([z, layers.Embedding(num_classes, LABEL_EMBEDDING_DIM)(label)])


def _discriminator_head(features, minibatch_kernels, minibatch_dim):
    if minibatch_kernels:
        features = MinibatchDiscrimination(minibatch_kernels, minibatch_dim, name="minibatch")(features)
    return layers.Dense(1, name="logits")(features)


# --------------------------------------------------------------------------- MLP


def mlp_generator(
    data_shape,
    latent_dim,
    units=(256, 512, 1024),
    activation="relu",
    output_activation="tanh",
    num_classes=None,
    name="generator",
):
    """z (and a label embedding) -> fully connected layers -> a sample of `data_shape`."""
    inputs, h = _generator_inputs(latent_dim, num_classes)
    for width in units:
        h = layers.Dense(width, activation=activation)(h)
    h = layers.Dense(math.prod(data_shape), activation=output_activation)(h)
    samples = layers.Reshape(tuple(data_shape), name="samples")(h)
    return keras.Model(inputs, samples, name=name)


def mlp_discriminator(
    data_shape,
    units=(1024, 512, 256),
    activation="relu",
    num_classes=None,
    minibatch_kernels=0,
    minibatch_dim=5,
    dropout=0.0,
    pack=1,
    name="discriminator",
):
    """A sample (and a label embedding) -> fully connected layers -> one logit.

    `dropout` after every hidden layer regularises D as in Goodfellow et al. 2014 (their D was trained
    with dropout); without it an MLP D on MNIST tends to overpower G, which then collapses.
    `pack` > 1 makes it a PacGAN discriminator: one logit per `pack` samples (see `Pack`).
    """
    x = keras.Input(shape=tuple(data_shape), name="samples")
    inputs = [x]
    h = layers.Flatten()(x)
    if pack > 1:
        h = Pack(pack, name="pack")(h)
    if num_classes is not None:
        label = _label_input()
        inputs.append(label)
        h = layers.Concatenate()([h, layers.Embedding(num_classes, LABEL_EMBEDDING_DIM)(label)])
    for i, width in enumerate(units):
        last = i == len(units) - 1
        h = layers.Dense(width, activation=activation, name="features" if last else None)(h)
        if dropout:
            h = layers.Dropout(dropout)(h)
    if not units:
        h = layers.Identity(name="features")(h)
    logits = _discriminator_head(h, minibatch_kernels, minibatch_dim)
    return keras.Model(inputs if num_classes is not None else x, logits, name=name)


# --------------------------------------------------------------------------- DCGAN


def _init():
    """Radford et al.: all weights from N(0, 0.02)."""
    return keras.initializers.RandomNormal(stddev=0.02)


def dcgan_upsamplings(image_shape):
    """How many stride-2 layers take the DCGAN from its first feature map to `image_shape`.

    The side is halved while it stays even and at least 4 (64 -> 4 in four steps, 28 -> 7 in two,
    8 -> 4 in one). Raises ValueError for shapes the architecture cannot produce.
    """
    if len(image_shape) != 3:
        raise ValueError(f"the DCGAN needs images of shape (H, W, C), got {tuple(image_shape)}.")
    height, width, channels = image_shape
    if height != width:
        raise ValueError(f"the DCGAN needs square images, got {height}x{width}.")
    side, steps = height, 0
    while side % 2 == 0 and side // 2 >= 4 and steps < 4:
        side //= 2
        steps += 1
    if steps == 0:
        raise ValueError(
            f"the DCGAN cannot build {height}x{width} images: the side must be s * 2^k "
            "with s >= 4 and k >= 1 (e.g. 8, 28, 32, 64)."
        )
    return steps


def dcgan_generator(image_shape, latent_dim, filters=64, num_classes=None, name="generator"):
    """Radford et al. 2015: project z, then fractionally-strided convolutions with BatchNorm and ReLU, tanh out.

    Widths halve as the maps double: for 28x28, 7x7x256 -> 7x7x128 -> 14x14x64 -> 28x28xC.
    """
    steps = dcgan_upsamplings(image_shape)
    side = image_shape[0] // 2**steps
    inputs, h = _generator_inputs(latent_dim, num_classes)
    width = filters * 2**steps
    h = layers.Dense(side * side * width, use_bias=False, kernel_initializer=_init())(h)
    h = layers.Reshape((side, side, width))(h)
    h = layers.ReLU()(layers.BatchNormalization()(h))
    strides = [1] + [2] * (steps - 1)
    for stride in strides:
        width //= 2
        h = layers.Conv2DTranspose(
            width, 5, strides=stride, padding="same", use_bias=False, kernel_initializer=_init()
        )(h)
        h = layers.ReLU()(layers.BatchNormalization()(h))
    images = layers.Conv2DTranspose(
        image_shape[-1], 5, strides=2, padding="same", activation="tanh", kernel_initializer=_init(), name="samples"
    )(h)
    return keras.Model(inputs, images, name=name)


def dcgan_discriminator(
    image_shape, filters=64, num_classes=None, minibatch_kernels=0, minibatch_dim=5, name="discriminator"
):
    """Radford et al. 2015: strided convolutions, LeakyReLU(0.2), BatchNorm on all but the first; no pooling.

    A conditional discriminator gets the label as an extra input channel (an embedding reshaped to H x W).
    """
    steps = max(dcgan_upsamplings(image_shape), 2)
    height, width, _ = image_shape
    x = keras.Input(shape=tuple(image_shape), name="samples")
    inputs = [x]
    h = x
    if num_classes is not None:
        label = _label_input()
        inputs.append(label)
        plane = layers.Embedding(num_classes, height * width)(label)
        h = layers.Concatenate()([x, layers.Reshape((height, width, 1))(plane)])
    for i in range(steps):
        h = layers.Conv2D(filters * 2**i, 5, strides=2, padding="same", kernel_initializer=_init())(h)
        if i > 0:
            h = layers.BatchNormalization()(h)
        h = layers.LeakyReLU(negative_slope=0.2)(h)
    h = layers.Flatten(name="features")(h)
    logits = _discriminator_head(h, minibatch_kernels, minibatch_dim)
    return keras.Model(inputs if num_classes is not None else x, logits, name=name)
