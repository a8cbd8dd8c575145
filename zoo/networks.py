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

from zoo.layers import (
    CodeAndNoise, Conv2D, Conv2DTranspose, LatentCode, Maxout, MinibatchDiscrimination, Pack, WeightNormDense,
)

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


def _one_hot_label(num_classes, name):
    """The int label as a one-hot vector, as Mirza & Osindero fed it (a Dense layer on it is a per-class bias)."""
    label = _label_input()
    return label, layers.CategoryEncoding(num_classes, output_mode="one_hot", name=name)(label)


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
    features, label, num_classes, conditioning, minibatch_kernels, minibatch_dim, spectral_norm, latent_code=0,
    kernel_initializer="glorot_uniform",
):
    if minibatch_kernels:
        features = MinibatchDiscrimination(minibatch_kernels, minibatch_dim, name="minibatch")(features)
    dense = dict(spectral_norm=spectral_norm, kernel_initializer=kernel_initializer)
    logits = _weight_layer(layers.Dense, 1, name="logits", **dense)(features)
    if conditioning == "projection":
        embedded = layers.Embedding(num_classes, features.shape[-1], name="projection")(label)
        logits = layers.Add(name="projected_logits")([logits, layers.Dot(axes=1)([embedded, features])])
    if conditioning == "acgan":
        return [logits, _weight_layer(layers.Dense, num_classes, name="classes", **dense)(features)]
    if latent_code:  # InfoGAN's Q: reads the latent code back from D's features
        return [logits, _weight_layer(layers.Dense, latent_code, name="code", **dense)(features)]
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
    kernel_initializer="glorot_uniform",
):
    """z (and a label embedding) -> fully connected layers -> a sample of `data_shape`.

    `kernel_initializer`: any Keras initializer identifier for every Dense kernel (Mao et al.'s mixture code:
    orthogonal with gain 1.4)."""
    inputs, h = _generator_inputs(latent_dim, num_classes, latent_code)
    for width in units:
        h = layers.Dense(width, activation=activation, kernel_initializer=kernel_initializer)(h)
    h = layers.Dense(math.prod(data_shape), activation=output_activation, kernel_initializer=kernel_initializer)(h)
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
    kernel_initializer="glorot_uniform",
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
        h = _weight_layer(
            layers.Dense, width, activation=activation, spectral_norm=spectral_norm, name=name,
            kernel_initializer=kernel_initializer,
        )(h)
        if dropout:
            h = layers.Dropout(dropout)(h)
    if not units:
        h = layers.Identity(name="features")(h)
    outputs = _discriminator_head(
        h, label, num_classes, conditioning, minibatch_kernels, minibatch_dim, spectral_norm, latent_code,
        kernel_initializer,
    )
    return keras.Model(inputs, outputs, name=name)


# --------------------------------------------------------------------------- DCGAN


def _init():
    """Radford et al.: all weights from N(0, 0.02)."""
    return keras.initializers.RandomNormal(stddev=0.02)


def batch_norm(config=None, **keras_options):
    """A BatchNormalization layer: Keras's defaults, or a reference code's `config` (a dict): `epsilon`,
    `momentum` (of the moving averages) and `gamma_stddev` (gamma drawn from N(1, gamma_stddev); 0: ones).
    The epsilon is not cosmetic: Keras's 1e-3 leaves a layer whose pre-normalisation variance is near 1e-4
    (common at initialisation with N(0, 0.02) weights, and for good under WGAN's weight clipping) far below
    unit scale, where the papers' code (epsilon 1e-5 or 1e-8) normalised it."""
    config = dict(config or {})
    unknown = set(config) - {"epsilon", "momentum", "gamma_stddev"}
    if unknown:
        raise ValueError(f"batch_norm_config takes epsilon, momentum and gamma_stddev; got {sorted(unknown)}.")
    gamma_stddev = config.pop("gamma_stddev", 0.0)
    if gamma_stddev:
        keras_options["gamma_initializer"] = keras.initializers.RandomNormal(1.0, gamma_stddev)
    return layers.BatchNormalization(**config, **keras_options)


