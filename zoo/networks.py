"""Generator and discriminator builders: functional Keras models, one pair per backbone.

Conventions every builder follows, so the GAN and the exporters can rely on them:
- generator inputs are named `z` and, for conditional models, `label` (int32, shape [batch]);
- discriminator inputs are the sample and, for conditional models, `label`; its output is one logit;
- the discriminator's penultimate representation is the layer named `features`
  (used by feature matching), and minibatch discrimination, when on, sits right after it;
- how a conditional discriminator uses the label (`conditioning`):
  "concat" (Mirza & Osindero 2014) joins a label embedding to its input; "projection" (Miyato &
  Koyama 2018) adds <embed(y), phi(x)> to the logit, phi being the features; "acgan" (Odena et al.
  2017) does not see the label but has a second output, `num_classes` class logits, named `classes`.
  The generator always joins a label embedding to z.
"""

import math

import keras
from keras import layers

from zoo.layers import LatentCode, MinibatchDiscrimination, Pack

LABEL_EMBEDDING_DIM = 50
CONDITIONINGS = ("concat", "projection", "acgan")


def checked_conditioning(conditioning, num_classes):
    """The conditioning a model with `num_classes` uses: None when unconditional, "concat" unless asked."""
    if num_classes is None:
        if conditioning is not None:
            raise ValueError(f"conditioning={conditioning!r} needs a conditional GAN (num_classes).")
        return None
    conditioning = "concat" if conditioning is None else conditioning
    if conditioning not in CONDITIONINGS:
        raise ValueError(f"Unknown conditioning {conditioning!r}; choose one of {CONDITIONINGS}.")
    return conditioning


def _label_input():
    return keras.Input(shape=(), dtype="int32", name="label")


def _generator_inputs(latent_dim, num_classes, latent_code=0):
    """The generator's inputs, and z joined with the label's embedding when it is conditional (or
    with InfoGAN's one-hot code read from z, when `latent_code` is K > 0)."""
    z = keras.Input(shape=(latent_dim,), name="z")
    if latent_code:
        return z, layers.Concatenate()([z, LatentCode(latent_code, name="latent_code")(z)])
    if num_classes is None:
        return z, z
    label = _label_input()
    return [z, label], layers.Concatenate()([z, layers.Embedding(num_classes, LABEL_EMBEDDING_DIM)(label)])


def _weight_layer(layer_class, *args, spectral_norm=False, name=None, **kwargs):
    """A `layer_class` layer, wrapped in spectral normalisation (Miyato et al. 2018) when asked: its kernel
    is divided by its largest singular value (one power iteration per training call), so each layer is
    1-Lipschitz. The wrapper takes the name, so `get_layer(name)` finds it either way."""
    if spectral_norm:
        return layers.SpectralNormalization(layer_class(*args, **kwargs), name=name)
    return layer_class(*args, name=name, **kwargs)


def _discriminator_inputs(data_shape, num_classes, conditioning):
    """The sample input, the label input (None when D does not see the label) and D's input list."""
    x = keras.Input(shape=tuple(data_shape), name="samples")
    if num_classes is None or conditioning == "acgan":
        return x, None, x
    label = _label_input()
    return x, label, [x, label]


def _discriminator_head(
    features, label, num_classes, conditioning, minibatch_kernels, minibatch_dim, spectral_norm, latent_code=0
):
    if minibatch_kernels:
        features = MinibatchDiscrimination(minibatch_kernels, minibatch_dim, name="minibatch")(features)
    logits = _weight_layer(layers.Dense, 1, spectral_norm=spectral_norm, name="logits")(features)
    if conditioning == "projection":
        embedded = layers.Embedding(num_classes, features.shape[-1], name="projection")(label)
        logits = layers.Add(name="projected_logits")([logits, layers.Dot(axes=1)([embedded, features])])
    if conditioning == "acgan":
        return [logits, _weight_layer(layers.Dense, num_classes, spectral_norm=spectral_norm, name="classes")(features)]
    if latent_code:  # InfoGAN's Q: reads the latent code back from D's features
        return [logits, _weight_layer(layers.Dense, latent_code, spectral_norm=spectral_norm, name="code")(features)]
    return logits


# --------------------------------------------------------------------------- MLP


