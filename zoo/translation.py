"""Image-to-image networks (pix2pix's U-Net and PatchGAN, CycleGAN's ResNet generator) and the layers they need.

Written from the papers' reference code (junyanz/pytorch-CycleGAN-and-pix2pix, `models/networks.py`), layer for
layer: the same kernels, strides, paddings, widths, normalisations and biases, so that a torch checkpoint's
weights would compute the same function here. torch pads explicitly (`padding=1`); Keras's "same" padding puts
the odd pixel on the other side, so convolutions here pad explicitly too.

Images are (H, W, C) in [-1, 1]. The generators are fully convolutional: they accept any height and width that
is a multiple of their `size_multiple`, which is what lets the exported ONNX file take any such size.
"""

import math

import keras
import numpy as np
from keras import layers, ops

from zoo import distribute, gradients, random_states
from zoo.layers import Conv2D, Conv2DTranspose

NORMALIZATIONS = ("batch", "instance")


def _init():
    """The reference code's `init_type="normal"`: weights from N(0, 0.02)."""
    return keras.initializers.RandomNormal(stddev=0.02)


def _norm_init():
    """BatchNorm's scale from N(1, 0.02), its offset 0 (the reference code's `init_weights`)."""
    return keras.initializers.RandomNormal(mean=1.0, stddev=0.02)


def _normalization(kind, name=None):
    if kind == "batch":
        # torch's BatchNorm2d: momentum 0.1 (Keras counts the other way), epsilon 1e-5.
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, gamma_initializer=_norm_init(), name=name)
    if kind == "instance":
        # The reference code's InstanceNorm2d has affine=False: no scale or offset of its own.
        return layers.GroupNormalization(groups=-1, epsilon=1e-5, center=False, scale=False, name=name)
    raise ValueError(f"Unknown normalization {kind!r}; choose one of {NORMALIZATIONS}.")


def _conv(filters, kernel_size, strides, padding, use_bias, name=None):
    """A convolution padded as torch's `padding=p` pads: p zeros on every side."""
    conv = Conv2D(filters, kernel_size, strides=strides, use_bias=use_bias, kernel_initializer=_init(), name=name)
    if not padding:
        return conv
    pad = layers.ZeroPadding2D(padding)
    return lambda h: conv(pad(h))


@keras.saving.register_keras_serializable(package="ganzoo")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads height and width by mirroring, as torch's `ReflectionPad2d` (CycleGAN pads this way to avoid
    border artifacts). ONNX: a `Pad` node in "reflect" mode.

    Args:
        padding: pixels added on each side of the height and the width.
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)

    def call(self, x):
        p = self.padding
        return ops.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        grow = lambda side: None if side is None else side + 2 * self.padding  # noqa: E731
        return (batch, grow(height), grow(width), channels)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


# --------------------------------------------------------------------------- pix2pix (Isola et al. 2017)


def unet_depth(image_size):
    """Stride-2 steps of the U-Net: down to 1x1, as the paper's 256 px network (8 steps); 32 px gets 5."""
    depth = int(round(math.log2(image_size)))
    if 2**depth != image_size or depth < 3:
        raise ValueError(f"the U-Net needs a power-of-two image side of at least 8, got {image_size}.")
    return depth