@keras.saving.register_keras_serializable(package="ganzoo")
class TflibHeUniform(keras.initializers.RandomUniform):
    """Gulrajani et al.'s tflib convolution weights (he_init): uniform with std sqrt(4 / (fan_in + fan_out)),
    where the strided side's fan is divided by stride^2 (fan_out of a strided convolution, fan_in of a
    transposed one). Keras kernels: (k, k, in, out) for Conv2D, (k, k, out, in) for Conv2DTranspose.

    Args:
        stride: the layer's stride.
        transposed: a Conv2DTranspose kernel.
        seed: as Keras's initializers.
    """

    def __init__(self, stride=2, transposed=False, seed=None, **unused):  # **unused: RandomUniform's config keys
        super().__init__(-1.0, 1.0, seed=seed)
        self.stride, self.transposed = int(stride), bool(transposed)

    def __call__(self, shape, dtype=None):
        area = shape[0] * shape[1]
        inputs, outputs = (shape[3], shape[2]) if self.transposed else (shape[2], shape[3])
        fan_in, fan_out = inputs * area, outputs * area
        if self.transposed:
            fan_in /= self.stride**2
        else:
            fan_out /= self.stride**2
        return super().__call__(shape, dtype=dtype) * (math.sqrt(3.0) * math.sqrt(4.0 / (fan_in + fan_out)))

    def get_config(self):
        return {**super().get_config(), "stride": self.stride, "transposed": self.transposed}


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


def dcgan_generator(
    image_shape, latent_dim, filters=64, num_classes=None, name="generator", latent_code=0, stride1_layers=0,
    batch_norm_config=None,
):
    """Radford et al. 2015: project z, then fractionally-strided convolutions with BatchNorm and ReLU, tanh out.

    Widths halve as the maps double and `filters` is the last hidden width: the paper's 64x64 generator
    (filters=128) is 4x4x1024 -> 8x8x512 -> 16x16x256 -> 32x32x128 -> 64x64xC; at 28x28 it is
    7x7x256 -> 14x14x128 -> 28x28xC. `stride1_layers` adds stride-1 transposed convolutions right after
    the projection (the zoo's earlier generator had one: 7x7x256 -> 7x7x128 -> 14x14x64 -> 28x28xC at
    filters=64), each doubling the projection's width. `batch_norm_config`: `batch_norm`'s (default Keras's).
    """
    steps = dcgan_upsamplings(image_shape)
    side = image_shape[0] // 2**steps
    inputs, h = _generator_inputs(latent_dim, num_classes, latent_code)
    width = filters * 2 ** (steps - 1 + int(stride1_layers))
    h = layers.Dense(side * side * width, use_bias=False, kernel_initializer=_init())(h)
    h = layers.Reshape((side, side, width))(h)
    h = layers.ReLU()(batch_norm(batch_norm_config)(h))
    strides = [1] * int(stride1_layers) + [2] * (steps - 1)
    for stride in strides:
        width //= 2
        h = Conv2DTranspose(
            width, 5, strides=stride, padding="same", use_bias=False, kernel_initializer=_init()
        )(h)
        h = layers.ReLU()(batch_norm(batch_norm_config)(h))
    images = Conv2DTranspose(
        image_shape[-1], 5, strides=2, padding="same", activation="tanh", kernel_initializer=_init(), name="samples"
    )(h)
    return keras.Model(inputs, images, name=name)