def mlp_generator(
    data_shape,
    latent_dim,
    units=(256, 512, 1024),
    activation="relu",
    output_activation="tanh",
    num_classes=None,
    name="generator",
    latent_code=0,
):
    """z (and a label embedding) -> fully connected layers -> a sample of `data_shape`."""
    inputs, h = _generator_inputs(latent_dim, num_classes, latent_code)
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
    conditioning="concat",
    spectral_norm=False,
    name="discriminator",
    latent_code=0,
):
    """A sample (and a label) -> fully connected layers -> one logit (and class logits for "acgan").

    `dropout` after every hidden layer regularises D as in Goodfellow et al. 2014 (their D was trained
    with dropout); without it an MLP D on MNIST tends to overpower G, which then collapses.
    `pack` > 1 makes it a PacGAN discriminator: one logit per `pack` samples (see `Pack`).
    """
    x, label, inputs = _discriminator_inputs(data_shape, num_classes, conditioning)
    h = layers.Flatten()(x)
    if pack > 1:
        h = Pack(pack, name="pack")(h)
    if label is not None and conditioning == "concat":
        h = layers.Concatenate()([h, layers.Embedding(num_classes, LABEL_EMBEDDING_DIM)(label)])
    for i, width in enumerate(units):
        last = i == len(units) - 1
        name = "features" if last else None
        h = _weight_layer(layers.Dense, width, activation=activation, spectral_norm=spectral_norm, name=name)(h)
        if dropout:
            h = layers.Dropout(dropout)(h)
    if not units:
        h = layers.Identity(name="features")(h)
    outputs = _discriminator_head(
        h, label, num_classes, conditioning, minibatch_kernels, minibatch_dim, spectral_norm, latent_code
    )
    return keras.Model(inputs, outputs, name=name)


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


def dcgan_generator(image_shape, latent_dim, filters=64, num_classes=None, name="generator", latent_code=0):
    """Radford et al. 2015: project z, then fractionally-strided convolutions with BatchNorm and ReLU, tanh out.

    Widths halve as the maps double: for 28x28, 7x7x256 -> 7x7x128 -> 14x14x64 -> 28x28xC.
    """
    steps = dcgan_upsamplings(image_shape)
    side = image_shape[0] // 2**steps
    inputs, h = _generator_inputs(latent_dim, num_classes, latent_code)
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


NORMALIZATIONS = {"batch": layers.BatchNormalization, "layer": layers.LayerNormalization, None: None}


def dcgan_discriminator(
    image_shape,
    filters=64,
    num_classes=None,
    minibatch_kernels=0,
    minibatch_dim=5,
    conditioning="concat",
    spectral_norm=False,
    normalization="batch",
    name="discriminator",
    latent_code=0,
):
    """Radford et al. 2015: strided convolutions, LeakyReLU(0.2), BatchNorm on all but the first; no pooling.

    A "concat" conditional discriminator gets the label as an extra input channel (an embedding
    reshaped to H x W). `normalization` "layer" (or None) replaces the BatchNorm: a WGAN-GP critic
    must judge each sample on its own, since its penalty is per sample (Gulrajani et al. 2017, section 4).
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"Unknown normalization {normalization!r}; choose one of {tuple(NORMALIZATIONS)}.")
    steps = max(dcgan_upsamplings(image_shape), 2)
    height, width, _ = image_shape
    x, label, inputs = _discriminator_inputs(image_shape, num_classes, conditioning)
    h = x
    if label is not None and conditioning == "concat":
        plane = layers.Embedding(num_classes, height * width)(label)
        h = layers.Concatenate()([x, layers.Reshape((height, width, 1))(plane)])
    for i in range(steps):
        h = _weight_layer(
            layers.Conv2D, filters * 2**i, 5, strides=2, padding="same", kernel_initializer=_init(),
            spectral_norm=spectral_norm,
        )(h)
        if i > 0 and normalization is not None:
            h = NORMALIZATIONS[normalization]()(h)
        h = layers.LeakyReLU(negative_slope=0.2)(h)
    h = layers.Flatten(name="features")(h)
    outputs = _discriminator_head(
        h, label, num_classes, conditioning, minibatch_kernels, minibatch_dim, spectral_norm, latent_code
    )
    return keras.Model(inputs, outputs, name=name)