def unet_generator(image_shape, output_channels=None, filters=64, depth=None, dropout_layers=None, name="generator"):
    """Isola et al.'s U-Net ("unet_256"): encoder C64-C128-C256-C512-C512-..., decoder mirrored with skips.

    Every step is a 4x4 convolution of stride 2; the encoder's are LeakyReLU(0.2) then conv then BatchNorm
    (none on the first and the innermost), the decoder's ReLU then transposed conv then BatchNorm, then a skip
    connection to the encoder map of the same size; tanh out. Widths double from `filters` up to 8x. Dropout
    (0.5) follows the decoder's first layers after the innermost, and stays on at test time: it is the only
    noise pix2pix has (section 3.1: "we provide noise only in the form of dropout").

    Args:
        image_shape: (H, W, C) of the input images, H = W a power of two; the built model accepts any H and W
            that are multiples of 2**depth.
        output_channels: channels of the output images (default: the input's).
        filters: the first layer's width (the paper: 64).
        depth: stride-2 steps (default: down to a 1x1 map, log2(H): 8 at 256 px, 5 at 32 px).
        dropout_layers: decoder layers with dropout (default: depth - 5 as in the reference code, 3 at 256 px,
            but at least 1 so that smaller networks keep the paper's noise).
        name: the model's name.
    """
    height, width, channels = image_shape
    depth = unet_depth(height) if depth is None else int(depth)
    dropout_layers = max(1, depth - 5) if dropout_layers is None else int(dropout_layers)
    if dropout_layers > depth - 1:
        raise ValueError(f"dropout_layers must be at most depth - 1 = {depth - 1}, got {dropout_layers}.")
    output_channels = channels if output_channels is None else int(output_channels)
    widths = [filters * min(2**i, 8) for i in range(depth)]

    inputs = keras.Input((None, None, channels), name="images")
    h, skips = inputs, []
    for i, width in enumerate(widths):
        if i > 0:
            h = layers.LeakyReLU(negative_slope=0.2)(h)
        # BatchNorm follows every encoder conv but the first and the innermost; the reference code drops the
        # bias of all of them (`use_bias` is only for instance norm).
        h = _conv(width, 4, 2, 1, use_bias=False, name=f"down_{i}")(h)
        if 0 < i < depth - 1:
            h = _normalization("batch")(h)
        skips.append(h)
    skips.pop()  # the innermost map has no partner
    for i, width in enumerate(reversed(widths[:-1])):
        h = layers.ReLU()(h)
        h = Conv2DTranspose(
            width, 4, strides=2, padding="same", use_bias=False, kernel_initializer=_init(), name=f"up_{i}"
        )(h)
        h = _normalization("batch")(h)
        if 0 < i <= dropout_layers:
            h = layers.Dropout(0.5, name=f"noise_dropout_{i}")(h)
        h = layers.Concatenate()([skips.pop(), h])  # torch.cat([x, model(x)]): the skip first
    h = layers.ReLU()(h)
    h = Conv2DTranspose(
        output_channels, 4, strides=2, padding="same", kernel_initializer=_init(), name=f"up_{depth - 1}"
    )(h)
    outputs = layers.Activation("tanh", name="translated")(h)
    model = keras.Model(inputs, outputs, name=name)
    return model


def patch_discriminator(
    input_channels, patch_layers=3, filters=64, normalization="batch", conditional_channels=0, name="discriminator"
):
    """The PatchGAN ("basic", n_layers=3: 70x70 patches): C64-C128-C256-C512 then a 1-channel map of logits.

    4x4 convolutions padded by 1; the first `patch_layers` have stride 2, the last two stride 1; LeakyReLU(0.2);
    normalisation on all but the first (BatchNorm for pix2pix, instance norm for CycleGAN). Each output logit
    judges one patch (70x70 pixels with 3 layers, 34x34 with 2, 16x16 with 1); the loss averages them.

    Args:
        input_channels: channels of the judged image.
        patch_layers: stride-2 layers (the paper's 70x70 PatchGAN: 3).
        filters: the first layer's width.
        normalization: "batch" (pix2pix) or "instance" (CycleGAN).
        conditional_channels: channels of a condition image joined to the judged one (pix2pix's D sees the
            (input, output) pair); 0 for an unconditional D.
        name: the model's name.
    """
    use_bias = normalization == "instance"  # the reference code drops the bias before BatchNorm only
    images = keras.Input((None, None, input_channels), name="images")
    inputs = [images]
    h = images
    if conditional_channels:
        condition = keras.Input((None, None, conditional_channels), name="condition")
        inputs = [condition, images]
        h = layers.Concatenate()([condition, images])
    h = layers.LeakyReLU(negative_slope=0.2)(_conv(filters, 4, 2, 1, use_bias=True)(h))
    for i in range(1, patch_layers + 1):
        stride = 2 if i < patch_layers else 1
        h = _conv(filters * min(2**i, 8), 4, stride, 1, use_bias=use_bias)(h)
        h = layers.LeakyReLU(negative_slope=0.2)(_normalization(normalization)(h))
    logits = _conv(1, 4, 1, 1, use_bias=True, name="patch_logits")(h)
    return keras.Model(inputs if conditional_channels else images, logits, name=name)