NORMALIZATIONS = {"batch": batch_norm, "layer": layers.LayerNormalization, None: None}


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
    batch_norm_config=None,
):
    """Radford et al. 2015: strided convolutions, LeakyReLU(0.2), BatchNorm on all but the first; no pooling.

    A "concat" conditional discriminator gets the label as an extra input channel (an embedding
    reshaped to H x W). `normalization` "layer" (or None) replaces the BatchNorm: a WGAN-GP critic
    must judge each sample on its own, since its penalty is per sample (Gulrajani et al. 2017, section 4).
    `batch_norm_config`: `batch_norm`'s (default Keras's).
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
            Conv2D, filters * 2**i, 5, strides=2, padding="same", kernel_initializer=_init(),
            spectral_norm=spectral_norm,
        )(h)
        if i > 0 and normalization == "batch":
            h = batch_norm(batch_norm_config)(h)
        elif i > 0 and normalization is not None:
            h = NORMALIZATIONS[normalization]()(h)
        h = layers.LeakyReLU(negative_slope=0.2)(h)
    h = layers.Flatten(name="features")(h)
    outputs = _discriminator_head(
        h, label, num_classes, conditioning, minibatch_kernels, minibatch_dim, spectral_norm, latent_code
    )
    return keras.Model(inputs, outputs, name=name)


# --------------------------------------------------------------------------- maxout MLPs (Goodfellow et al. 2014)
# The zoo's images live in [-1, 1]; these papers' networks saw pixels in [0, 1]. Their generator ends in
# the paper's sigmoid, then a fixed affine map to [-1, 1]; their discriminator starts with the inverse
# map, so each network computes what the paper's did on the paper's pixels (and dropout zeroes [0, 1] pixels).


def _uniform(init_range):
    """pylearn2's `irange`: weights from U(-r, r)."""
    return keras.initializers.RandomUniform(-init_range, init_range)


def maxout_generator(
    data_shape,
    latent_dim,
    units=(1200, 1200),
    num_classes=None,
    branch_units=None,
    dropout=0.0,
    init_range=0.05,
    noise_range=None,
    name="generator",
):
    """Goodfellow et al.'s MNIST generator: z -> ReLU layers -> sigmoid pixels (rescaled to [-1, 1]).

    Conditional (Mirza & Osindero 2014): z and the one-hot label each go through their own ReLU layer
    (`branch_units` = (z's width, the label's width), e.g. (200, 1000)), joined, then `units`.
    The sigmoid layer is named "sigmoid_output": its bias can start at the data's pixel marginals, as
    pylearn2's `init_sigmoid_bias_from_marginals` did (`GAN(output_bias_from_data=True)`).

    Args:
        data_shape: one sample's shape; images are flattened, so any size works.
        latent_dim: size of z.
        units: ReLU widths after the join.
        num_classes: classes of a conditional generator, None for unconditional.
        branch_units: (z branch, label branch) widths of a conditional generator; None: join z and
            the one-hot label directly.
        dropout: rate after every ReLU layer (Mirza & Osindero applied 0.5 to G as well).
        init_range: r of the U(-r, r) weight initialisation.
        noise_range: the paper's noise interval (low, high), onto which the zoo's U(-1, 1) z is mapped
            by a fixed layer: (-sqrt 3, sqrt 3) for Goodfellow et al., (0, 1) for Mirza & Osindero.
    """
    init = _uniform(init_range)

    def dense(h, width):
        h = layers.Dense(width, activation="relu", kernel_initializer=init)(h)
        return layers.Dropout(dropout)(h) if dropout else h

    z = keras.Input(shape=(latent_dim,), name="z")
    inputs = z
    h = noise = _noise_from_prior(z, noise_range)
    if num_classes is not None:
        label, one_hot = _one_hot_label(num_classes, "label_one_hot")
        inputs = [z, label]
        if branch_units:
            z_units, label_units = branch_units
            h = layers.Concatenate()([dense(noise, z_units), dense(one_hot, label_units)])
        else:
            h = layers.Concatenate()([noise, one_hot])
    for width in units:
        h = dense(h, width)
    h = layers.Dense(math.prod(data_shape), activation="sigmoid", kernel_initializer=init, name="sigmoid_output")(h)
    return keras.Model(inputs, _zoo_pixels(h, data_shape), name=name)


def maxout_discriminator(
    data_shape,
    units=(240, 240),
    pieces=(5, 5),
    num_classes=None,
    branch_units=None,
    branch_pieces=None,
    input_dropout=0.2,
    dropout=0.5,
    init_range=0.005,
    minibatch_kernels=0,
    minibatch_dim=5,
    name="discriminator",
):
    """Goodfellow et al.'s MNIST discriminator: maxout layers with dropout, one logit.

    Dropout as pylearn2's `include_prob`s: `input_dropout` on the pixels (keep 0.8), `dropout` on every
    maxout layer's output (keep 0.5), inverted (scaled at training time) as pylearn2 scaled it.
    Conditional (Mirza & Osindero 2014): the pixels and the one-hot label each go through their own
    maxout layer (`branch_units` (240, 50), `branch_pieces` (5, 5)), joined, then `units` / `pieces`
    ((240,), (4,)). The last maxout layer is named "features".

    Args:
        data_shape: one sample's shape (flattened).
        units, pieces: maxout widths and pieces after the join (or from the pixels when unconditional).
        num_classes: classes of a conditional discriminator, None for unconditional.
        branch_units, branch_pieces: (pixels, label) maxout widths and pieces of a conditional one.
        input_dropout: dropout rate on the pixels.
        dropout: dropout rate after every maxout layer.
        init_range: r of the U(-r, r) weight initialisation.
        minibatch_kernels, minibatch_dim: minibatch discrimination after "features" (0: off).
    """
    if len(units) != len(pieces) or not units:
        raise ValueError(f"units and pieces must be non-empty and of one length, got {units} and {pieces}.")
    init = _uniform(init_range)
    x = keras.Input(shape=tuple(data_shape), name="samples")
    inputs = x
    h = layers.Flatten()(_paper_pixels(x))
    if input_dropout:
        h = layers.Dropout(input_dropout)(h)

    def maxout(h, width, piece_count, layer_name=None):
        h = Maxout(width, piece_count, kernel_initializer=init, name=layer_name)(h)
        return h, (layers.Dropout(dropout)(h) if dropout else h)

    if num_classes is not None:
        label, one_hot = _one_hot_label(num_classes, "label_one_hot")
        inputs = [x, label]
        if branch_units:
            (x_units, label_units), (x_pieces, label_pieces) = branch_units, branch_pieces
            _, h = maxout(h, x_units, x_pieces)
            _, one_hot = maxout(one_hot, label_units, label_pieces)
        h = layers.Concatenate()([h, one_hot])
    for i, (width, piece_count) in enumerate(zip(units, pieces)):
        features, h = maxout(h, width, piece_count, "features" if i == len(units) - 1 else None)
    if minibatch_kernels:
        h = MinibatchDiscrimination(minibatch_kernels, minibatch_dim, name="minibatch")(h)
    logits = layers.Dense(1, kernel_initializer=init, name="logits")(h)
    return keras.Model(inputs, logits, name=name)


def _paper_pixels(x):
    """The zoo's [-1, 1] images as the [0, 1] pixels the papers' sigmoid-output models were trained on."""
    return layers.Rescaling(0.5, offset=0.5, name="to_unit_pixels")(x)


def _zoo_pixels(h, data_shape):
    """A sigmoid generator's [0, 1] output as the zoo's [-1, 1] images, the last layer "samples"."""
    if tuple(h.shape[1:]) != tuple(data_shape):
        h = layers.Reshape(tuple(data_shape))(h)
    return layers.Rescaling(2.0, offset=-1.0, name="samples")(h)


def _noise_from_prior(z, noise_range):
    """z ~ U(-1, 1) mapped onto the paper's own noise interval (low, high); None keeps it."""
    if noise_range is None:
        return z
    low, high = (float(v) for v in noise_range)
    return layers.Rescaling((high - low) / 2.0, offset=(high + low) / 2.0, name="paper_noise")(z)


def _side_over(image_shape, factor, family):
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[0] % factor:
        raise ValueError(
            f"the {family} networks need square images whose side is a multiple of {factor}, got {tuple(image_shape)}."
        )
    return image_shape[0] // factor


# --------------------------------------------------------------------------- Salimans et al. 2016 (improved-gan)