def patch_layers_for(image_size):
    """PatchGAN depth that keeps the paper's patch-to-image ratio (70 px of 256) roughly: 3 at 256 px and above,
    2 at 128, 1 below (16x16 patches)."""
    return 3 if image_size >= 256 else 2 if image_size >= 128 else 1


# --------------------------------------------------------------------------- CycleGAN (Zhu et al. 2017)


def _residual_block(h, width, index):
    shortcut = h
    for j in range(2):
        h = ReflectionPadding2D(1)(h)
        h = Conv2D(width, 3, kernel_initializer=_init(), name=f"res_{index}_conv_{j}")(h)
        h = _normalization("instance")(h)
        if j == 0:
            h = layers.ReLU()(h)
    return layers.Add()([shortcut, h])


def resnet_blocks_for(image_size):
    """The paper's choice: 6 residual blocks for 128x128 images, 9 for 256x256 and above."""
    return 9 if image_size >= 256 else 6


def resnet_generator(image_shape, output_channels=None, filters=64, blocks=None, name="generator"):
    """Johnson et al.'s network as CycleGAN uses it: c7s1-64, d128, d256, R256 x blocks, u128, u64, c7s1-3.

    Reflection padding before the 7x7 and 3x3 convolutions, instance normalisation and ReLU after each but the
    last, two stride-2 downsamplings and two fractionally-strided upsamplings (3x3), tanh out.

    Args:
        image_shape: (H, W, C); the model accepts any H and W that are multiples of 4.
        output_channels: channels of the output images (default: the input's).
        filters: the first layer's width (the paper: 64).
        blocks: residual blocks (default: `resnet_blocks_for(H)`: 6 below 256 px, 9 from 256).
        name: the model's name.
    """
    height, _, channels = image_shape
    blocks = resnet_blocks_for(height) if blocks is None else int(blocks)
    output_channels = channels if output_channels is None else int(output_channels)
    inputs = keras.Input((None, None, channels), name="images")
    h = ReflectionPadding2D(3)(inputs)
    h = Conv2D(filters, 7, kernel_initializer=_init())(h)
    h = layers.ReLU()(_normalization("instance")(h))
    for i in (1, 2):
        h = _conv(filters * 2**i, 3, 2, 1, use_bias=True)(h)
        h = layers.ReLU()(_normalization("instance")(h))
    for index in range(blocks):
        h = _residual_block(h, filters * 4, index)
    for i in (1, 0):
        # torch's ConvTranspose2d(3, stride 2, padding 1, output_padding 1) keeps the full output from its second
        # row and column on; Keras's "same" would keep it from the first.
        h = Conv2DTranspose(filters * 2**i, 3, strides=2, padding="valid", kernel_initializer=_init())(h)
        h = layers.Cropping2D(((1, 0), (1, 0)))(h)
        h = layers.ReLU()(_normalization("instance")(h))
    h = ReflectionPadding2D(3)(h)
    h = Conv2D(output_channels, 7, kernel_initializer=_init())(h)
    outputs = layers.Activation("tanh", name="translated")(h)
    return keras.Model(inputs, outputs, name=name)


def size_multiple(generator):
    """The side every input must be a multiple of: 2 to the power of the generator's stride-2 steps.

    Args:
        generator: a functional model built by `unet_generator` or `resnet_generator`.
    """
    strided = [
        layer for layer in generator.layers
        if isinstance(layer, layers.Conv2D) and not isinstance(layer, layers.Conv2DTranspose) and layer.strides[0] == 2
    ]
    return 2 ** len(strided)