def improved_gan_generator(data_shape, latent_dim, units=(500, 500), weight_norm=False, batch_norm_config=None,
                           name="generator"):
    """Salimans et al.'s MNIST generator (openai/improved-gan, train_mnist_feature_matching.py): U(0, 1) noise ->
    dense 500 -> dense 500, each softplus(BatchNorm(Wx)) with the BatchNorm shifting only (their `nn.batch_norm`
    moves the layer's nonlinearity after the normalisation and drops its bias) -> sigmoid pixels.
    `weight_norm`: their output layer, weight-normalised with a trained scale from ones (`l2normalize`); else a
    plain Dense layer. `batch_norm_config`: `batch_norm`'s arguments (theirs: epsilon 1e-6, momentum 0.9)."""
    z = keras.Input(shape=(latent_dim,), name="z")
    h = _noise_from_prior(z, (0.0, 1.0))
    for width in units:
        h = layers.Dense(width, use_bias=False)(h)
        h = layers.Activation("softplus")(batch_norm(batch_norm_config, scale=False)(h))
    if weight_norm:
        h = WeightNormDense(math.prod(data_shape), "sigmoid", train_scale=True, data_init=False, name="sigmoid_output")(h)
    else:
        h = layers.Dense(math.prod(data_shape), activation="sigmoid", name="sigmoid_output")(h)
    return keras.Model(z, _zoo_pixels(h, data_shape), name=name)


def improved_gan_discriminator(
    data_shape, units=(1000, 500, 250, 250, 250), input_noise=0.3, hidden_noise=0.5, minibatch_kernels=100,
    minibatch_dim=5, weight_norm=False, name="discriminator",
):
    """Salimans et al.'s MNIST discriminator: Gaussian noise (std 0.3) on the [0, 1] pixels, then ReLU layers
    1000-500-250-250-250 each followed by Gaussian noise (std 0.5), minibatch discrimination (B kernels of
    dimension C) and one logit. `weight_norm`: their layers, weight-normalised with a data-based initialisation
    (`WeightNormDense`, the hidden layers' scales fixed by it and the logit's trained; their `MinibatchLayer`);
    `zoo.GAN.fit` runs the initialisation on the first 500 training samples. Else plain Dense layers."""
    x = keras.Input(shape=tuple(data_shape), name="samples")
    h = layers.GaussianNoise(input_noise)(layers.Flatten()(_paper_pixels(x)))
    for i, width in enumerate(units):
        name = "features" if i == len(units) - 1 else None
        h = (WeightNormDense(width, "relu", name=name) if weight_norm else layers.Dense(width, activation="relu", name=name))(h)
        h = layers.GaussianNoise(hidden_noise)(h)
    if minibatch_kernels:
        h = MinibatchDiscrimination(minibatch_kernels, minibatch_dim, weight_norm=weight_norm, name="minibatch")(h)
    logits = WeightNormDense(1, train_scale=True, name="logits") if weight_norm else layers.Dense(1, name="logits")
    return keras.Model(x, logits(h), name=name)


# --------------------------------------------------------------------------- InfoGAN (Chen et al. 2016) and LSGAN (Mao et al. 2017)
# Both papers' smallest networks are one shape: fully connected layers into a 1/4-size map, two stride-2
# transposed convolutions to sigmoid pixels; D two stride-2 convolutions and a fully connected layer.


def conv_fc_generator(
    data_shape, latent_dim, dense_units=(1024,), base_filters=128, filters=(64,), kernel_size=4, latent_code=0,
    batch_norm_config=None, name="generator",
):
    """z -> FC `dense_units` -> FC (side/4)^2 x `base_filters` -> transposed convolutions `filters` -> sigmoid,
    BatchNorm and ReLU after every hidden layer. InfoGAN's MNIST G: dense (1024,), base 128, filters (64,),
    kernel 4, with its latent codes read from z (`CodeAndNoise`); LSGAN's (mcgan.py): dense (), base 128,
    filters (128,), kernel 5. `batch_norm_config`: `batch_norm`'s arguments (default Keras's)."""
    side = _side_over(data_shape, 2 ** (len(filters) + 1), "InfoGAN/LSGAN")
    z = keras.Input(shape=(latent_dim,), name="z")
    h = CodeAndNoise(latent_code, name="latent_code")(z) if latent_code else z
    for width in dense_units:
        h = layers.ReLU()(batch_norm(batch_norm_config)(layers.Dense(width, use_bias=False, kernel_initializer=_init())(h)))
    h = layers.Dense(side * side * base_filters, use_bias=False, kernel_initializer=_init())(h)
    h = layers.ReLU()(batch_norm(batch_norm_config)(h))
    h = layers.Reshape((side, side, base_filters))(h)
    for width in filters:
        h = Conv2DTranspose(width, kernel_size, strides=2, padding="same", use_bias=False, kernel_initializer=_init())(h)
        h = layers.ReLU()(batch_norm(batch_norm_config)(h))
    h = Conv2DTranspose(
        data_shape[-1], kernel_size, strides=2, padding="same", activation="sigmoid", kernel_initializer=_init(),
        name="sigmoid_output",
    )(h)
    return keras.Model(z, _zoo_pixels(h, data_shape), name=name)


def conv_fc_discriminator(
    data_shape, filters=(64, 128), dense_units=1024, kernel_size=4, negative_slope=0.01, code_units=0,
    code_hidden=128, minibatch_kernels=0, minibatch_dim=5, batch_norm_config=None, truncated_conv_init=False,
    name="discriminator",
):
    """[0, 1] pixels -> stride-2 convolutions `filters` (BatchNorm from the second) -> FC `dense_units` with
    BatchNorm ("features") -> one logit, LeakyReLU(`negative_slope`) throughout. `code_units` > 0 adds
    InfoGAN's Q head on the features: FC `code_hidden` with BatchNorm -> `code_units` outputs (the
    categorical code's logits, then the continuous codes' means), named "code". `batch_norm_config`:
    `batch_norm`'s arguments (default Keras's); `truncated_conv_init`: the convolutions' N(0, 0.02) truncated at
    2 std, as InfoGAN's and LSGAN's TensorFlow code drew them."""
    x = keras.Input(shape=tuple(data_shape), name="samples")
    h = _paper_pixels(x)
    for i, width in enumerate(filters):
        init = keras.initializers.TruncatedNormal(stddev=0.02) if truncated_conv_init else _init()
        h = Conv2D(width, kernel_size, strides=2, padding="same", use_bias=i == 0, kernel_initializer=init)(h)
        h = layers.LeakyReLU(negative_slope)(batch_norm(batch_norm_config)(h) if i else h)
    h = layers.Dense(dense_units, use_bias=False, kernel_initializer=_init())(layers.Flatten()(h))
    features = layers.LeakyReLU(negative_slope, name="features")(batch_norm(batch_norm_config)(h))
    h = features
    if minibatch_kernels:
        h = MinibatchDiscrimination(minibatch_kernels, minibatch_dim, name="minibatch")(h)
    logits = layers.Dense(1, kernel_initializer=_init(), name="logits")(h)
    if not code_units:
        return keras.Model(x, logits, name=name)
    q = layers.Dense(code_hidden, use_bias=False, kernel_initializer=_init())(features)
    q = layers.LeakyReLU(negative_slope)(batch_norm(batch_norm_config)(q))
    return keras.Model(x, [logits, layers.Dense(code_units, kernel_initializer=_init(), name="code")(q)], name=name)


# --------------------------------------------------------------------------- AC-GAN (Odena et al. 2017)
# The paper's networks are for CIFAR-10 and ImageNet; on MNIST the reference everyone names is the Keras
# example (keras-team/keras examples/mnist_acgan.py, later version), built here.


def acgan_generator(data_shape, latent_dim, num_classes, name="generator"):
    """z * Embedding(label) -> Dense (side/4 - 4)^2 x 384 -> transposed convolutions 192 (5x5 valid), 96 and C
    (5x5, stride 2), ReLU then BatchNorm, tanh out; glorot-normal weights (3x3 -> 7 -> 14 -> 28 at 28x28)."""
    side = _side_over(data_shape, 4, "AC-GAN") - 4
    if side < 1:
        raise ValueError(f"the AC-GAN networks need images of at least 20x20, got {tuple(data_shape)}.")
    z, label = keras.Input(shape=(latent_dim,), name="z"), _label_input()
    embedded = layers.Embedding(num_classes, latent_dim, embeddings_initializer="glorot_normal")(label)
    h = layers.Dense(side * side * 384, activation="relu")(layers.Multiply()([z, embedded]))
    h = layers.Reshape((side, side, 384))(h)
    h = Conv2DTranspose(192, 5, padding="valid", activation="relu", kernel_initializer="glorot_normal")(h)
    h = layers.BatchNormalization()(h)
    h = Conv2DTranspose(96, 5, strides=2, padding="same", activation="relu", kernel_initializer="glorot_normal")(h)
    h = layers.BatchNormalization()(h)
    images = Conv2DTranspose(
        data_shape[-1], 5, strides=2, padding="same", activation="tanh", kernel_initializer="glorot_normal", name="samples"
    )(h)
    return keras.Model([z, label], images, name=name)