# --------------------------------------------------------------------------- the image history (Shrivastava et al. 2017)


@keras.saving.register_keras_serializable(package="ganzoo")
class ImageHistory(keras.layers.Layer):
    """A buffer of the last generated images, from which D also learns (CycleGAN keeps 50; Shrivastava et al. 2017).

    While the buffer is filling, each image goes in and comes back out. Once full, each image has even odds of
    coming back itself or of taking the place of a random stored image, which comes back instead (the
    reference code's `ImagePool.query`, image by image in batch order). The buffer and its count are
    non-trainable variables, so they are saved with the model and carried through a JAX step.

    Args:
        size: images kept (0: no history, images pass through).
        seed: seed of its own random draws.
    """

    def __init__(self, size=50, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if self.size:
            self.images = self.add_weight(
                shape=(self.size, *input_shape[1:]), initializer="zeros", trainable=False, name="images"
            )
            self.count = self.add_weight(shape=(), initializer="zeros", dtype="int32", trainable=False, name="count")

    def call(self, images):
        if not self.size:
            return images
        batch = ops.shape(images)[0]
        swap = keras.random.uniform((batch,), seed=self.seed_generator) > 0.5
        slots = ops.cast(
            keras.random.uniform((batch,), maxval=self.size, seed=self.seed_generator), "int32"
        )
        slots = ops.minimum(slots, self.size - 1)

        def one_image(i, state):
            stored, count, outputs = state
            image = images[i]
            filling = count < self.size
            slot = ops.where(filling, ops.minimum(count, self.size - 1), slots[i])
            previous = stored[slot]
            out = ops.where(ops.logical_and(ops.logical_not(filling), swap[i]), previous, image)
            stored = ops.where(
                ops.logical_or(filling, swap[i]),
                ops.scatter_update(stored, ops.reshape(slot, (1, 1)), image[None]),
                stored,
            )
            outputs = ops.scatter_update(outputs, ops.reshape(i, (1, 1)), out[None])
            return stored, count + ops.cast(filling, "int32"), outputs

        stored, count, outputs = ops.fori_loop(
            0, batch, one_image, (self.images.value, self.count.value, ops.zeros_like(images))
        )
        self.images.assign(stored)
        self.count.assign(count)
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "size": self.size, "seed": self.seed}


# --------------------------------------------------------------------------- what pix2pix and CycleGAN share