def acgan_discriminator(data_shape, num_classes, dropout=0.3, name="discriminator"):
    """3x3 convolutions 32 (stride 2), 64, 128 (stride 2), 256, each LeakyReLU(0.2) and dropout 0.3 ->
    a real/fake logit and `num_classes` class logits (the auxiliary classifier)."""
    x = keras.Input(shape=tuple(data_shape), name="samples")
    h = x
    for width, stride in ((32, 2), (64, 1), (128, 2), (256, 1)):
        h = layers.Dropout(dropout)(layers.LeakyReLU(0.2)(Conv2D(width, 3, strides=stride, padding="same")(h)))
    features = layers.Flatten(name="features")(h)
    return keras.Model(x, [layers.Dense(1, name="logits")(features), layers.Dense(num_classes, name="classes")(features)],
                       name=name)


# --------------------------------------------------------------------------- WGAN-GP (Gulrajani et al. 2017), and WGAN on it


def wgan_gp_generator(data_shape, latent_dim, filters=64, with_batch_norm=False, batch_norm_config=None,
                      name="generator"):
    """Gulrajani et al.'s MNIST generator (gan_mnist.py): z -> 4x4x(4 filters) -> 5x5 transposed convolutions
    2 filters (cropped to side/4: 8 -> 7 at 28x28), filters, C -> sigmoid, with tflib's weights (glorot dense,
    `TflibHeUniform` convolutions). BatchNorm only in its WGAN mode (`with_batch_norm`; `batch_norm_config`:
    `batch_norm`'s, tflib's epsilon is 1e-5)."""
    quarter = _side_over(data_shape, 4, "WGAN-GP")
    start = -(-quarter // 2)

    def normalised(h):
        return batch_norm(batch_norm_config)(h) if with_batch_norm else h

    def upsampling(width, **options):
        return Conv2DTranspose(
            width, 5, strides=2, padding="same", kernel_initializer=TflibHeUniform(2, transposed=True), **options
        )

    z = keras.Input(shape=(latent_dim,), name="z")
    h = layers.ReLU()(normalised(layers.Dense(start * start * 4 * filters)(z)))
    h = layers.Reshape((start, start, 4 * filters))(h)
    h = layers.ReLU()(normalised(upsampling(2 * filters)(h)))
    if 2 * start != quarter:
        h = layers.Cropping2D(((0, 2 * start - quarter), (0, 2 * start - quarter)))(h)
    h = layers.ReLU()(normalised(upsampling(filters)(h)))
    h = upsampling(data_shape[-1], activation="sigmoid", name="sigmoid_output")(h)
    return keras.Model(z, _zoo_pixels(h, data_shape), name=name)


def wgan_gp_discriminator(data_shape, filters=64, with_batch_norm=False, batch_norm_config=None,
                          name="discriminator"):
    """Gulrajani et al.'s MNIST critic: [0, 1] pixels -> 5x5 stride-2 convolutions filters, 2, 4 filters
    (`TflibHeUniform`) with LeakyReLU(0.2) (BatchNorm on the last two only in WGAN mode) -> one linear output."""
    x = keras.Input(shape=tuple(data_shape), name="samples")
    h = _paper_pixels(x)
    for i, width in enumerate((filters, 2 * filters, 4 * filters)):
        h = Conv2D(width, 5, strides=2, padding="same", kernel_initializer=TflibHeUniform(2))(h)
        h = layers.LeakyReLU(0.2)(batch_norm(batch_norm_config)(h) if with_batch_norm and i else h)
    return keras.Model(x, layers.Dense(1, name="logits")(layers.Flatten(name="features")(h)), name=name)