class TranslationGAN(keras.Model):
    """The base of the image-to-image GANs: two optimizers (one for the generators, one for the discriminators),
    a `train_step` written once for every backend, `translate`, and the saving of their random streams.

    A subclass sets `generators` and `discriminators` (lists of functional models), its `trackers`, and writes
    `_train_step(data)` as stateful Keras code that takes its gradients with `zoo.gradients.minimize`.

    Args:
        seed: the model's seed, recorded in its config (subclasses seed their own draws from it).
        **kwargs: `keras.Model` arguments (name, dtype).
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed

    # ----------------------------------------------------------------- compile

    def compile(self, d_optimizer=None, g_optimizer=None, jit_compile=False, **kwargs):
        """Set the two optimizers: one for every generator's weights, one for every discriminator's.

        Both default to the papers' Adam(2e-4, beta_1=0.5) at a constant rate; CycleGAN's linear decay over the
        second half of training is `ConstantThenLinearDecay` as the `learning_rate` of the optimizers given here
        (see `paper_optimizer`). `jit_compile` XLA-compiles the step on TensorFlow; JAX always compiles it and
        torch runs it eagerly, as `zoo.GAN.compile` does. Under the `mixed_float16` policy each optimizer is
        wrapped in a `LossScaleOptimizer`.
        """
        backend = keras.backend.backend()
        if backend == "jax":
            jit_compile = True
        elif backend == "torch":
            jit_compile = False
        super().compile(optimizer=None, jit_compile=jit_compile, **kwargs)
        self.d_optimizer = self._prepared(d_optimizer, self.discriminators)
        self.g_optimizer = self._prepared(g_optimizer, self.generators)
        if backend == "jax":
            self.optimizer = gradients.OptimizerPair(self.d_optimizer, self.g_optimizer)

    @staticmethod
    def _variables_of(networks):
        return [variable for network in networks for variable in network.trainable_variables]

    def _prepared(self, optimizer, networks):
        optimizer = paper_optimizer() if optimizer is None else keras.optimizers.get(optimizer)
        optimizer = distribute.loss_scaled(optimizer, *networks)
        optimizer.build(self._variables_of(networks))
        return optimizer

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "jit_compile": self.jit_compile,
        }

    def compile_from_config(self, config):
        config = dict(config)
        self.compile(
            d_optimizer=keras.saving.deserialize_keras_object(config.pop("d_optimizer")),
            g_optimizer=keras.saving.deserialize_keras_object(config.pop("g_optimizer")),
            **config,
        )

    @property
    def metrics(self):
        return list(self.trackers)

    @property
    def sampling_generator(self):
        """The generator a run folder saves as generator.keras and exports by default: the first (A -> B)."""
        return self.generators[0]

    # ----------------------------------------------------------------- training

    def train_step(self, *args):
        """One step, the same on every backend (JAX's trainer passes the state too: see `zoo.GAN.train_step`)."""
        if keras.backend.backend() == "jax":
            state, data = args
            return gradients.jax_train_step(self, state, self._train_step, data)
        (data,) = args
        return self._train_step(data)

    def _logs(self):
        return {tracker.name: tracker.result() for tracker in self.trackers}

    @staticmethod
    def _float32(x):
        """`x` (logits, images) in float32 for the losses: under a mixed policy the networks compute in 16 bits,
        and the losses (as `zoo.GAN`'s) are taken in float32."""
        return ops.cast(x, "float32")

    def _output(self, network, inputs):
        """`network`'s training-mode output on `inputs`, in float32 for the losses (see `_float32`)."""
        return self._float32(network(inputs, training=True))

    # ----------------------------------------------------------------- inference

    def translate(self, images, batch_size=64, generator=None):
        """Translated images as a float32 numpy array, in inference mode (dropout off, BatchNorm's moving
        statistics): what the exported ONNX file computes.

        Args:
            images: (N, H, W, C) in [-1, 1]; H and W multiples of the generator's `size_multiple`.
            batch_size: images per forward pass.
            generator: which generator (default: the model's first, A -> B).
        """
        generator = self.generators[0] if generator is None else generator
        images = np.asarray(images, dtype="float32")
        multiple = size_multiple(generator)
        if images.ndim != 4 or images.shape[1] % multiple or images.shape[2] % multiple:
            raise ValueError(
                f"images must be (N, H, W, C) with H and W multiples of {multiple}, got shape {images.shape}."
            )
        outputs = [
            keras.ops.convert_to_numpy(generator(images[i : i + batch_size], training=False))
            for i in range(0, len(images), batch_size)
        ]
        return np.concatenate(outputs).astype("float32")

    # ----------------------------------------------------------------- saving

    def _random_states(self):
        """{store key: SeedGenerator} of every layer that draws (Dropout, the image histories)."""
        return random_states.seed_generators_of([*self.generators, *self.discriminators, *self._histories()])

    def _histories(self):
        return []

    def save_own_variables(self, store):
        super().save_own_variables(store)
        random_states.save_random_states(store, self._random_states())  # see zoo.random_states: Keras does not

    def load_own_variables(self, store):
        super().load_own_variables(random_states.load_random_states(store, self._random_states()))


def paper_optimizer(learning_rate=2e-4):
    """Adam(2e-4, beta_1=0.5, beta_2=0.999), both papers' optimizer; `learning_rate` may be a schedule."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.5, beta_2=0.999)
